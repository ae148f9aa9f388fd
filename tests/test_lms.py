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
import re
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbgrader.plugins import FileNameCollectorPlugin

from autograder import course, lms, safezip

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


# Hostile exports (issue 11): zip bombs, unsafe names, links and devices, student archives within archives.
# The limit per file is 1 MB here, so a 50 MB entry of zeros (50 KB compressed) is a bomb.
SMALL = safezip.Limits(file_bytes=1 << 20)
BOMB = b"\0" * (50 << 20)


def _entries(path: Path, entries: dict[str, bytes | zipfile.ZipInfo]) -> Path:
    """A deflated zip; a ZipInfo value is written with its own attributes and the data in its comment."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if isinstance(data, zipfile.ZipInfo):
                archive.writestr(data, data.comment)
            else:
                archive.writestr(name, data)
    return path


def _inner(entries: dict[str, bytes | zipfile.ZipInfo]) -> bytes:
    buffer = io.BytesIO()
    _entries(buffer, entries)
    return buffer.getvalue()


def _symlink(name: str, target: bytes = b"/etc/passwd") -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, as `zip --symlinks` writes it
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.comment = target
    return info


def _lying(name: str, data: bytes, says: int) -> bytes:
    """A zip holding data under name whose headers say it inflates to `says` bytes."""
    raw = bytearray(_inner({name: data}))
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, local + 22, says)
    struct.pack_into("<I", raw, central + 24, says)
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as check:
        assert check.infolist()[0].file_size == says
    return bytes(raw)


def _tar_gz(members: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            archive.addfile(member)
    return buffer.getvalue()


def _tar_member(name: str, kind: bytes, **attrs) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    for key, value in attrs.items():
        setattr(member, key, value)
    return member


def _canvas_hostile(root: Path) -> tuple[Path, dict[str, str]]:
    """A Canvas export with two good notebooks (one in a zip) and every hostile entry; entry -> reason."""
    deep = _inner({"b.zip": _inner({"c.zip": _inner({NB: _solution()})})})
    tar = _tar_gz(
        [
            _tar_member("link.ipynb", tarfile.SYMTYPE, linkname="/etc/passwd"),
            _tar_member("tty", tarfile.CHRTYPE, devmajor=5, devminor=0),
            _tar_member("pipe", tarfile.FIFOTYPE),
        ]
    )
    outside = root / "outside" / "abs.ipynb"
    files = {
        "smithjane_1001_5001_01_activations.ipynb": _solution(),
        "bomb_1101_6001_01_activations.ipynb": BOMB,
        "../../evil.ipynb": _solution(),
        outside.as_posix(): _solution(),
        "link_1102_6002_01_activations.ipynb": _symlink("link_1102_6002_01_activations.ipynb"),
        "zipper_1103_6003_work.zip": _inner({NB: _solution(), "../../../evil2.ipynb": _solution()}),
        "nestbomb_1104_6004_work.zip": _inner({NB: BOMB}),
        "liar_1105_6005_work.zip": _lying(NB, BOMB, 30_000),
        "deep_1106_6006_a.zip": deep,
        "kimbo_1107_6007_report.pdf": b"%PDF-1.4",
        "tarry_1108_6008_work.tar.gz": tar,
        "fake_1109_6009_work.zip": b"not a zip",
    }
    refused = {
        "bomb_1101_6001_01_activations.ipynb": "it inflates to 50 MB, over the limit of 1 MB per file",
        "../../evil.ipynb": "'..'",
        outside.as_posix(): "an absolute path",
        "link_1102_6002_01_activations.ipynb": "a symbolic link",
        "zipper_1103_6003_work.zip/../../../evil2.ipynb": "'..'",
        "nestbomb_1104_6004_work.zip/01_activations.ipynb": "it inflates to 50 MB, over the limit",
        "liar_1105_6005_work.zip": "a damaged archive (Bad CRC-32",
        "deep_1106_6006_a.zip/b.zip/c.zip": "an archive inside archives more than 2 deep",
        "tarry_1108_6008_work.tar.gz/link.ipynb": "a symbolic link",
        "tarry_1108_6008_work.tar.gz/tty": "a device file",
        "tarry_1108_6008_work.tar.gz/pipe": "a named pipe",
        "fake_1109_6009_work.zip": "not a readable zip archive",
    }
    return _entries(root / "export.zip", files), refused


def _moodle_hostile(root: Path) -> tuple[Path, dict[str, str]]:
    """The same for Moodle, one folder per student."""
    folder = "{}_{}_assignsubmission_file_/".format
    files = {
        folder("Jane Smith", 2001) + NB: _solution(),
        folder("Bo Mb", 2101) + NB: BOMB,
        folder("Tra Versal", 2102) + "../../evil.ipynb": _solution(),
        "/abs/evil.ipynb": _solution(),
        folder("Sym Link", 2103) + NB: _symlink(folder("Sym Link", 2103) + NB),
        folder("Bo Kim", 2104) + "work.zip": _inner({NB: _solution()}),
        folder("Nest Bomb", 2105) + "work.zip": _inner({"sub/" + NB: BOMB}),
        folder("Ann Lee", 2106) + "essay.py": b"print('hi')",
        "Ann Lee_2106_assignsubmission_onlinetext_/onlinetext.html": b"<p>see the file</p>",
    }
    refused = {
        folder("Bo Mb", 2101) + NB: "it inflates to 50 MB, over the limit of 1 MB per file",
        folder("Tra Versal", 2102) + "../../evil.ipynb": "'..'",
        "/abs/evil.ipynb": "an absolute path",
        folder("Sym Link", 2103) + NB: "a symbolic link",
        folder("Nest Bomb", 2105) + "work.zip/sub/" + NB: "it inflates to 50 MB, over the limit",
    }
    return _entries(root / "export.zip", files), refused


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    """Both hostile exports unpacked, with the process's temporary space inside the test's folder."""
    got = {}
    for name, build in [("canvas", _canvas_hostile), ("moodle", _moodle_hostile)]:
        root = tmp_path_factory.mktemp(f"hostile-{name}")
        export, refused = build(root)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tempfile, "tempdir", str(root / "tmp"))
            (root / "tmp").mkdir()
            got[name] = root, refused, lms.unpack(export, root / "dest", SMALL)
    return got


@pytest.mark.parametrize("name", ["canvas", "moodle"])
def test_a_hostile_export_yields_only_the_good_notebooks(hostile, name: str) -> None:
    root, _, unpacked = hostile[name]
    first, nested = ("1001", "1103") if name == "canvas" else ("2001", "2104")
    assert _layout(root / "dest") == {
        f"{first}/{FIRST}/{NB}": _solution(),
        f"{nested}/{FIRST}/{NB}": _solution(),
    }
    assert {(c.student_id, c.assignment) for c in unpacked.collected} == {(first, FIRST), (nested, FIRST)}
    # Nothing was written outside dest: no escaped file, and the temporary space is empty again.
    assert not list(root.rglob("evil*")) and not list(root.rglob("abs.ipynb"))
    assert not (root / "outside").exists()
    assert not any((root / "tmp").iterdir())
    assert sorted(p.name for p in root.iterdir()) == ["dest", "export.zip", "tmp"]


@pytest.mark.parametrize("name", ["canvas", "moodle"])
def test_every_refused_entry_is_named_with_its_reason(hostile, name: str) -> None:
    _, refused, unpacked = hostile[name]
    got = {u.file: u for u in unpacked.unmatched if u.refused}
    assert set(got) == set(refused)
    for entry, reason in refused.items():
        assert reason in got[entry].reason, (entry, got[entry].reason)
    # Each has its student when the LMS's name says who; on the terminal and in summary.csv's rows.
    for entry, u in got.items():
        said = re.search(r"_(\d{4})_", entry)
        assert u.student_id == (said[1] if said else ""), u
    shown = lms.describe(unpacked)
    assert f"{len(refused)} entries refused" in shown.splitlines()[0]
    rows = " ".join(r.message for r in lms.unmatched_results(unpacked))
    for entry, reason in refused.items():
        assert f"refused: {entry}" in shown and reason in shown
        assert f"{entry}: " in rows
    # Files that are not notebooks are still named as unusable, not refused.
    usable = {u.file: u.reason for u in unpacked.unmatched if not u.refused}
    expected = (
        {"kimbo_1107_6007_report.pdf"}
        if name == "canvas"
        else {
            "Ann Lee_2106_assignsubmission_file_/essay.py",
            "Ann Lee_2106_assignsubmission_onlinetext_/onlinetext.html",
        }
    )
    assert set(usable) == expected and all("not a notebook" in r for r in usable.values())


def test_nothing_over_the_limit_is_written_even_when_the_archive_lies(tmp_path: Path) -> None:
    """The bytes are counted as they are written: a stream longer than declared stops at the limit."""
    written = []

    class Counting(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            data = super().read(size)
            written.append(len(data))
            return data

    extraction = safezip._Extraction(tmp_path, SMALL, tmp_path)
    target = tmp_path / "x.ipynb"
    with pytest.raises(safezip._TooLarge, match="more than 1 MB.*although the archive says 1000 bytes"):
        extraction.copy(lambda: Counting(BOMB), target, declared=1000)
    assert not target.exists() and sum(written) <= (1 << 20) + safezip.CHUNK


def test_the_export_as_a_whole_is_bounded(tmp_path: Path) -> None:
    files = {f"s{i}_{1000 + i}_{5000 + i}_{NB}": bytes([i]) * (600 << 10) for i in range(3)}
    export = _entries(tmp_path / "export.zip", files)
    limits = safezip.Limits(file_bytes=1 << 20, total_bytes=3 << 19)  # 1.5 MB in all
    refused = safezip.extract(export, tmp_path / "dest", limits)
    assert [r.entry for r in refused] == [list(files)[2]]
    assert "inflate to more than 1.5 MB in all" in refused[0].reason
    assert _size(tmp_path / "dest") == 2 * (600 << 10)


def test_a_windows_style_traversal_is_refused(tmp_path: Path) -> None:
    export = _entries(tmp_path / "export.zip", {"x_1_2_work.zip": _inner({"..\\..\\evil.ipynb": b"{}"})})
    (refused,) = safezip.extract(export, tmp_path / "dest", SMALL)
    assert refused.entry == "x_1_2_work.zip/..\\..\\evil.ipynb" and "'..'" in refused.reason
    assert not list(tmp_path.rglob("*evil*"))


def _damaged(tmp_path: Path, how: str) -> Path:
    good = {"smithjane_1001_5001_01_activations.ipynb": _solution(), "doejohn_1002_5002_x.pdf": b"%PDF"}
    export = tmp_path / "export.zip"
    if how == "lying":
        export.write_bytes(_lying("smithjane_1001_5001_01_activations.ipynb", _solution(), 100))
        return export
    _zip(export, good)  # stored: the notebook's bytes are in the file as they are
    raw = bytearray(export.read_bytes())
    if how == "truncated":
        del raw[len(raw) // 2 :]
    elif how == "bad-crc":
        at = raw.find(b'"cells"')
        raw[at] ^= 0xFF
    elif how == "not-a-zip":
        raw = bytearray(b"<html>Session expired</html>")
    export.write_bytes(bytes(raw))
    return export


@pytest.mark.parametrize("how", ["truncated", "bad-crc", "lying", "not-a-zip"])
def test_a_damaged_export_is_one_clear_error(tmp_path: Path, how: str) -> None:
    export = _damaged(tmp_path, how)
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(export), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=course.REPO,
        env=course.nbgrader_env(),
        timeout=300,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"error: {export}") and "download the export again" in line, line
    assert not (tmp_path / "out" / "submissions").exists()


def test_the_grading_command_grades_the_good_students_of_a_hostile_export(tmp_path: Path) -> None:
    export, refused = _canvas_hostile(tmp_path)
    out = tmp_path / "out"
    # The command's own temporary space, to see what is left there. Short: the kernels' sockets live in it,
    # and a Unix socket's path has at most 107 characters.
    scratch = Path(tempfile.mkdtemp(prefix="lms-test-"))
    try:
        run = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", str(export), "--out", str(out), "--jobs", "2"]
            + ["--max-notebook-mb", "1"],
            capture_output=True,
            text=True,
            cwd=course.REPO,
            env=course.nbgrader_env() | {"TMPDIR": str(scratch)},
            timeout=900,
        )
        assert not list(scratch.glob("lms-*")), "the unpacking's temporary course was left behind"
        assert not list(scratch.rglob("evil*")) and not list(scratch.rglob("*.ipynb"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = list(csv.DictReader((out / "summary.csv").open()))
    graded = {r["student_id"]: r for r in rows if r["status"] == "graded"}
    assert set(graded) == {"1001", "1103"}, [(r["student_id"], r["status"], r["message"][:300]) for r in rows]
    for row in graded.values():
        assert float(row["score"]) == float(row["max_score"]) > 0, row
    messages = " ".join(r["message"] for r in rows)
    for entry, reason in refused.items():
        assert f"refused: {entry}" in run.stderr and reason in run.stderr, entry
        assert f"{entry}: " in messages, entry
    assert "unmatched: kimbo_1107_6007_report.pdf (student 1107)" in run.stderr
    assert {
        p.relative_to(out / "submissions").as_posix() for p in (out / "submissions").rglob("*.ipynb")
    } == {
        f"1001/{FIRST}/{NB}",
        f"1103/{FIRST}/{NB}",
    }
    assert _size(out) < 4 << 20, _size(out)
    assert not list(tmp_path.rglob("evil*")) and not (tmp_path / "outside").exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_entries_that_clash_are_refused_and_the_first_kept(tmp_path: Path) -> None:
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("a_1_2_01_activations.ipynb", b"first")
        archive.writestr("a_1_2_01_activations.ipynb", b"second")  # zip allows the same name twice
        archive.writestr("b_3_4_x", b"a file")
        archive.writestr("b_3_4_x/01_activations.ipynb", b"below a file")
    refused = safezip.extract(export, tmp_path / "dest", SMALL)
    assert [r.entry for r in refused] == ["a_1_2_01_activations.ipynb", "b_3_4_x/01_activations.ipynb"]
    assert all("same path" in r.reason for r in refused)
    assert _layout(tmp_path / "dest") == {"a_1_2_01_activations.ipynb": b"first", "b_3_4_x": b"a file"}


def test_a_disk_too_full_for_the_export_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    export = _entries(tmp_path / "export.zip", {"s_1_2_01_activations.ipynb": _solution()})
    monkeypatch.setattr(shutil, "disk_usage", lambda where: SimpleNamespace(free=1000))
    with pytest.raises(ValueError, match="free, but unpacking export.zip needs about"):
        lms.unpack(export, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_max_notebook_mb_reaches_the_unpacking(tmp_path: Path, monkeypatch) -> None:
    from autograder import cli, runner

    assert cli.parse_args(["grade", "x.zip", "--out", "out"]).max_notebook_mb == 20
    seen = []
    monkeypatch.setattr(lms, "unpack", lambda z, d, limits: seen.append(limits) or lms.Unpacked("canvas"))
    monkeypatch.setattr(runner, "grade", lambda *args, **kwargs: [])
    export = _zip(tmp_path / "export.zip", {"readme.txt": b""})
    (tmp_path / "out").mkdir()  # the stand-in of runner.grade does not make it
    assert cli.main(["grade", str(export), "--out", str(tmp_path / "out"), "--max-notebook-mb", "3"]) == 0
    assert seen == [safezip.Limits(file_bytes=3 << 20)] and seen[0].total == 300 << 20
