"""Run a solution notebook's test cells (hidden tests included) against any implementation.

Used by the graders' tests: each wrong implementation must make a test cell fail, and each
alternative correct style must pass it (../shared/GRADING.md, section 5). A test cell runs as the grading
command runs it: fixtures and probe in the notebook's namespace, then fixtures and judge in a fresh one that
sees nothing of the notebook but the report (autograder.judging).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from pathlib import Path

import nbformat

from autograder import judging
from rectified import harness

REPO = Path(__file__).resolve().parent.parent


@cache
def autograded_cell_sources(assignment: str) -> dict[str, str]:
    """grade_id -> full source of every autograded test cell in solutions/<assignment>/."""
    cells: dict[str, str] = {}
    for path in sorted((REPO / "solutions" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                cells[meta["grade_id"]] = cell.source
    return cells


@cache
def solution_namespace(assignment: str) -> dict[str, object]:
    """Globals after running every non-markdown cell of the solution up to the first test cell's imports.

    Only code cells marked as solutions or locked setup run here, so no experiment is executed.
    """
    namespace: dict[str, object] = {}
    for path in sorted((REPO / "solutions" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade_id") == "setup"):
                exec(compile(cell.source, f"<{assignment}:{meta['grade_id']}>", "exec"), namespace)
    return namespace


def run_test_cell(assignment: str, grade_id: str, **overrides: Callable) -> None:
    """Probe one test cell with the solution's globals, some names replaced, then judge; raises if it fails."""
    namespace = dict(solution_namespace(assignment))
    namespace.update(overrides)
    source = autograded_cell_sources(assignment)[grade_id]
    ast.parse(source)
    test = judging.split(source)
    harness.INBOX.pop(grade_id, None)
    exec(compile(test.kernel_source, f"<{assignment}:{grade_id} probe>", "exec"), namespace)
    report = harness.INBOX.pop(grade_id, None)
    verdict = judging.decide(test, grade_id, [report] if report is not None else [], None)
    if verdict.crashed:  # a judge must answer every value with a message, never with its own exception
        raise RuntimeError(f"the judge of {grade_id} crashed: {verdict.message}")
    if not verdict.passed:
        raise AssertionError(verdict.message)


def run_whole_cell(assignment: str, grade_id: str, **overrides: Callable) -> None:
    """Execute one test cell as plain nbgrader does: everything in the notebook's namespace."""
    namespace = dict(solution_namespace(assignment))
    namespace.update(overrides)
    source = autograded_cell_sources(assignment)[grade_id]
    exec(compile(source, f"<{assignment}:{grade_id}>", "exec"), namespace)


def run_visible_part(assignment: str, grade_id: str, **overrides: Callable) -> None:
    """Execute only the visible part of a test cell (what the student's copy holds); raises if it fails."""
    namespace = dict(solution_namespace(assignment))
    namespace.update(overrides)
    source = autograded_cell_sources(assignment)[grade_id].split("### BEGIN HIDDEN TESTS")[0]
    exec(compile(source, f"<{assignment}:{grade_id} visible part>", "exec"), namespace)


def passes(assignment: str, grade_id: str, **overrides: Callable) -> bool:
    """True when the test cell runs without raising; a broken harness (NameError, SyntaxError) raises."""
    if grade_id not in autograded_cell_sources(assignment):
        raise KeyError(f"{assignment} has no test cell {grade_id!r}")
    try:
        run_test_cell(assignment, grade_id, **overrides)
    except (NameError, SyntaxError, RuntimeError):
        raise
    except Exception:
        return False
    return True
