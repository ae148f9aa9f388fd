"""Run a solution notebook's test cells (hidden tests included) against any implementation.

Used by the graders' tests: each wrong implementation must make a test cell fail, and each
alternative correct style must pass it (../shared/GRADING.md, section 5).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


@cache
def test_cells(assignment: str) -> dict[str, str]:
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
    """Execute one test cell with the solution's globals, replacing some names; raises if it fails."""
    namespace = dict(solution_namespace(assignment))
    namespace.update(overrides)
    source = test_cells(assignment)[grade_id]
    ast.parse(source)
    exec(compile(source, f"<{assignment}:{grade_id}>", "exec"), namespace)


def passes(assignment: str, grade_id: str, **overrides: Callable) -> bool:
    """True when the test cell runs without raising; a broken harness (NameError, SyntaxError) raises."""
    if grade_id not in test_cells(assignment):
        raise KeyError(f"{assignment} has no test cell {grade_id!r}")
    try:
        run_test_cell(assignment, grade_id, **overrides)
    except (NameError, SyntaxError):
        raise
    except Exception:
        return False
    return True
