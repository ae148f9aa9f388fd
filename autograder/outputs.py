"""The instructor's files written after every grading run (a resumed one too, from the saved results).

    written = write(out, submissions, results, unpacked, canvas_columns)

- `similarity.csv` and the report's similarity section (autograder.similarity), from the submissions;
- `report.html` (autograder.class_report), from every summary row;
- `canvas_grades.csv` or `moodle_grades.csv` (autograder.lms_grades), only when the input was that LMS's
  export.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder import class_report, collect, lms, lms_grades, report, similarity

LMS_FILES = ("canvas_grades.csv", "moodle_grades.csv")


class BadCanvasColumn(ValueError):
    """A --canvas-column that cannot be given to one assignment."""


def canvas_columns(asked: list[str], unpacked: lms.Unpacked | None) -> dict[str, str]:
    """Assignment -> Canvas column header, from --canvas-column values 'NAME (ID)' or 'ASSIGNMENT=NAME (ID)'.

    A value without 'ASSIGNMENT=' is for the export's one assignment; raises BadCanvasColumn when the
    export has several, or when the input is not a Canvas export.
    """
    if not asked:
        return {}
    if unpacked is None or unpacked.lms != "canvas":
        raise BadCanvasColumn("--canvas-column is only for a Canvas export")
    graded = lms_grades.graded_assignments(unpacked)
    columns = {}
    for value in asked:
        found = re.fullmatch(r"([^=]+)=(.+)", value)
        if found and found[1] in graded:
            columns[found[1]] = found[2].strip()
        elif len(graded) == 1:
            columns[graded[0]] = value.strip()
        else:
            raise BadCanvasColumn(
                f"--canvas-column {value!r}: the export holds {', '.join(graded) or 'no assignment'}; "
                "say which, as ASSIGNMENT=NAME (ID)"
            )
    return columns


def write(
    out: Path,
    submissions: Path,
    results: list[report.Result],
    unpacked: lms.Unpacked | None = None,
    columns: dict[str, str] | None = None,
) -> list[Path]:
    """Write the files; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    found = collect.collect(submissions) if submissions.is_dir() else []
    pairs = similarity.compare_class(found)
    written = [out / "report.html", out / "similarity.csv"]
    similarity.write_csv(out / "similarity.csv", pairs)
    class_report.write(out / "report.html", results, pairs)
    if unpacked is not None and unpacked.lms == "canvas":
        lms_grades.write_canvas(out / "canvas_grades.csv", results, unpacked, columns)
        written.append(out / "canvas_grades.csv")
    elif unpacked is not None and unpacked.lms == "moodle":
        lms_grades.write_moodle(out / "moodle_grades.csv", results, unpacked)
        written.append(out / "moodle_grades.csv")
    for stale in LMS_FILES:  # left by an earlier run of another input into the same OUT: not these grades
        if out / stale not in written:
            (out / stale).unlink(missing_ok=True)
    return written
