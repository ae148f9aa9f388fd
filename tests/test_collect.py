"""Finding submissions: every (student, assignment) folder is reported, with a reason when it cannot be graded."""

from __future__ import annotations

from pathlib import Path

from autograder.collect import collect

FIRST = "01_activations"


def _touch(path: Path, text: str = "{}") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_each_student_and_assignment_is_found_once(tmp_path: Path) -> None:
    _touch(tmp_path / "bob" / FIRST / "a.ipynb")
    _touch(tmp_path / "alice" / FIRST / "a.ipynb")
    _touch(tmp_path / "alice" / FIRST / "timestamp.txt", "2026-01-01")
    found = collect(tmp_path)
    assert [(s.student_id, s.assignment) for s in found] == [("alice", FIRST), ("bob", FIRST)]
    assert [p.name for p in found[0].notebooks] == ["a.ipynb"]
    assert all(not s.problem for s in found)


def test_unknown_assignment_and_empty_folder_get_a_reason(tmp_path: Path) -> None:
    _touch(tmp_path / "carol" / "99_nope" / "a.ipynb")
    (tmp_path / "dan" / FIRST).mkdir(parents=True)
    problems = {s.student_id: s.problem for s in collect(tmp_path)}
    assert "no assignment called '99_nope'" in problems["carol"]
    assert "no notebook" in problems["dan"]


def test_student_ids_nbgrader_cannot_use_are_reported(tmp_path: Path) -> None:
    _touch(tmp_path / "eve+1" / FIRST / "a.ipynb")
    (found,) = collect(tmp_path)
    assert "characters nbgrader cannot use" in found.problem


def test_hidden_folders_are_ignored(tmp_path: Path) -> None:
    _touch(tmp_path / ".ipynb_checkpoints" / FIRST / "a.ipynb")
    _touch(tmp_path / "fay" / ".ipynb_checkpoints" / "a.ipynb")
    assert collect(tmp_path) == []
