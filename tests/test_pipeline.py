"""The nbgrader pipeline: lint, regeneration, solutions pass, released stubs fail cleanly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.validator import Validator
from traitlets.config import Config

from autograder import course, lint

ASSIGNMENTS = course.assignments()


def test_every_assignment_of_the_course_exists() -> None:
    expected = [
        "01_activations",
        "02_relu_family",
        "03_derivatives",
        "04_xor_bug",
        "05_vanishing_gradients",
        "06_dying_relu",
    ]
    missing = sorted(set(expected) - set(ASSIGNMENTS))
    assert not missing, f"solutions/ lacks {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_pass_lint(assignment: str) -> None:
    problems = [
        p for path in (course.SOLUTIONS / assignment).glob("*.ipynb") for p in lint.lint_notebook(path)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebooks_match_a_fresh_generation(assignment: str, private_course: Path) -> None:
    for name in course.notebook_names(assignment):
        committed = course.RELEASE / assignment / name
        fresh = private_course / "notebooks" / assignment / name
        assert committed.exists(), f"{committed} is missing: run `make notebooks`"
        assert committed.read_bytes() == fresh.read_bytes(), f"{committed} is stale: run `make notebooks`"


def _validator(**options: object) -> Validator:
    config = Config()
    config.Execute.timeout = 300
    for key, value in options.items():
        setattr(config.Validator, key, value)
    return Validator(config=config)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_passes_every_test_cell(assignment: str) -> None:
    for path in (course.SOLUTIONS / assignment).glob("*.ipynb"):
        result = _validator().validate(str(path))
        failed = [cell["source"][:200] for cell in result.get("failed", [])]
        assert not failed and not result.get("changed") and not result.get("type_changed"), failed or result


def _graded_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stub_fails_every_graded_cell_with_not_implemented(assignment: str, tmp_path: Path) -> None:
    for name in course.notebook_names(assignment):
        nb = nbformat.read(course.RELEASE / assignment / name, as_version=4)
        NotebookClient(
            nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
        for cell in _graded_cells(nb):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            grade_id = cell.metadata.nbgrader.grade_id
            assert errors, f"{name}: test cell {grade_id} passes on the blank stub"
            assert errors[0].ename == "NotImplementedError", (
                f"{name}: test cell {grade_id} fails on the stub with {errors[0].ename}, not NotImplementedError"
            )
