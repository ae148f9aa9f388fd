"""Grade a whole class: one private course copy and one worker process per student, several at once."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat

from autograder import collect, course, progress, repair, report, sandbox

EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")  # what `nbgrader collect` puts beside a notebook


def fingerprint(paths: list[Path], salt: str = "", root: Path | None = None) -> str:
    """A hash of file names (relative to root, if given) and contents: equal only for identical input."""
    digest = hashlib.sha256(salt.encode())
    for path in sorted(paths):
        name = path.relative_to(root).as_posix() if root else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def grading_files(repo: Path = course.REPO) -> list[Path]:
    """Every file of the course and the grader whose change can change a grade.

    solutions/ (the source notebooks with the hidden tests, as make_private_course copies them), the
    helper package the notebooks and the hidden tests import, the data it loads, nbgrader's configuration,
    and the grader's own sources.
    """
    solutions = repo / "solutions"
    files = [
        p for p in solutions.rglob("*") if not any(n.startswith(".") for n in p.relative_to(solutions).parts)
    ]
    files += (repo / "rectified").rglob("*.py")
    files += (repo / "data").glob("*")
    files += [p for p in (repo / "autograder").rglob("*.py") if p.name not in AFTER_GRADING]
    files += [repo / name for name in course.CONFIG_FILES]
    return sorted({p for p in files if p.is_file()})


# Modules that only read saved results and write the class's files (report.html, similarity.csv, the LMS
# grade files) or draw the progress bar: changing them changes no grade, so it does not make results stale.
AFTER_GRADING = {"class_report.py", "similarity.py", "lms_grades.py", "outputs.py", "progress.py"}


def grading_key(limits: sandbox.Limits, repo: Path = course.REPO) -> str:
    """What every saved result of a run depends on besides the submission: course, grader and limits.

    The kernels' user id is left out: it only says which parallel slot ran a notebook.
    """
    limits_used = {k: v for k, v in dataclasses.asdict(limits).items() if k != "user_id"}
    return fingerprint(grading_files(repo), json.dumps(limits_used, sort_keys=True), root=repo)


def submission_files(sub: collect.Submission) -> list[Path]:
    """The files of a submission that grading reads: its notebooks and nbgrader's exchange files."""
    return sub.notebooks + [sub.folder / name for name in EXCHANGE_FILES if (sub.folder / name).is_file()]


class UnknownSelection(ValueError):
    """A --regrade-student or --regrade-assignment that names nothing in the submissions."""


@dataclasses.dataclass(frozen=True)
class Regrade:
    """Which saved results a run ignores: all, or those of some students and/or assignments.

    With both students and assignments, only the pairs of a listed student and a listed assignment.
    """

    everything: bool = False
    students: tuple[str, ...] = ()
    assignments: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.everything or bool(self.students or self.assignments)

    def wanted(self, student_id: str, assignment: str) -> bool:
        """True when this (student, assignment) must be graded again whatever was saved."""
        if self.everything:
            return True
        if not (self.students or self.assignments):
            return False
        return (not self.students or student_id in self.students) and (
            not self.assignments or assignment in self.assignments
        )

    def check(self, found: list[collect.Submission]) -> None:
        """Raise UnknownSelection when a named student or assignment has no submission."""
        students = {s.student_id for s in found}
        submitted = {s.assignment for s in found}
        known = set(course.assignments())
        problems = [f"no student {s!r} in the submissions" for s in self.students if s not in students]
        for name in self.assignments:
            if name not in known:
                problems.append(
                    f"there is no assignment called {name!r} (the course has {', '.join(sorted(known))})"
                )
            elif name not in submitted:
                problems.append(f"no submission of assignment {name!r}")
        if problems:
            raise UnknownSelection("; ".join(problems))


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


