"""Student notebooks for the tests that play a student: blank as released, or finished.

A finished notebook is the released student notebook with each answer cell replaced by the solution's
answer cell of the same grade_id: what a student who solved everything hands in (checksums, locked cells
and visible tests exactly as released, no hidden tests).
"""

from __future__ import annotations

import nbformat

from autograder import course

PREFERRED = "01_activations"  # small and fast: the one the slow tests use when it exists


def small_assignment() -> str:
    """The assignment the slow end-to-end tests use: 01_activations, or the first one there is."""
    found = course.assignments()
    assert found, f"no assignment in {course.SOLUTIONS}: the end-to-end tests need at least one"
    return PREFERRED if PREFERRED in found else found[0]


def released(assignment: str, name: str | None = None) -> nbformat.NotebookNode:
    """The committed student notebook notebooks/<assignment>/<name>, as a student downloads it."""
    name = name or course.notebook_names(assignment)[0]
    path = course.RELEASE / assignment / name
    assert path.is_file(), f"{path} is missing: run `make notebooks`"
    return nbformat.read(path, as_version=4)


def answer_cells(assignment: str, name: str | None = None) -> dict[str, str]:
    """grade_id -> source of each answer cell of the solution notebook."""
    name = name or course.notebook_names(assignment)[0]
    nb = nbformat.read(course.SOLUTIONS / assignment / name, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def fill_answers(
    nb: nbformat.NotebookNode, assignment: str, name: str | None = None, only: set[str] | None = None
) -> nbformat.NotebookNode:
    """Write the solution's answers into a student notebook (all, or only the grade_ids in only)."""
    answers = answer_cells(assignment, name)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and (only is None or grade_id in only):
            cell.source = answers[grade_id]
    return nb


def finished(assignment: str, name: str | None = None, only: set[str] | None = None) -> nbformat.NotebookNode:
    """The released notebook with the solution's answers filled in (all, or only the grade_ids in only)."""
    return fill_answers(released(assignment, name), assignment, name, only)
