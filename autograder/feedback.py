"""Feedback HTML that says which tests failed and why, without showing the hidden tests' source."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def redact_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace hidden test code by a note, and each test cell's traceback by its last line."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        cell.source = HIDDEN.sub("# (hidden tests are not shown)", cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                # IPython's traceback quotes the failing line, which may be a hidden test.
                message = ANSI.sub("", f"{output['ename']}: {output['evalue']}")
                output["traceback"] = [message]
    return nb


def redact(course_root: Path, student_id: str, assignment: str) -> None:
    """Redact the hidden tests in one student's autograded notebooks, before feedback is generated."""
    for path in (course_root / "autograded" / student_id / assignment).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nbformat.write(redact_hidden_tests(nb), path)