def _prepare(sub: collect.Submission, dest: Path, cells: list[report.CellScore], fp: str):
    """Write the repaired notebooks into dest; return notes, or a final result when nothing can be graded."""
    repaired = repair.repair(sub.assignment, sub.notebooks)
    gradable = {name: r for name, r in repaired.items() if r.notebook is not None}
    if not gradable:
        first = next(iter(repaired.values()))
        return [], _blank(sub, first.status, "; ".join(r.problem for r in repaired.values()), cells, fp)
    dest.mkdir(parents=True)
    for kept in EXCHANGE_FILES:  # nbgrader's late penalties and release_feedback read these
        if (sub.folder / kept).is_file():
            shutil.copy2(sub.folder / kept, dest / kept)
    notes = []
    for name, fixed in repaired.items():
        if fixed.notebook is None:
            notes.append(fixed.problem)
        else:
            nbformat.write(fixed.notebook, dest / name)
            notes += fixed.notes
    return notes, None


def grade_student(
    student_id: str,
    subs: list[collect.Submission],
    template: Path,
    work: Path,
    out: Path,
    fingerprints: dict[str, str],
    cells: dict[str, list[report.CellScore]],
    worker: Worker,
) -> None:
    """Copy the template, add this student's repaired submissions, and have the worker grade them."""
    root = work / "students" / student_id
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)
    notes: dict[str, list[str]] = {}
    to_grade = []
    for sub in subs:
        dest = root / "submitted" / student_id / sub.assignment
        fp = fingerprints[sub.assignment]
        notes[sub.assignment], final = _prepare(sub, dest, cells[sub.assignment], fp)
        if final:
            report.save_result(work, final)
        else:
            to_grade.append(sub)
    trouble = ""
    if to_grade:
        trouble = worker.grade(
            root, student_id, [(s.assignment, fingerprints[s.assignment]) for s in to_grade]
        )
    for sub in to_grade:
        if report.load_result(work, student_id, sub.assignment) is None:
            report.save_result(work, report.Result(student_id, sub.assignment, "error", trouble, [], ""))
        feedback = root / "feedback" / student_id / sub.assignment
        if feedback.is_dir():
            dest = out / "feedback" / student_id / sub.assignment
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(feedback, dest)
        result = report.load_result(work, student_id, sub.assignment)
        if result and notes[sub.assignment]:
            result.message = "; ".join(filter(None, [result.message, *notes[sub.assignment]]))
            report.save_result(work, result)
    shutil.rmtree(root, ignore_errors=True)


