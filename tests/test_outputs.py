"""The instructor's files after a real grading run (autograder.outputs), once for a small Canvas class.

One Canvas export of three students of the small assignment (the reference solution, the blank notebook,
half of the exercises done) and a PDF, graded through the command with --canvas-column, then again into
the same --out (resumed from the saved results). Both runs write report.html, similarity.csv and
canvas_grades.csv (what a folder or a Moodle export writes is in tests/test_lms_grades.py).
"""

from __future__ import annotations

import csv
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest
from student_copy import small_assignment
from test_class_report import check_in_chromium, chromium  # noqa: F401 (chromium: the fixture)
from test_lms_grades import parse_canvas
from test_runner import _grade

from autograder import course, demo, similarity

ASSIGNMENT = small_assignment()
NB = f"{ASSIGNMENT}.ipynb"
COLUMN = "Notebook 1 (4711)"


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[subprocess.CompletedProcess, dict[str, bytes]]]:
    root = tmp_path_factory.mktemp("outputs")
    export = root / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(f"smithjane_1001_5001_{NB}", (course.SOLUTIONS / ASSIGNMENT / NB).read_bytes())
        archive.writestr(f"doejohn_LATE_1002_5002_{NB}", (course.RELEASE / ASSIGNMENT / NB).read_bytes())
        archive.writestr(f"leeann_1003_5003_{NB}", nbformat.writes(demo.partly_done(ASSIGNMENT, NB)))
        archive.writestr("kimbo_1004_5006_report.pdf", b"%PDF-1.4")
    out = root / "out"
    done = {}
    for name in ("canvas", "resumed"):
        run = _grade(export, out, "--jobs", "2", "--canvas-column", COLUMN)
        assert run.returncode == 0, f"{name}: {run.stderr[-3000:]}"
        done[name] = run, {p.name: p.read_bytes() for p in out.glob("*.*") if p.is_file()}
    return done


def _cells() -> list[str]:
    nb = nbformat.read(course.SOLUTIONS / ASSIGNMENT / NB, as_version=4)
    return [c.metadata.nbgrader.grade_id for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def test_each_run_writes_its_files(runs) -> None:
    expected = {"grades.csv", "summary.csv", "report.html", "similarity.csv", "canvas_grades.csv"}
    assert set(runs["canvas"][1]) == set(runs["resumed"][1]) == expected
    assert "(3 already done)" in runs["resumed"][0].stderr
    for name in expected:  # from the saved results, grading times included: byte for byte the same
        assert runs["resumed"][1][name] == runs["canvas"][1][name], name


def test_the_canvas_grades_match_the_summary(runs, tmp_path: Path) -> None:
    _, files = runs["canvas"]
    (tmp_path / "canvas_grades.csv").write_bytes(files["canvas_grades.csv"])
    columns, points, students = parse_canvas(tmp_path / "canvas_grades.csv")
    assert columns == {COLUMN: "4711"}
    summary = {r["student_id"]: r for r in csv.DictReader(files["summary.csv"].decode().splitlines())}
    assert set(students) == {"1001", "1002", "1003", "1004"}
    for student, row in students.items():
        assert float(row[COLUMN]) == float(summary[student]["score"]), student
    assert points[COLUMN] == float(summary["1001"]["max_score"]) == float(students["1001"][COLUMN]) > 0
    assert 0 < float(students["1003"][COLUMN]) < points[COLUMN] and float(students["1004"][COLUMN]) == 0


def test_similarity_has_every_pair_and_flags_no_one_in_a_class_this_small(runs) -> None:
    _, files = runs["canvas"]
    rows = list(csv.DictReader(files["similarity.csv"].decode("utf-8").splitlines()))
    assert list(rows[0]) == similarity.COLUMNS
    assert {(r["student_a"], r["student_b"]) for r in rows} == {
        ("1001", "1002"),
        ("1001", "1003"),
        ("1002", "1003"),
    }
    # The blank notebook has nothing of its own; the half-done one is half the reference, but two students
    # who wrote code are too few to know what is typical.
    by_pair = {(r["student_a"], r["student_b"]): r for r in rows}
    assert float(by_pair[("1001", "1002")]["similarity"]) == 0 and {r["flagged"] for r in rows} == {"no"}
    assert float(by_pair[("1001", "1003")]["similarity"]) > 0.5


def test_the_report_names_every_test_cell_and_draws_its_figures(runs, chromium, tmp_path: Path) -> None:  # noqa: F811
    page = tmp_path / "report.html"
    page.write_bytes(runs["canvas"][1]["report.html"])
    check_in_chromium(chromium, page, _cells())
    text = page.read_text(encoding="utf-8")
    assert "unmatched" in text and "1004" in text
    timed = text.split("<h3>Grading time</h3>")[1].split("<h3>")[0]
    assert all(student in timed for student in ("1001", "1002", "1003"))


def test_the_terminal_shows_each_submission_with_its_own_time(runs) -> None:
    run, _ = runs["canvas"]
    lines = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] + "]" for line in lines] == ["[1/3]", "[2/3]", "[3/3]"]
    assert all(line.endswith(" left") and " s); about " in line for line in lines), lines
