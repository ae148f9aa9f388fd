"""The grading command end to end on the real course: reference solutions get full marks, blanks get 0."""

from __future__ import annotations

import csv
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import course

ASSIGNMENTS = course.assignments()
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)


def _grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=course.REPO,
        env=course.nbgrader_env(),
        timeout=1800,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open()))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """Grade a class of two: `ref` hands in the solutions, `blank` the released notebooks."""
    root = tmp_path_factory.mktemp("class")
    for assignment in ASSIGNMENTS:
        for name in course.notebook_names(assignment):
            for student, source in (("ref", course.SOLUTIONS), ("blank", course.RELEASE)):
                (root / "subs" / student / assignment).mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / assignment / name, root / "subs" / student / assignment / name)
    return root, _grade(root / "subs", root / "out", "--jobs", "2")


def _expected_cells() -> dict[tuple[str, str], float]:
    """(assignment, grade_id) -> points, read from the source notebooks."""
    cells = {}
    for assignment in ASSIGNMENTS:
        for name in course.notebook_names(assignment):
            for cell in nbformat.read(course.SOLUTIONS / assignment / name, as_version=4).cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade") and cell.cell_type == "code":
                    cells[(assignment, meta["grade_id"])] = float(meta["points"])
    return cells


def test_the_command_exits_0_and_shows_progress(graded) -> None:
    _, run = graded
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"[{2 * len(ASSIGNMENTS)}/{2 * len(ASSIGNMENTS)}]" in run.stderr
    assert "ref" in run.stdout and "blank" in run.stdout


def test_solutions_get_full_marks_and_blanks_get_zero(graded) -> None:
    root, _ = graded
    summary = {(r["student_id"], r["assignment"]): r for r in _rows(root / "out" / "summary.csv")}
    assert len(summary) == 2 * len(ASSIGNMENTS)
    for assignment in ASSIGNMENTS:
        ref, blank = summary[("ref", assignment)], summary[("blank", assignment)]
        assert ref["status"] == "graded", ref
        assert float(ref["score"]) == float(ref["max_score"]) > 0, ref
        assert blank["status"] == "graded", blank
        assert float(blank["score"]) == 0 and float(blank["max_score"]) == float(ref["max_score"]), blank


def test_grades_have_one_row_per_test_cell(graded) -> None:
    root, _ = graded
    rows = _rows(root / "out" / "grades.csv")
    expected = _expected_cells()
    for student in ("ref", "blank"):
        mine = {(r["assignment"], r["cell_id"]): r for r in rows if r["student_id"] == student}
        assert set(mine) == set(expected)
        for key, points in expected.items():
            assert float(mine[key]["max_score"]) == points
            assert float(mine[key]["score"]) == (points if student == "ref" else 0.0), (student, key)


def test_feedback_exists_and_hides_the_hidden_tests(graded) -> None:
    root, _ = graded
    for assignment in ASSIGNMENTS:
        for name in course.notebook_names(assignment):
            nb = nbformat.read(course.SOLUTIONS / assignment / name, as_version=4)
            # Lines that only the hidden tests contain: nothing else in the notebook shows them.
            public = {line.strip() for cell in nb.cells for line in HIDDEN.sub("", cell.source).splitlines()}
            secret_lines = {
                line.strip()
                for cell in nb.cells
                if cell.metadata.get("nbgrader", {}).get("grade")
                for block in HIDDEN.findall(cell.source)
                for line in block.splitlines()
                if len(line.strip()) > 25 and line.strip() not in public
            }
            for student in ("ref", "blank"):
                page = root / "out" / "feedback" / student / assignment / name.replace(".ipynb", ".html")
                assert page.exists(), page
                text = html.unescape(page.read_text())
                leaked = [line for line in secret_lines if line in text]
                assert not leaked, f"{page} shows hidden tests: {leaked[:2]}"


def test_a_second_run_reuses_results_and_writes_the_same_tables(graded) -> None:
    root, _ = graded
    before = {name: (root / "out" / name).read_bytes() for name in ("grades.csv", "summary.csv")}
    again = _grade(root / "subs", root / "out")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"({2 * len(ASSIGNMENTS)} already done)" in again.stderr
    for name, content in before.items():
        assert (root / "out" / name).read_bytes() == content, name


def test_a_missing_submissions_folder_is_a_clear_error(tmp_path: Path) -> None:
    run = _grade(tmp_path / "nowhere", tmp_path / "out")
    assert run.returncode == 2 and "does not exist" in run.stderr
