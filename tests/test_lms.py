"""LMS exports: zips named exactly as Canvas and Moodle name them go through nbgrader's zip_collect.

Canvas "Download Submissions" (lib/content_zipper.rb): `<lastfirst>_[LATE_]<user id>_<file id>_<name>`,
`anon_<id>` under anonymous grading, `<stem>-N<ext>` for an upload whose name was taken, `_text.html`
for a text entry. Moodle "Download all submissions" (mod/assign/locallib.php): `<Full Name>_<participant
id>_assignsubmission_file_/<name>` (folders, the default) or glued to the name, `Participant` under blind
marking, `<stem> (N)<ext>` for an upload whose name was taken, `_assignsubmission_onlinetext_/onlinetext.html`.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from nbgrader.plugins import FileNameCollectorPlugin

from autograder import course, lms

FIRST = "01_activations"
SECOND = "02_relu_family"
NB = f"{FIRST}.ipynb"


def _solution(assignment: str = FIRST) -> bytes:
    return (course.SOLUTIONS / assignment / f"{assignment}.ipynb").read_bytes()


def _blank(assignment: str = FIRST) -> bytes:
    return (course.RELEASE / assignment / f"{assignment}.ipynb").read_bytes()


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _layout(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}


CANVAS = {
    "smithjane_1001_5001_01_activations.ipynb": _solution(),
    "doejohn_LATE_1002_5002_01_activations.ipynb": _blank(),
    # Resubmitted under the same name: Canvas renamed the second upload; the newer one is graded.
    "leeann_1003_5003_01_activations.ipynb": _blank(),
    "leeann_1003_5004_01_activations-1.ipynb": _solution(),
    # Renamed by the student: recognised by its graded cells.
    "kimbo_1004_5005_homework.ipynb": _solution(),
    "kimbo_1004_5006_report.pdf": b"%PDF-1.4",
    "LATE_anon_x7Kq2_5007_01_activations.ipynb": _solution(),
    "xuyi_1005_5008_notes.ipynb": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
    "parkmin_1006_text.html": b"<p>see attachment</p>",
    "readme.txt": b"exported by hand",
}

MOODLE = {
    "Jane Smith_2001_assignsubmission_file_/01_activations.ipynb": _blank(),
    "Jane Smith_2001_assignsubmission_file_/01_activations (1).ipynb": _solution(),
    "John Doe_2002_assignsubmission_file_/01_activations.ipynb": _blank(),
    "John Doe_2002_assignsubmission_onlinetext_/onlinetext.html": b"<p>done</p>",
    "Ann Lee_2003_assignsubmission_file_01_activations.ipynb": _solution(),  # without folders
    "Participant_2005_assignsubmission_file_/01 Activations.ipynb": _solution(),  # blind marking, renamed
    "Xu Yi_2006_assignsubmission_file_/draft.ipynb": b"not a notebook",
    "Bo Kim_2007_assignsubmission_file_/answers.docx": b"PK",
    "__MACOSX/Jane Smith_2001_assignsubmission_file_/._01_activations.ipynb": b"\0",
}


@pytest.fixture(scope="module")
def canvas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lms.Unpacked]:
    root = tmp_path_factory.mktemp("canvas")
    export = _zip(root / "submissions.zip", CANVAS)
    return root / "dest", lms.unpack(export, root / "dest")


@pytest.fixture(scope="module")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lms.Unpacked]:
    root = tmp_path_factory.mktemp("moodle")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr(NB, _solution())
    files = {**MOODLE, "Bo Kim_2004_assignsubmission_file_/work.zip": inner.getvalue()}
    files["Al Ng_2008_assignsubmission_file_/02_relu_family.ipynb"] = _blank(SECOND)
    export = _zip(root / "ASSIGN-Notebook 1-42.zip", files)
    return root / "dest", lms.unpack(export, root / "dest")


def test_canvas_files_land_in_the_grading_layout(canvas) -> None:
    dest, unpacked = canvas
    assert unpacked.lms == "canvas"
    assert _layout(dest) == {
        f"1001/{FIRST}/{NB}": _solution(),
        f"1002/{FIRST}/{NB}": _blank(),
        f"1003/{FIRST}/{NB}": _solution(),  # the resubmission -1, not the first upload
        f"1004/{FIRST}/{NB}": _solution(),
        f"anon_x7Kq2/{FIRST}/{NB}": _solution(),
    }


def test_canvas_late_resubmitted_and_renamed_files_are_noted(canvas) -> None:
    _, unpacked = canvas
    assert unpacked.notes[("1002", FIRST)] == ["Canvas marked this submission LATE"]
    assert unpacked.notes[("anon_x7Kq2", FIRST)] == ["Canvas marked this submission LATE"]
    (replaced,) = unpacked.notes[("1003", FIRST)]
    assert (
        "leeann_1003_5003_01_activations.ipynb was replaced by leeann_1003_5004_01_activations-1.ipynb"
        in replaced
    )
    (renamed,) = unpacked.notes[("1004", FIRST)]
    assert "homework.ipynb was graded as 01_activations.ipynb" in renamed
    assert ("1001", FIRST) not in unpacked.notes


def test_canvas_files_that_cannot_be_graded_are_reported_not_dropped(canvas) -> None:
    _, unpacked = canvas
    found = {u.file: u for u in unpacked.unmatched}
    assert set(found) == {
        "kimbo_1004_5006_report.pdf",
        "xuyi_1005_5008_notes.ipynb",
        "parkmin_1006_text.html",
        "readme.txt",
    }
    assert (
        found["kimbo_1004_5006_report.pdf"].student_id,
        found["kimbo_1004_5006_report.pdf"].assignment,
    ) == (
        "1004",
        FIRST,
    )
    assert "not a notebook" in found["kimbo_1004_5006_report.pdf"].reason
    assert found["xuyi_1005_5008_notes.ipynb"].student_id == "1005"
    assert (
        "notes.ipynb is not named like a notebook of this course"
        in found["xuyi_1005_5008_notes.ipynb"].reason
    )
    assert found["parkmin_1006_text.html"].student_id == "1006"
    assert found["readme.txt"].student_id == "" and "not a notebook" in found["readme.txt"].reason
    rows = lms.unmatched_results(unpacked)
    assert {r.status for r in rows} == {"unmatched"} and len(rows) == 4
    assert any(r.message.startswith("kimbo_1004_5006_report.pdf: ") for r in rows)


def test_moodle_files_land_in_the_grading_layout(moodle) -> None:
    dest, unpacked = moodle
    assert unpacked.lms == "moodle"
    assert _layout(dest) == {
        f"2001/{FIRST}/{NB}": _solution(),  # "(1)": Moodle's name for the second upload
        f"2002/{FIRST}/{NB}": _blank(),
        f"2003/{FIRST}/{NB}": _solution(),
        f"2004/{FIRST}/{NB}": _solution(),  # inside a zip the student uploaded
        f"2005/{FIRST}/{NB}": _solution(),
        f"2008/{SECOND}/{SECOND}.ipynb": _blank(SECOND),  # another assignment's notebook: graded as that one
    }
    (replaced,) = unpacked.notes[("2001", FIRST)]
    assert "01_activations (1).ipynb" in replaced and "replaced" in replaced
    assert "01 Activations.ipynb was graded as 01_activations.ipynb" in unpacked.notes[("2005", FIRST)][0]


def test_moodle_files_that_cannot_be_graded_are_reported(moodle) -> None:
    _, unpacked = moodle
    found = {u.file: (u.student_id, u.reason) for u in unpacked.unmatched}
    assert set(found) == {
        "John Doe_2002_assignsubmission_onlinetext_/onlinetext.html",
        "Xu Yi_2006_assignsubmission_file_/draft.ipynb",
        "Bo Kim_2007_assignsubmission_file_/answers.docx",
    }
    assert found["Xu Yi_2006_assignsubmission_file_/draft.ipynb"] == (
        "2006",
        "draft.ipynb is not a notebook file (it is not JSON); upload the .ipynb file itself",
    )
    assert found["Bo Kim_2007_assignsubmission_file_/answers.docx"][0] == "2007"
    # Two assignments in one export: an unmatched file's assignment is not guessed.
    assert {u.assignment for u in unpacked.unmatched} == {""}


def test_the_named_regexps_work_in_nbgrader_s_own_collector() -> None:
    canvas = FileNameCollectorPlugin(named_regexp=lms.CANVAS_REGEXP)
    moodle = FileNameCollectorPlugin(named_regexp=lms.MOODLE_REGEXP)
    base = "/course/downloaded/a/extracted/export/"
    got = canvas.collect(base + "smithjane_LATE_1001_5001_01_activations-2.ipynb")
    assert (got["student_id"], got["file_id"], got["late"]) == ("1001", "01_activations-2.ipynb", "LATE_")
    assert canvas.collect(base + "anon_x7Kq2_5007_01_activations.ipynb")["student_id"] == "anon_x7Kq2"
    assert canvas.collect(base + "readme.ipynb") is None
    got = moodle.collect(base + "Jane Smith_2001_assignsubmission_file_/sub/01_activations (1).ipynb")
    assert (got["student_id"], got["file_id"]) == ("2001", "01_activations (1).ipynb")
    assert moodle.collect(base + "Ann Lee_2003_assignsubmission_file_x.ipynb")["file_id"] == "x.ipynb"


@pytest.mark.parametrize(
    ("name", "lms_name", "expected"),
    [
        ("01_activations.ipynb", "canvas", (FIRST, NB, 0, True, 0)),
        ("01_activations-3.ipynb", "canvas", (FIRST, NB, 3, True, 0)),
        ("01_activations (2).ipynb", "moodle", (FIRST, NB, 2, True, 0)),
        ("01_activations (1)-2.ipynb", "canvas", (FIRST, NB, 2, False, 1)),
        ("01_activations-Copy1.ipynb", "moodle", (FIRST, NB, 0, False, 1)),
        ("01-Activations.ipynb", "canvas", (FIRST, NB, 0, False, 0)),
        ("homework.ipynb", "canvas", None),
    ],
    ids=[
        "exact",
        "canvas-resubmission",
        "moodle-copy",
        "browser-copy-then-canvas",
        "jupyter-copy",
        "loose",
        "unknown",
    ],
)
def test_file_names_map_to_notebooks(name: str, lms_name: str, expected) -> None:
    assert lms.match_name(name, lms_name) == expected


def test_an_export_from_elsewhere_is_reported_file_by_file(tmp_path: Path) -> None:
    export = _zip(tmp_path / "x.zip", {"alice/01_activations.ipynb": _solution(), "notes.txt": b""})
    unpacked = lms.unpack(export, tmp_path / "dest")
    assert unpacked.lms == "unknown" and not unpacked.collected
    assert {u.file for u in unpacked.unmatched} == {"alice/01_activations.ipynb", "notes.txt"}
    assert not any((tmp_path / "dest").iterdir())


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_text("no")
    with pytest.raises(ValueError, match="not a zip file"):
        lms.unpack(tmp_path / "x.zip", tmp_path / "dest")


def test_the_grading_command_grades_a_canvas_export(tmp_path: Path) -> None:
    export = _zip(
        tmp_path / "export.zip",
        {
            "smithjane_1001_5001_01_activations.ipynb": _solution(),
            "doejohn_LATE_1002_5002_01_activations.ipynb": _blank(),
            "doejohn_1002_5003_report.pdf": b"%PDF-1.4",
        },
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(export),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=course.REPO,
        env=course.nbgrader_env(),
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "unmatched: doejohn_1002_5003_report.pdf (student 1002)" in run.stderr
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    by = {(r["student_id"], r["status"]): r for r in rows}
    assert len(rows) == 2, rows  # one row per student and assignment; the PDF is named in John's
    full = by[("1001", "graded")]
    assert full["assignment"] == FIRST and float(full["score"]) == float(full["max_score"]) > 0, full
    late = by[("1002", "graded")]
    assert float(late["score"]) == 0 and late["max_score"] == full["max_score"], late
    assert "LATE" in late["message"]
    assert "also sent, not graded: doejohn_1002_5003_report.pdf: " in late["message"], late
    assert (tmp_path / "out" / "submissions" / "1001" / FIRST / NB).is_file()