class Worker:
    """A worker process that grades the students it is sent, one at a time (see autograder.worker)."""

    def __init__(self, work: Path, limits: sandbox.Limits, log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log
        self.limits = limits
        command = [
            course.PYTHON,
            "-m",
            "autograder.worker",
            str(work),
            json.dumps(dataclasses.asdict(limits)),
        ]
        with log.open("a") as stderr:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=work,
                env=course.nbgrader_env(),
                start_new_session=True,
            )

    def grade(self, root: Path, student_id: str, jobs: list[tuple[str, str]]) -> str:
        """Send one student and wait; return '' when done, or why the worker had to be stopped."""
        request = json.dumps({"root": str(root), "student": student_id, "jobs": jobs}) + "\n"
        timeout = (self.limits.notebook_seconds + 60) * len(jobs) + 60
        try:
            self.process.stdin.write(request.encode())
            self.process.stdin.flush()
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            reply = self.process.stdout.readline() if ready else b""
        except (BrokenPipeError, OSError):
            reply = b""
        if reply.strip() == b"done":
            return ""
        self.stop()
        if not ready:
            return "the grading of this student ran past its time limit"
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return f"the grader stopped unexpectedly ({lines[-1][:200] if lines else 'no message'})"

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the worker and everything it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        """Let the worker finish and exit."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.stop()


def _grade_in_slots(
    to_grade: list[tuple[str, list[collect.Submission], dict[str, str]]],
    template: Path,
    cells: dict[str, list[report.CellScore]],
    work: Path,
    out: Path,
    jobs: int,
    limits: sandbox.Limits,
) -> Iterator[tuple[str, list[collect.Submission]]]:
    """Grade each (student, submissions, fingerprints) on this machine, `jobs` at a time; yield each
    student once its results are saved."""
    # Each parallel slot runs its kernels as its own user, so one student's processes never count
    # against another's limit.
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(max(1, jobs)):
        slots.put(slot)

    workers: dict[int, Worker] = {}

    def graded_in_a_slot(student_id: str, subs: list[collect.Submission], fps: dict[str, str]) -> None:
        slot = slots.get()
        try:
            if slot not in workers or not workers[slot].alive:
                own = dataclasses.replace(limits, user_id=sandbox.FIRST_UID + slot)
                workers[slot] = Worker(work, own, work / "logs" / f"worker-{slot}.log")
            grade_student(student_id, subs, template, work, out, fps, cells, workers[slot])
        finally:
            slots.put(slot)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            started = {
                pool.submit(graded_in_a_slot, student_id, subs, fps): (student_id, subs)
                for student_id, subs, fps in to_grade
            }
            for future in as_completed(started):
                future.result()
                yield started[future]
    finally:
        for worker in workers.values():
            worker.close()


def grade(
    submissions: Path,
    out: Path,
    jobs: int,
    limits: sandbox.Limits,
    regrade: Regrade = Regrade(),
    scheduler: str | None = None,
) -> list[report.Result]:
    """Grade every submission under `submissions`, writing tables and feedback under `out`.

    A result saved in `out` by an earlier run is kept when its submission, the course, the grader and the
    limits are unchanged, unless `regrade` selects it. With `scheduler` (tcp://HOST:PORT), the students
    are graded on that Dask cluster (autograder.cluster) instead of `jobs` at a time on this machine.
    """
    found = collect.collect(submissions)
    regrade.check(found)  # before anything is written or graded
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    work.mkdir(exist_ok=True)
    lock = (work / "lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(
            f"error: another grading run is writing to {out}; wait for it or use another --out"
        ) from None
    template, cells = build_template(work)
    run_key = grading_key(limits)  # once per run: the course and grader files are the same for everyone

    results: dict[tuple[str, str], report.Result] = {}
    pending: dict[str, list[collect.Submission]] = defaultdict(list)
    fingerprints: dict[tuple[str, str], str] = {}
    for sub in found:
        key = (sub.student_id, sub.assignment)
        if sub.problem:
            results[key] = _blank(sub, "not-graded", sub.problem, cells.get(sub.assignment, []), "")
            continue
        fp = fingerprint(submission_files(sub), run_key)
        fingerprints[key] = fp
        saved = None if regrade.wanted(*key) else report.load_result(work, *key)
        if saved and saved.fingerprint == fp and saved.status != "error":
            results[key] = saved
        else:
            report.result_path(work, *key).unlink(missing_ok=True)
            pending[sub.student_id].append(sub)

    total = len(found)
    done = len(results)
    where = f"on the Dask cluster at {scheduler}" if scheduler else f"with {jobs} parallel jobs"
    print(f"Grading {total} submissions ({done} already done) {where}", file=sys.stderr)
    if not scheduler and not sandbox.bwrap_available():  # a cluster's workers say so for themselves
        print(
            "warning: bubblewrap (bwrap) is not available: notebooks run with resource limits but WITHOUT "
            "filesystem and network isolation (install Debian's 'bubblewrap' package)",
            file=sys.stderr,
        )
    to_grade = [
        (student_id, subs, {s.assignment: fingerprints[(student_id, s.assignment)] for s in subs})
        for student_id, subs in sorted(pending.items())
    ]
    if scheduler:
        from autograder import cluster  # distributed is imported only when a cluster grades

        finished = cluster.grade_on_cluster(
            scheduler, to_grade, limits, run_key, (template, cells), work, out
        )
    else:
        finished = _grade_in_slots(to_grade, template, cells, work, out, jobs, limits)
    bar = progress.Progress(total, done)
    for student_id, subs in finished:
        for sub in subs:
            result = report.load_result(work, student_id, sub.assignment)
            if not result.cells:
                result.cells = _blank(sub, "", "", cells[sub.assignment], "").cells
            results[(student_id, sub.assignment)] = result
            bar.finished(result)  # with the notebook's own time, result.seconds
    bar.close()
    ordered = [results[(s.student_id, s.assignment)] for s in found]
    report.write_tables(out, ordered)
    return ordered
