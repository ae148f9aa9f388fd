"""Grade students in private course copies: `python -m autograder.worker WORK_DIR LIMITS_JSON`.

The grading command keeps one worker process per parallel slot and sends it one student at a time, as a
JSON line on stdin: {"root": course copy, "student": id, "jobs": [[assignment, fingerprint], ...]}. The
worker answers "done" on its own line when every result of that student is saved. Student code never runs
in this process (each notebook's kernel is sandboxed), and each assignment's result is saved as soon as it
is known, so a crash loses at most the assignment in hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import nbformat

from autograder import feedback, judging, report, sandbox

MAX_SKIPPED_CELLS = 3
MAX_ERRORS_SHOWN = 3  # cells that raised, named in the summary
SKIPPED = (
    "This cell stopped the Python kernel during grading (os._exit, a crash, forked processes, or too much "
    "memory), so it was skipped."
)

# What nbgrader's log says, the status it gets, and what the student should read instead.
EXPLANATIONS = [
    (
        r"DeadKernelError|Kernel died",
        "kernel-died",
        "the notebook's Python kernel died while its tests ran (a crash, os._exit, or running out of memory "
        "inside a graded function), so no test could be scored",
    ),
    (
        r"CellTimeoutError|Cell execution timed out",
        "timeout",
        "a cell ran past the time limit and was stopped",
    ),
    (
        r"SchemaTooOld|old version of the nbgrader metadata",
        "invalid-metadata",
        "a graded cell's nbgrader metadata was damaged",
    ),
    (r"MissingEntry|NoResultFound", "wrong-notebook", "the notebook does not match this assignment"),
]


def explain(log: str) -> tuple[str, str]:
    """A status and a sentence a student understands for an nbgrader failure log."""
    for pattern, status, message in EXPLANATIONS:
        if re.search(pattern, log):
            return status, message
    last = [line for line in log.strip().splitlines() if line.strip()]
    return "error", (f"grading failed: {last[-1].strip()[:200]}" if last else "grading failed")


def _api(course_root: Path, runtime: Path, limits: sandbox.Limits, session: judging.Session):
    """An NbGraderAPI bound to the course at course_root: the sandbox probes, this process judges."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CoalesceStreamsPreprocessor
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.Autograde.autograde_preprocessors = [
        judging.ProbeOnly(session),
        sandbox.SandboxedExecute,
        judging.JudgeCells(session),
        # How a cell's printing is cut into stream messages depends on timing: merged, the feedback is the
        # same on every run and machine (and LimitOutput's cut too).
        CoalesceStreamsPreprocessor,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.CoalesceStreamsPreprocessor.enabled = True  # nbconvert's preprocessors are off unless enabled
    config.Execute.timeout = limits.cell_seconds
    config.Execute.kernel_name = sandbox.KERNEL_NAME
    config.SandboxedExecute.notebook_seconds = limits.notebook_seconds
    config.SandboxedExecute.output_bytes = limits.output_bytes
    if sandbox.bwrap_available():
        config.KernelManager.transport = "ipc"  # the kernel has no network, not even loopback
        config.KernelManager.ip = str(runtime / "kernel")
    # One kernel at a time per worker; its connection file must be where the sandbox can read it.
    config.KernelManager.connection_file = str(runtime / "kernel.json")
    coursedir = CourseDirectory(config=config, root=str(course_root))
    return NbGraderAPI(coursedir=coursedir, config=config)


def expected_cells(gradebook, assignment: str) -> list[report.CellScore]:
    """Every autograded test cell of the assignment, scored 0."""
    cells = []
    for notebook in sorted(gradebook.find_assignment(assignment).notebooks, key=lambda n: n.name):
        for cell in notebook.grade_cells:
            if cell.cell_type == "code":
                cells.append(
                    report.CellScore(f"{notebook.name}.ipynb", cell.name, 0.0, float(cell.max_score))
                )
    return sorted(cells, key=lambda c: (c.notebook, c.cell_id))


def scored_cells(gradebook, assignment: str, student_id: str) -> tuple[list[report.CellScore], list[str]]:
    """Scores from the gradebook, and the test cells that nbgrader left ungraded."""
    cells = expected_cells(gradebook, assignment)
    ungraded = []
    for cell in cells:
        notebook = cell.notebook.removesuffix(".ipynb")
        try:
            grade = gradebook.find_grade(cell.cell_id, notebook, assignment, student_id)
        except Exception:
            ungraded.append(cell.cell_id)
            continue
        if grade.auto_score is None:
            ungraded.append(cell.cell_id)
        else:
            cell.score = float(grade.score)
    return cells, ungraded


def skip_cell(
    course_root: Path, student_id: str, assignment: str, notebook: str, index: int, session: judging.Session
) -> str | None:
    """Take a cell that killed the kernel out of the next try and say which; None when it can't.

    A student's cell is replaced by one that raises. A test cell keeps its place, but its probe does not
    run again and the cell scores 0; its verdict says why, so there is nothing to add ('').
    """
    path = course_root / "submitted" / student_id / assignment / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if not 0 <= index < len(nb.cells):
        return None
    cell = nb.cells[index]
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and cell.cell_type == "code":
        if meta.get("grade_id") in session.deadly:
            return None
        session.deadly.add(meta.get("grade_id"))
        return ""
    if meta.get("locked"):
        return None  # nbgrader would restore it
    first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
    cell.source = f"raise RuntimeError({SKIPPED!r})"
    nbformat.write(nb, path)
    return f"cell {index + 1} ({first!r}) stopped the Python kernel and was skipped"


def save_log(work: Path, student_id: str, assignment: str, log: str) -> None:
    """Keep nbgrader's log of a failed grading beside the results, for the instructor."""
    path = work / "logs" / student_id / f"{assignment}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(log)


def lost_points(cells: list[report.CellScore], session: judging.Session) -> list[str]:
    """One reason per test cell that lost points: its verdict's message, shortened (also kept in the cell)."""
    reasons = []
    for cell in cells:
        if cell.score >= cell.max_score:
            continue
        verdict = session.verdicts.get(cell.cell_id)
        why = verdict.message if verdict and not verdict.passed else "it was not graded"
        lost = report.number(cell.max_score - cell.score)
        reasons.append(f"{cell.cell_id} (-{lost}): {why[:240]}")
        cell.message = why[:240]  # kept per cell for report.html's common failures
    return reasons


def grade_assignment(
    api,
    session: judging.Session,
    course_root: Path,
    work: Path,
    student_id: str,
    assignment: str,
    fingerprint: str,
) -> report.Result:
    """Autograde one assignment, write its feedback, and return its result."""
    from nbgrader.api import Gradebook

    notes = []
    session.deadly.clear()
    for _ in range(MAX_SKIPPED_CELLS + 1):
        outcome = api.autograde(assignment, student_id, force=True, create=True)
        dead = sandbox.SandboxedExecute.dead_cell
        if outcome["success"] or dead is None:
            break
        notebook = sandbox.SandboxedExecute.notebook
        skipped = skip_cell(course_root, student_id, assignment, notebook, dead, session)
        if skipped is None:
            break
        if skipped:
            notes.append(skipped)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        if not outcome["success"]:
            log = outcome.get("error", "") + outcome.get("log", "")
            save_log(work, student_id, assignment, log)
            cells = expected_cells(gradebook, assignment)
            status, message = explain(log)
            message = "; ".join([*notes, message])
            return report.Result(student_id, assignment, status, message, cells, fingerprint)
        cells, ungraded = scored_cells(gradebook, assignment, student_id)
    log = outcome.get("log", "")
    if sandbox.SandboxedExecute.hit_notebook_limit:
        notes.append("the notebook ran past its total time limit; the cells after that point were stopped")
    elif re.search(r"CellTimeoutError|Cell execution timed out|Timeout waiting", log):
        notes.append("a cell ran past the time limit and was stopped")
    if ungraded:
        notes.append(f"test cells {', '.join(ungraded)} could not be graded and score 0")
    tampering = session.tampering
    status = "graded"
    if tampering:
        status = "tampered"
        notes.insert(0, "the hidden tests were interfered with: " + "; ".join(tampering))
    if session.errors:
        shown = session.errors[:MAX_ERRORS_SHOWN]
        more = len(session.errors) - len(shown)
        notes.append("; ".join(shown) + (f" (and {more} more cells that raised)" if more > 0 else ""))
    notes += lost_points(cells, session)
    feedback.redact(course_root, student_id, assignment)
    return report.Result(student_id, assignment, status, "; ".join(notes), cells, fingerprint)


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the grading command dies, so no orphan keeps writing results."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent was already gone
        sys.exit(1)


def grade_student(request: dict, work: Path, area: Path, limits: sandbox.Limits) -> None:
    """Grade every assignment of one student's course copy, then write all their feedback at once."""
    course_root, student_id = Path(request["root"]), request["student"]
    os.environ["JUPYTER_PATH"] = str(course_root / "jupyter")
    sandbox.fresh_area(area)
    # Each notebook's kernel is forked from one server per student, which imports the libraries once
    # (started first, so that its imports overlap nbgrader's set-up).
    server = sandbox.KernelServer(area, limits, sandbox.preloads([a for a, _ in request["jobs"]]))
    try:
        session = judging.Session(course_root)
        api = _api(course_root, area / "runtime", limits, session)
        for assignment, fingerprint in request["jobs"]:
            started = time.monotonic()  # this notebook's own time, kernel preparation included
            sandbox.prepare_kernel(course_root, area, assignment, limits, server)
            try:
                result = grade_assignment(
                    api, session, course_root, work, student_id, assignment, fingerprint
                )
            except Exception as error:  # a bug or a hostile notebook must not take the others down
                result = report.Result(student_id, assignment, *explain(repr(error)), [], fingerprint)
            result.seconds = round(time.monotonic() - started, 2)
            report.save_result(work, result)
    finally:
        server.stop()
    # One feedback run for all the student's assignments: nbgrader sets up its exporter once.
    api.generate_feedback("*", student_id, force=True)


def main(argv: list[str]) -> int:
    """Command line: WORK_DIR LIMITS_JSON; then one JSON request per line on stdin."""
    _die_with_parent()
    work, limits = Path(argv[0]), sandbox.Limits(**json.loads(argv[1]))
    # The protocol owns the real stdout; anything a library prints goes to stderr (the worker's log).
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    # The kernels' ZeroMQ sockets are files area/runtime/kernel-<n>-<channel>: keep their paths short.
    area = sandbox.short_tempdir("rectified-kernel-", len("/runtime/kernel-9999999-99"))
    os.environ["JUPYTER_RUNTIME_DIR"] = str(area / "runtime")
    try:
        for line in sys.stdin:
            if line.strip():
                grade_student(json.loads(line), work, area, limits)
                replies.write("done\n")
                replies.flush()
    finally:
        shutil.rmtree(area, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
