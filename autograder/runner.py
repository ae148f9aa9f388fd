"""Grade a whole class: one private course copy and one worker process per student, several at once."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder import collect, course, report, sandbox


def fingerprint(paths: list[Path], salt: str = "") -> str:
    """A hash of file names and contents: a result is reused only for identical input."""
    digest = hashlib.sha256(salt.encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_template(work: Path) -> tuple[Path, dict[str, list[report.CellScore]]]:
    """A course copy with its gradebook generated, and the test cells each assignment has."""
    from nbgrader.api import Gradebook

    from autograder.worker import expected_cells

    template = work / "template"
    shutil.rmtree(template, ignore_errors=True)
    course.make_private_course(template)
    with Gradebook(f"sqlite:///{template / 'gradebook.db'}", "rectified") as gradebook:
        cells = {a: expected_cells(gradebook, a) for a in course.assignments()}
    return template, cells


def _blank(sub: collect.Submission, status: str, message: str, cells: list[report.CellScore], fp: str):
    """A result with every test cell at 0."""
    zeroed = [report.CellScore(c.notebook, c.cell_id, 0.0, c.max_score) for c in cells]
    return report.Result(sub.student_id, sub.assignment, status, message, zeroed, fp)


def grade_student(
    student_id: str,
    subs: list[collect.Submission],
    template: Path,
    work: Path,
    out: Path,
    fingerprints: dict[str, str],
    limits: sandbox.Limits,
) -> None:
    """Copy the template, add this student's submissions, and run the worker on them in a sandbox."""
    root = work / "students" / student_id
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)
    for sub in subs:
        dest = root / "submitted" / student_id / sub.assignment
        dest.mkdir(parents=True)
        for path in sub.notebooks:
            shutil.copy2(path, dest / path.name)
    jobs = [f"{s.assignment}={fingerprints[s.assignment]}" for s in subs]
    command = [sys.executable, "-m", "autograder.worker", str(root), str(work), student_id]
    command += [json.dumps(dataclasses.asdict(limits)), *jobs]
    try:
        completed = sandbox.run(command, root, timeout=(limits.notebook_seconds + 60) * len(subs) + 60)
        trouble = completed.stderr[-2000:] if completed.returncode else ""
    except subprocess.TimeoutExpired:
        trouble = "the grading of this student ran past its time limit"
    for sub in subs:
        feedback = root / "feedback" / student_id / sub.assignment
        if feedback.is_dir():
            dest = out / "feedback" / student_id / sub.assignment
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(feedback, dest)
        if report.load_result(work, student_id, sub.assignment) is None:
            message = (
                trouble.strip().splitlines()[-1] if trouble.strip() else "the grader stopped unexpectedly"
            )
            report.save_result(work, report.Result(student_id, sub.assignment, "error", message, [], ""))
    shutil.rmtree(root, ignore_errors=True)


def grade(submissions: Path, out: Path, jobs: int, limits: sandbox.Limits) -> list[report.Result]:
    """Grade every submission under `submissions`, writing tables and feedback under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    found = collect.collect(submissions)
    template, cells = build_template(work)
    course_salt = fingerprint(list(course.SOLUTIONS.glob("*/*.ipynb")))

    results: dict[tuple[str, str], report.Result] = {}
    pending: dict[str, list[collect.Submission]] = defaultdict(list)
    fingerprints: dict[tuple[str, str], str] = {}
    for sub in found:
        key = (sub.student_id, sub.assignment)
        if sub.problem:
            results[key] = _blank(sub, "not-graded", sub.problem, cells.get(sub.assignment, []), "")
            continue
        fp = fingerprint(sub.notebooks, course_salt)
        fingerprints[key] = fp
        saved = report.load_result(work, *key)
        if saved and saved.fingerprint == fp and saved.status != "error":
            results[key] = saved
        else:
            report.result_path(work, *key).unlink(missing_ok=True)
            pending[sub.student_id].append(sub)

    total = len(found)
    done = len(results)
    print(f"Grading {total} submissions ({done} already done) with {jobs} parallel jobs", file=sys.stderr)
    if not sandbox.bwrap_available():
        print(
            "warning: bubblewrap (bwrap) is not available: notebooks run with resource limits but WITHOUT "
            "filesystem and network isolation (install Debian's 'bubblewrap' package)",
            file=sys.stderr,
        )
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        started = {}
        for student_id, subs in sorted(pending.items()):
            fps = {s.assignment: fingerprints[(student_id, s.assignment)] for s in subs}
            future = pool.submit(grade_student, student_id, subs, template, work, out, fps, limits)
            started[future] = (student_id, subs, time.monotonic())
        for future in as_completed(started):
            student_id, subs, t0 = started[future]
            future.result()
            for sub in subs:
                result = report.load_result(work, student_id, sub.assignment)
                if not result.cells:
                    result.cells = _blank(sub, "", "", cells[sub.assignment], "").cells
                results[(student_id, sub.assignment)] = result
                done += 1
                report.progress(done, total, result, (time.monotonic() - t0) / len(subs))
    ordered = [results[(s.student_id, s.assignment)] for s in found]
    report.write_tables(out, ordered)
    return ordered
