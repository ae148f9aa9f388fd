"""Grades back into the LMS (autograder.lms_grades), each file read by a parser written from that LMS's format.

Canvas' gradebook import (Grades → Import, as its guides describe the CSV): the header `Student, ID, SIS User
ID, SIS Login ID, Section`, then assignment columns, a column `NAME (ID)` updating the Canvas assignment ID
and any other name making a new one; an optional `Points Possible` row; each row a student, matched by the
Canvas user id in `ID`; a score or an empty cell (no change). Moodle's offline grading worksheet, as its
importer (mod/assign/feedback/offline/importer.php) reads it: it finds the columns `Identifier`, `Grade` and
`Last modified (grade)` by their names (else the upload fails) and the feedback column by its name; it strips
Moodle's 'Participant ' from the identifier to get the participant id; the text is read in the encoding and
with the separator chosen on the upload form, UTF-8 and comma by default.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from pathlib import Path

import pytest

from autograder import cli, course, lms, lms_grades, outputs, report, runner

FIRST, SECOND = "01_activations", "02_relu_family"


def _text(path: Path) -> str:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "a byte-order mark"
    return raw.decode("utf-8")  # strict: fails on anything that is not UTF-8


def parse_canvas(path: Path) -> tuple[dict[str, str | None], dict[str, float], dict[str, dict[str, str]]]:
    """(column -> existing Canvas assignment id or None for a new one, points, Canvas user id -> values)."""
    rows = list(csv.reader(io.StringIO(_text(path), newline="")))
    header = rows[0]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], header
    columns = {}
    for name in header[5:]:
        existing = re.fullmatch(r"(.+) \((\d+)\)", name)
        columns[name] = existing[2] if existing else None
    points = {}
    body = rows[1:]
    if body and body[0][0] == "Points Possible":
        points = {name: float(value) for name, value in zip(header[5:], body[0][5:], strict=True)}
        body = body[1:]
    students: dict[str, dict[str, str]] = {}
    for row in body:
        assert len(row) == len(header), row
        user_id = row[1]
        assert user_id.isdigit(), f"not a Canvas user id: {user_id!r}"
        assert user_id not in students, f"{user_id} twice"
        values = dict(zip(header[5:], row[5:], strict=True))
        for value in values.values():
            assert value == "" or float(value) >= 0, value
        students[user_id] = {"Student": row[0], **values}
    return columns, points, students


def parse_moodle(path: Path) -> dict[str, dict[str, str]]:
    """Participant id -> the worksheet's row, found the way Moodle's importer finds its columns."""
    rows = list(csv.reader(io.StringIO(_text(path), newline=""), delimiter=","))
    header = rows[0]
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        assert required in header, f"Moodle's importer needs the column {required!r}"
    assert "Feedback comments" in header
    participants = {}
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        identifier = record["Identifier"]
        assert identifier.startswith("Participant "), identifier
        participant = identifier[len("Participant ") :]
        assert participant.isdigit(), identifier
        assert record["Grade"] == "" or 0 <= float(record["Grade"]) <= float(record["Maximum Grade"])
        assert record["Last modified (grade)"] == ""  # strtotime('') is false: no grade given in Moodle yet
        participants[participant] = record
    return participants


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _released(assignment: str = FIRST) -> bytes:
    return (course.RELEASE / assignment / f"{assignment}.ipynb").read_bytes()


def _result(student: str, assignment: str, score: float, status: str = "graded", message: str = ""):
    return report.Result(student, assignment, status, message, [report.CellScore("x.ipynb", "t", score, 7.0)])


MOODLE = {
    "Jane Smith_2001_assignsubmission_file_/01_activations.ipynb": _released(),
    "Jürgen Groß_2002_assignsubmission_file_/01_activations.ipynb": _released(),
    "Bo Kim_2007_assignsubmission_file_/answers.docx": b"PK",
    "Al Ng_2008_assignsubmission_file_/02_relu_family.ipynb": _released(SECOND),
}
CANVAS = {
    "smithjane_1001_5001_01_activations.ipynb": _released(),
    "doejohn_LATE_1002_5002_01_activations.ipynb": _released(),
    "kimbo_1004_5006_report.pdf": b"%PDF-1.4",
    "LATE_anon_x7Kq2_5007_01_activations.ipynb": _released(),
    "ngal_1008_5008_02_relu_family.ipynb": _released(SECOND),
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, lms.Unpacked]:
    """Both exports unpacked by lms.unpack (nbgrader's zip_collect), two assignments in each."""
    unpacked = {}
    for name, files in (("moodle", MOODLE), ("canvas", CANVAS)):
        root = tmp_path_factory.mktemp(name)
        unpacked[name] = lms.unpack(_zip(root / "export.zip", files), root / "dest")
    return unpacked


@pytest.fixture(scope="module")
def moodle(exports) -> lms.Unpacked:
    return exports["moodle"]


@pytest.fixture(scope="module")
def canvas(exports) -> lms.Unpacked:
    return exports["canvas"]


def test_the_export_s_names_are_kept_for_the_grade_files(canvas, moodle) -> None:
    assert canvas.names == {
        "1001": "smithjane",
        "1002": "doejohn",
        "1004": "kimbo",
        "anon_x7Kq2": "",
        "1008": "ngal",
    }
    assert moodle.names == {"2001": "Jane Smith", "2002": "Jürgen Groß", "2007": "Bo Kim", "2008": "Al Ng"}


def _canvas_results(canvas: lms.Unpacked) -> list[report.Result]:
    graded = [
        _result("1001", FIRST, 7),
        _result("1002", FIRST, 2.5, message="test_sigmoid (-2): wrong"),
        _result("anon_x7Kq2", FIRST, 7),
        _result("1008", SECOND, 4),
    ]
    return lms.merge(graded, canvas)  # the PDF's student gets an `unmatched` row


def test_canvas_grades_are_what_canvas_imports(canvas, tmp_path: Path) -> None:
    path = tmp_path / "canvas_grades.csv"
    lms_grades.write_canvas(path, _canvas_results(canvas), canvas, {FIRST: "Lab 1: activations (4711)"})
    columns, points, students = parse_canvas(path)
    assert columns == {"Lab 1: activations (4711)": "4711", SECOND: None}  # existing one, and a new one
    assert points == {"Lab 1: activations (4711)": 7.0, SECOND: 7.0}
    first, second = "Lab 1: activations (4711)", SECOND
    assert set(students) == {"1001", "1002", "1008"}  # anonymous: no user id; the PDF: no assignment known
    assert (students["1001"]["Student"], students["1001"][first], students["1001"][second]) == (
        "smithjane",
        "7",
        "",
    )
    assert (students["1002"][first], students["1008"][first], students["1008"][second]) == ("2.5", "", "4")


def test_canvas_unmatched_files_score_0_when_the_assignment_is_known(tmp_path: Path) -> None:
    unpacked = lms.Unpacked(
        "canvas",
        [lms.Collected("a_1001_1_01_activations.ipynb", "1001", FIRST, f"{FIRST}.ipynb")],
        [lms.Unmatched("kimbo_1004_5006_report.pdf", "a .pdf file", "1004", FIRST)],
        names={"1001": "a", "1004": "kimbo"},
    )
    results = lms.merge([_result("1001", FIRST, 5)], unpacked)
    lms_grades.write_canvas(tmp_path / "c.csv", results, unpacked)
    columns, _, students = parse_canvas(tmp_path / "c.csv")
    assert columns == {FIRST: None} and students["1004"][FIRST] == "0" and students["1001"][FIRST] == "5"


def test_moodle_grades_are_the_worksheet_moodle_uploads(moodle, tmp_path: Path) -> None:
    graded = [
        _result("2001", FIRST, 7),
        _result("2002", FIRST, 3, message='test_sigmoid (-4): sigmoid(x) returned <b>1</b> & "2"'),
        _result("2008", SECOND, 5),
    ]
    results = lms.merge(graded, moodle)
    path = tmp_path / "moodle_grades.csv"
    lms_grades.write_moodle(path, results, moodle)
    assert _text(path).splitlines()[0].split(",") == lms_grades.MOODLE_COLUMNS
    assert lms_grades.MOODLE_COLUMNS == [
        "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
        "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments",
    ]  # fmt: skip
    rows = parse_moodle(path)
    assert set(rows) == {"2001", "2002", "2007", "2008"}  # every participant the export named
    assert (rows["2001"]["Full name"], rows["2001"]["Grade"], rows["2001"]["Maximum Grade"]) == (
        "Jane Smith",
        "7",
        "7",
    )
    assert rows["2002"]["Full name"] == "Jürgen Groß"
    # Moodle shows feedback comments as HTML: the student reads the message as it was written.
    assert "<b>" not in rows["2002"]["Feedback comments"]
    assert (
        html.unescape(rows["2002"]["Feedback comments"])
        == 'test_sigmoid (-4): sigmoid(x) returned <b>1</b> & "2"'
    )
    # A file that is not a notebook: 0 and why; a notebook of another assignment: 0 and where it went.
    assert rows["2007"]["Grade"] == "0" and "answers.docx" in rows["2007"]["Feedback comments"]
    assert (
        rows["2008"]["Grade"] == "0"
        and f"no notebook of {FIRST} was graded" in rows["2008"]["Feedback comments"]
    )
    assert {r["Grade can be changed"] for r in rows.values()} == {"Yes"}


def test_canvas_column_options(canvas) -> None:
    assert outputs.canvas_columns([], None) == {}
    assert outputs.canvas_columns([f"{SECOND}=Lab 2 (99)", f"{FIRST}=Lab 1 (98)"], canvas) == {
        SECOND: "Lab 2 (99)",
        FIRST: "Lab 1 (98)",
    }
    with pytest.raises(outputs.BadCanvasColumn, match="say which"):
        outputs.canvas_columns(["Lab 1 (98)"], canvas)  # two assignments in this export
    one = lms.Unpacked("canvas", [lms.Collected("f", "1", FIRST, "n")])
    assert outputs.canvas_columns(["Lab 1 (98)"], one) == {FIRST: "Lab 1 (98)"}
    with pytest.raises(outputs.BadCanvasColumn, match="only for a Canvas export"):
        outputs.canvas_columns(["Lab 1 (98)"], lms.Unpacked("moodle"))


def test_the_command_writes_the_moodle_worksheet_only_for_a_moodle_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The command's wiring, with the grading itself stood in for (the end-to-end run is in test_outputs)."""
    export = _zip(
        tmp_path / "export.zip", {"Jane Smith_2001_assignsubmission_file_/01_activations.ipynb": _released()}
    )
    monkeypatch.setattr(runner, "grade", lambda subs, out, jobs, limits: [_result("2001", FIRST, 6)])
    out = tmp_path / "out"
    assert cli.main(["grade", str(export), "--out", str(out), "--canvas-column", "Lab (1)"]) == 2
    assert "--canvas-column is only for a Canvas export" in capsys.readouterr().err
    assert cli.main(["grade", str(export), "--out", str(out)]) == 0
    rows = parse_moodle(out / "moodle_grades.csv")
    assert rows["2001"]["Grade"] == "6" and rows["2001"]["Full name"] == "Jane Smith"
    assert not (out / "canvas_grades.csv").exists()
    assert (out / "report.html").is_file() and (out / "similarity.csv").is_file()
    # The unpacked notebooks as a folder, into the same OUT: no LMS file, and the stale one is gone.
    assert cli.main(["grade", str(out / "submissions"), "--out", str(out)]) == 0
    assert not (out / "moodle_grades.csv").exists()
    assert (out / "report.html").is_file() and (out / "similarity.csv").is_file()
