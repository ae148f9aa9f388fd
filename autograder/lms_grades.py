"""Grades back into the LMS the export came from: Canvas' gradebook import CSV, Moodle's grading worksheet.

    write_canvas(out / "canvas_grades.csv", results, unpacked, columns={"01_activations": "Lab 1 (4711)"})
    write_moodle(out / "moodle_grades.csv", results, unpacked)

Canvas (Grades → Import): the columns `Student, ID, SIS User ID, SIS Login ID, Section`, then one column per
assignment; a second row `Points Possible` gives each column's points. Canvas matches a row to its student
by `ID`, the Canvas user id that the export's file names carry; a column named `NAME (ID)` updates the
existing Canvas assignment with that id, any other name creates a new assignment. The SIS and section
columns are left empty (the export does not give them; Canvas matches on ID). Submissions graded
anonymously (`anon_…`) have no user id until anonymity is lifted, so they are left out and named in a
warning. A student with no submission of an assignment gets an empty cell, which Canvas leaves unchanged.

Moodle (the assignment's "Upload grading worksheet", with the offline grading worksheet and feedback
comments enabled): the worksheet's columns, `Identifier` being `Participant N` with N the participant id
of the export's folder names, which is what Moodle reads back. Moodle's importer needs `Identifier`,
`Grade` and `Last modified (grade)`; the last is left empty (no grade was given in Moodle yet), so when
grades were already entered in Moodle, tick "Allow updating records that have been modified more recently
in Moodle than in the spreadsheet". `Feedback comments` is the summary's message, HTML-escaped because
Moodle shows that column as HTML. A participant whose files held no gradable notebook gets 0 and the
reason. A Moodle export is one Moodle assignment: when its notebooks belong to several of the course's
assignments, the worksheet is for the one most of them belong to.

Both files are UTF-8 without a byte-order mark, comma-separated, as each system's upload reads by default.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from pathlib import Path

from autograder import course, lms, report

log = logging.getLogger(__name__)

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]
MOODLE_PARTICIPANT = "Participant "  # Moodle's string 'hiddenuser', which its importer strips from Identifier


def _course_order(assignments: set[str]) -> list[str]:
    known = course.assignments()
    return sorted(assignments, key=lambda a: (known.index(a) if a in known else len(known), a))


def _students(unpacked: lms.Unpacked, results: list[report.Result]) -> list[str]:
    """Every student id the export named, in a stable order."""
    ids = set(unpacked.names) | {c.student_id for c in unpacked.collected}
    ids |= {u.student_id for u in unpacked.unmatched if u.student_id}
    ids |= {r.student_id for r in results if r.student_id}
    return sorted(ids, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))


def graded_assignments(unpacked: lms.Unpacked) -> list[str]:
    """The course's assignments that the export held notebooks of, in course order."""
    return _course_order({c.assignment for c in unpacked.collected})


def write_canvas(
    path: Path, results: list[report.Result], unpacked: lms.Unpacked, columns: dict[str, str] | None = None
) -> None:
    """canvas_grades.csv: one row per student of the export, one column per assignment graded."""
    columns = columns or {}
    assignments = graded_assignments(unpacked)
    by_key = {(r.student_id, r.assignment): r for r in results}
    points = {a: max((r.max_score for r in results if r.assignment == a), default=0.0) for a in assignments}
    rows = [CANVAS_COLUMNS + [columns.get(a, a) for a in assignments]]
    rows.append(["Points Possible", "", "", "", ""] + [report.number(points[a]) for a in assignments])
    anonymous = []
    for student in _students(unpacked, results):
        if not student.isdigit():  # anon_… under anonymous grading: no Canvas user id to match
            anonymous.append(student)
            continue
        cells = []
        for assignment in assignments:
            result = by_key.get((student, assignment))
            cells.append(report.number(result.score) if result else "")
        if any(cells):
            rows.append([unpacked.names.get(student, ""), student, "", "", ""] + cells)
    if anonymous:
        log.warning(
            "canvas_grades.csv leaves out %d anonymously graded submissions (%s): Canvas gives them a "
            "user id only once anonymity is lifted",
            len(anonymous),
            ", ".join(anonymous),
        )
    report.write_rows(path, rows)


def moodle_assignment(unpacked: lms.Unpacked) -> str:
    """The assignment a Moodle export is for: the one most of its notebooks belong to ('' when none)."""
    counts = Counter(c.assignment for c in unpacked.collected)
    if not counts:
        return ""
    order = graded_assignments(unpacked)
    return max(order, key=lambda a: (counts[a], -order.index(a)))


def write_moodle(path: Path, results: list[report.Result], unpacked: lms.Unpacked) -> None:
    """moodle_grades.csv: the offline grading worksheet of the export's assignment, one row per participant."""
    assignment = moodle_assignment(unpacked)
    by_key = {(r.student_id, r.assignment): r for r in results}
    points = max((r.max_score for r in results if r.assignment == assignment), default=0.0)
    others = sorted({c.assignment for c in unpacked.collected} - {assignment})
    if others:
        log.warning(
            "moodle_grades.csv is for %s; the export also held notebooks of %s, which are not in it",
            assignment,
            ", ".join(others),
        )
    rows = [MOODLE_COLUMNS]
    for student in _students(unpacked, results):
        result = by_key.get((student, assignment)) or by_key.get((student, ""))
        if result is None:
            elsewhere = [r for r in results if r.student_id == student]
            where = ", ".join(f"{r.assignment}: {r.status}" for r in elsewhere)
            message = f"no notebook of {assignment} was graded" + (f" ({where})" if where else "")
            status, score = "not-graded", 0.0
        else:
            message, status, score = result.message, result.status, result.score
        rows.append(
            [
                f"{MOODLE_PARTICIPANT}{student}",
                unpacked.names.get(student, ""),
                "",
                status,
                report.number(score),
                report.number(points),
                "Yes",
                "",
                "",
                html.escape(message),
            ]
        )
    report.write_rows(path, rows)
