"""Rebuilding damaged submissions on the released notebook keeps exactly what the student wrote."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from autograder import course, repair

AID = "01_activations"
NAME = f"{AID}.ipynb"


@pytest.fixture(scope="module")
def solution() -> nbformat.NotebookNode:
    return nbformat.read(course.SOLUTIONS / AID / NAME, as_version=4)


@pytest.fixture(scope="module")
def released() -> nbformat.NotebookNode:
    return nbformat.read(course.RELEASE / AID / NAME, as_version=4)


def _answers(nb) -> dict[str, str]:
    return {c.metadata.nbgrader.grade_id: c.source for c in nb.cells if repair._meta(c).get("solution")}


def _graded(nb) -> list[str]:
    return [c.source for c in nb.cells if repair._meta(c).get("grade")]


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "is empty"),
        (b"<html>", "not JSON"),
        (b'{"a": 1}', "not a Jupyter notebook"),
        (b"[1, 2]", "not a"),
    ],
)
def test_unreadable_files_get_a_reason(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = tmp_path / NAME
    path.write_bytes(content)
    nb, problem = repair.read_notebook(path)
    assert nb is None and phrase in problem


def test_a_clean_submission_is_rebuilt_unchanged(solution, released) -> None:
    rebuilt, notes = repair.rebuild(released, solution)
    assert _answers(rebuilt) == _answers(solution)
    assert _graded(rebuilt) == _graded(released)
    assert len(rebuilt.cells) == len(released.cells) and notes == []


def test_answers_are_found_without_any_metadata(solution, released) -> None:
    stripped = copy.deepcopy(solution)
    for i, cell in enumerate(stripped.cells):
        cell.metadata, cell.id = {}, f"x{i}"
    rebuilt, _ = repair.rebuild(released, stripped)
    assert _answers(rebuilt) == _answers(solution)
    assert _graded(rebuilt) == _graded(released)


def test_student_cells_stay_after_the_cell_they_followed(solution, released) -> None:
    nb = copy.deepcopy(solution)
    first = next(i for i, c in enumerate(nb.cells) if repair._meta(c).get("solution"))
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell("helper = 42"))
    rebuilt, _ = repair.rebuild(released, nb)
    sources = [c.source for c in rebuilt.cells]
    at = sources.index("helper = 42")
    assert repair._meta(rebuilt.cells[at - 1]).get("solution")
    assert "nbgrader" not in rebuilt.cells[at].metadata


def test_a_duplicated_graded_cell_runs_as_plain_code(solution, released) -> None:
    nb = copy.deepcopy(solution)
    test_index = next(i for i, c in enumerate(nb.cells) if repair._meta(c).get("grade"))
    nb.cells.insert(test_index + 1, copy.deepcopy(nb.cells[test_index]))
    rebuilt, _ = repair.rebuild(released, nb)
    ids = [repair._meta(c).get("grade_id") for c in rebuilt.cells if repair._meta(c).get("grade_id")]
    assert len(ids) == len(set(ids))
    assert len(rebuilt.cells) == len(released.cells) + 1


def test_a_deleted_answer_is_graded_as_blank(solution, released) -> None:
    nb = copy.deepcopy(solution)
    gone = next(c for c in nb.cells if repair._meta(c).get("solution"))
    nb.cells.remove(gone)
    rebuilt, notes = repair.rebuild(released, nb)
    assert (
        _answers(rebuilt)[gone.metadata.nbgrader.grade_id]
        == _answers(released)[gone.metadata.nbgrader.grade_id]
    )
    assert any("missing" in n for n in notes)


def test_notebooks_are_attributed_to_their_assignment(solution) -> None:
    counts = repair.belongs_to(solution)
    assert max(counts, key=counts.get) == AID
    other = next(a for a in course.assignments() if a != AID)
    foreign = nbformat.read(course.SOLUTIONS / other / f"{other}.ipynb", as_version=4)
    assert repair.belongs_to(foreign)[AID] == 0


def test_repair_maps_a_renamed_file_and_refuses_another_assignment(tmp_path: Path, solution) -> None:
    renamed = tmp_path / "a" / "01_activations (1).ipynb"
    renamed.parent.mkdir()
    renamed.write_text(json.dumps(solution))
    (result,) = repair.repair(AID, [renamed]).values()
    assert result.notebook is not None and "was graded as" in result.notes[0]
    other = next(a for a in course.assignments() if a != AID)
    wrong = tmp_path / "b" / NAME
    wrong.parent.mkdir()
    wrong.write_bytes((course.SOLUTIONS / other / f"{other}.ipynb").read_bytes())
    (result,) = repair.repair(AID, [wrong]).values()
    assert result.notebook is None and result.status == "wrong-assignment" and other in result.problem
