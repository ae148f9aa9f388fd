"""Results are kept atomically between runs and written as the documented CSV tables."""

from __future__ import annotations

import csv
from pathlib import Path

from autograder import report


def _result(student: str, status: str = "graded") -> report.Result:
    cells = [report.CellScore("a.ipynb", "test_f", 1.0, 2.0), report.CellScore("a.ipynb", "test_g", 0.5, 1.0)]
    return report.Result(student, "01_activations", status, "", cells, "abc")


def test_results_round_trip(tmp_path: Path) -> None:
    report.save_result(tmp_path, _result("ann"))
    assert report.load_result(tmp_path, "ann", "01_activations") == _result("ann")
    assert report.load_result(tmp_path, "zed", "01_activations") is None


def test_a_corrupt_result_file_reads_as_missing(tmp_path: Path) -> None:
    path = report.result_path(tmp_path, "ann", "01_activations")
    path.parent.mkdir(parents=True)
    path.write_text('{"student_id": ')
    assert report.load_result(tmp_path, "ann", "01_activations") is None


def test_tables_have_the_documented_columns_and_rows(tmp_path: Path) -> None:
    report.write_tables(tmp_path, [_result("bob"), _result("ann", "error")])
    grades = list(csv.DictReader((tmp_path / "grades.csv").open()))
    summary = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert list(grades[0]) == report.GRADE_COLUMNS
    assert list(summary[0]) == report.SUMMARY_COLUMNS
    assert [(r["student_id"], r["cell_id"], r["score"]) for r in grades] == [
        ("ann", "test_f", "1"),
        ("ann", "test_g", "0.5"),
        ("bob", "test_f", "1"),
        ("bob", "test_g", "0.5"),
    ]
    assert [(r["student_id"], r["score"], r["max_score"], r["status"]) for r in summary] == [
        ("ann", "1.5", "3", "error"),
        ("bob", "1.5", "3", "graded"),
    ]


def test_the_terminal_table_lists_every_result() -> None:
    text = report.format_table([_result("ann"), _result("bob")])
    assert "ann" in text and "bob" in text and "1.5/3" in text
