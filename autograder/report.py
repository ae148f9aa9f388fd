"""Results of grading: one JSON file per (student, assignment) while working, CSV tables at the end."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

GRADE_COLUMNS = ["student_id", "assignment", "notebook", "cell_id", "score", "max_score"]
SUMMARY_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "message"]


@dataclass
class CellScore:
    """The score of one autograded test cell."""

    notebook: str
    cell_id: str
    score: float
    max_score: float
    message: str = ""  # why points were lost (the judge's message), for report.html; not in the CSVs


@dataclass
class Result:
    """What grading one student's assignment produced."""

    student_id: str
    assignment: str
    status: str
    message: str = ""
    cells: list[CellScore] = field(default_factory=list)
    fingerprint: str = ""
    # How long grading this notebook took, in seconds: for the terminal and report.html, never the CSVs
    # (they must be the same whichever machine graded). 0 when nothing was run (e.g. unreadable).
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """Points earned over all test cells."""
        return sum(c.score for c in self.cells)

    @property
    def max_score(self) -> float:
        """Points available over all test cells."""
        return sum(c.max_score for c in self.cells)


def result_path(work: Path, student_id: str, assignment: str) -> Path:
    """Where the result of one (student, assignment) is kept between runs."""
    return work / "results" / student_id / f"{assignment}.json"


def save_result(work: Path, result: Result) -> None:
    """Write a result atomically, so an interrupted run never leaves half a file."""
    path = result_path(work, result.student_id, result.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(result), indent=1))
    os.replace(tmp, path)


def load_result(work: Path, student_id: str, assignment: str) -> Result | None:
    """A saved result, or None when there is none or it is unreadable."""
    path = result_path(work, student_id, assignment)
    try:
        data = json.loads(path.read_text())
        data["cells"] = [CellScore(**c) for c in data["cells"]]
        return Result(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """A file opened for text (UTF-8, no newline translation) that replaces `path` only once it is complete,
    so a reader never sees half a table or page."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        yield handle
    os.replace(tmp, path)


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """A CSV of plain rows, the header first, written atomically (lines end CRLF, as the csv module does)."""
    with atomic_text(path) as handle:
        csv.writer(handle).writerows(rows)


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """A CSV of dict rows under the given columns, written atomically."""
    with atomic_text(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def number(x: float) -> str:
    """Scores as short decimals: 2 rather than 2.0."""
    return f"{x:g}"


def write_tables(out: Path, results: list[Result]) -> None:
    """Write grades.csv (one row per test cell) and summary.csv (one row per student and assignment)."""
    results = sorted(results, key=lambda r: (r.student_id, r.assignment))
    grades = [
        {
            "student_id": r.student_id,
            "assignment": r.assignment,
            "notebook": c.notebook,
            "cell_id": c.cell_id,
            "score": number(c.score),
            "max_score": number(c.max_score),
        }
        for r in results
        for c in r.cells
    ]
    summary = [
        {
            "student_id": r.student_id,
            "assignment": r.assignment,
            "score": number(r.score),
            "max_score": number(r.max_score),
            "status": r.status,
            "message": r.message,
        }
        for r in results
    ]
    _write_csv(out / "grades.csv", GRADE_COLUMNS, grades)
    _write_csv(out / "summary.csv", SUMMARY_COLUMNS, summary)


def format_table(results: list[Result]) -> str:
    """A plain-text table of scores for the terminal."""
    rows = [("student", "assignment", "score", "status")]
    for r in sorted(results, key=lambda r: (r.student_id, r.assignment)):
        rows.append((r.student_id, r.assignment, f"{number(r.score)}/{number(r.max_score)}", r.status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
