"""The worker's explanations of failures and its skipping of cells that kill the kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder import judging, worker


@pytest.mark.parametrize(
    ("log", "status"),
    [
        ("nbclient.exceptions.DeadKernelError: Kernel died", "kernel-died"),
        ("SchemaTooOld: notebook uses an old version of the nbgrader metadata", "invalid-metadata"),
        ("something nobody expected\nValueError: boom", "error"),
        ("", "error"),
    ],
)
def test_failures_are_explained(log: str, status: str) -> None:
    got, message = worker.explain(log)
    assert got == status and message
    if status == "error" and log:
        assert "ValueError: boom" in message


def _submitted(tmp_path: Path, cells: list) -> Path:
    path = tmp_path / "submitted" / "ann" / "a1" / "nb.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_a_student_cell_that_killed_the_kernel_is_replaced(tmp_path: Path) -> None:
    path = _submitted(
        tmp_path, [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("import os\nos._exit(1)")]
    )
    note = worker.skip_cell(tmp_path, "ann", "a1", "nb", 1, judging.Session(tmp_path))
    assert "cell 2" in note and "import os" in note
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source == "x = 1" and "RuntimeError" in cells[1].source


def test_a_test_cell_is_never_replaced_but_its_probe_is_not_run_again(tmp_path: Path) -> None:
    test = nbformat.v4.new_code_cell("assert f()")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "locked": True}
    path = _submitted(tmp_path, [test])
    session = judging.Session(tmp_path)
    assert worker.skip_cell(tmp_path, "ann", "a1", "nb", 0, session) == ""  # skipped: its verdict says why
    assert session.deadly == {"t"}
    assert worker.skip_cell(tmp_path, "ann", "a1", "nb", 0, session) is None  # it died again: give up
    assert worker.skip_cell(tmp_path, "ann", "a1", "nb", 5, session) is None
    assert nbformat.read(path, as_version=4).cells[0].source == "assert f()"
