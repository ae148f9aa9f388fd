"""nbgrader's exchange end to end on one machine, as on a JupyterHub with several students.

release -> fetch -> submit -> collect -> autograde -> generate_feedback -> release_feedback ->
fetch_feedback, with the real `nbgrader` commands, in a private copy of the course and a temporary
exchange folder. Three students, each with their own home folder, working folder and exchange cache
(nbgrader's fetch_feedback picks every submission in the cache it is given: with a shared cache one student
gets everyone's feedback). Alice hands in a finished notebook, Bob the blank one, Carol one answer.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from student_copy import fill_answers, small_assignment

from autograder import course

COURSE_ID = "rectified"  # c.CourseDirectory.course_id in autograder/nbgrader_config.py
STUDENTS = ("alice", "bob", "carol")


def _nbgrader(cwd: Path, *args: str, home: Path | None = None) -> str:
    env = course.nbgrader_env()
    env = {k: v for k, v in env.items() if not k.startswith(("JUPYTER_", "NBGRADER_", "JPY_"))}
    if home is not None:  # a student: own home, so no user config of this machine or of another student
        env["HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{log[-4000:]}"
    assert "[ERROR]" not in log, f"nbgrader {' '.join(args)} logged an error:\n{log[-4000:]}"
    return log


def _fetch_feedback(home: Path, student: str, assignment: str, exchange: list[str]) -> None:
    """A student fetches their feedback, with their own exchange cache."""
    cache = f"--Exchange.cache={home / '.nbgrader-cache'}"
    args = [f"--course={COURSE_ID}", f"--student={student}", *exchange, cache]
    _nbgrader(home, "fetch_feedback", assignment, *args, home=home)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the whole exchange once; the tests below read what it left."""
    tmp = tmp_path_factory.mktemp("exchange-round-trip")
    root = course.make_private_course(tmp / "course")
    exchange = tmp / "exchange"
    exchange.mkdir()
    assignment = small_assignment()
    name = course.notebook_names(assignment)[0]
    x = [f"--Exchange.root={exchange}"]

    _nbgrader(root, "release_assignment", assignment, *x)

    homes = {}
    first_answer = None
    for student in STUDENTS:
        home = homes[student] = tmp / "home" / student
        home.mkdir(parents=True)
        cache = [f"--Exchange.cache={home / '.nbgrader-cache'}"]
        _nbgrader(home, "fetch_assignment", assignment, f"--course={COURSE_ID}", *x, *cache, home=home)
        path = home / assignment / name
        nb = nbformat.read(path, as_version=4)
        if student == "alice":
            fill_answers(nb, assignment, name)
        elif student == "carol":
            first_answer = next(
                c.metadata.nbgrader.grade_id
                for c in nb.cells
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
            )
            fill_answers(nb, assignment, name, only={first_answer})
        nbformat.write(nb, path)
        _nbgrader(
            home, "submit", assignment, f"--course={COURSE_ID}", f"--student={student}", *x, *cache, home=home
        )

    _nbgrader(root, "collect", assignment, *x)
    _nbgrader(root, "autograde", assignment, "--force")
    _nbgrader(root, "generate_feedback", assignment, "--force")
    _nbgrader(root, "release_feedback", assignment, *x)
    for student, home in homes.items():
        _fetch_feedback(home, student, assignment, x)
    return {"root": root, "exchange": exchange, "assignment": assignment, "name": name, "homes": homes}


def _scores(root: Path, assignment: str) -> dict[str, tuple[float, float]]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {
            s: (gb.find_submission(assignment, s).score, gb.find_submission(assignment, s).max_score)
            for s in STUDENTS
        }


def test_release_and_collect_go_through_the_exchange(round_trip: dict) -> None:
    exchange, assignment, name = round_trip["exchange"], round_trip["assignment"], round_trip["name"]
    assert (exchange / COURSE_ID / "outbound" / assignment / name).is_file()
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == sorted(STUDENTS)
    for student in STUDENTS:
        assert (round_trip["root"] / "submitted" / student / assignment / name).is_file()


def test_autograde_scores_each_submission(round_trip: dict) -> None:
    scores = _scores(round_trip["root"], round_trip["assignment"])
    max_score = scores["alice"][1]
    assert max_score > 0
    assert scores["alice"][0] == max_score, scores
    assert scores["bob"][0] == 0, scores
    assert 0 < scores["carol"][0] < max_score, scores


def test_each_student_fetches_only_their_own_feedback(round_trip: dict) -> None:
    assignment, name = round_trip["assignment"], round_trip["name"]
    released = list((round_trip["exchange"] / COURSE_ID / "feedback").glob("*.html"))
    assert len(released) == len(STUDENTS), released
    scores = _scores(round_trip["root"], assignment)
    for student, home in round_trip["homes"].items():
        fetched = sorted((home / assignment / "feedback").glob("*/*.html"))
        assert [p.name for p in fetched] == [name.replace(".ipynb", ".html")], (student, fetched)
        html = fetched[0].read_text()
        score, max_score = scores[student]
        shown = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", re.sub(r"<[^>]+>", " ", html))
        assert shown, f"{student}'s feedback shows no score"
        assert (float(shown.group(1)), float(shown.group(2))) == (score, max_score), (student, shown.group(0))
        # the feedback is the one generated for this student, byte for byte
        generated = round_trip["root"] / "feedback" / student / assignment / fetched[0].name
        assert html == generated.read_text(), f"{student} fetched someone else's feedback"
        others = [s for s in STUDENTS if s != student]
        assert all(
            html != (round_trip["root"] / "feedback" / s / assignment / fetched[0].name).read_text()
            for s in others
        )


def test_the_grading_command_grades_collected_submissions_and_its_feedback_can_be_released(
    round_trip: dict, tmp_path: Path
) -> None:
    """The hub route in the README: collect, grade with the command, release its (redacted) feedback."""
    root, assignment = round_trip["root"], round_trip["assignment"]
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(root / "submitted"), "--out", str(out)],
        cwd=course.REPO,
        env=course.nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = {r["student_id"]: r for r in csv.DictReader((out / "summary.csv").open())}
    scores = _scores(root, assignment)
    for student in STUDENTS:
        assert float(summary[student]["score"]) == scores[student][0], (student, summary[student])
        page_dir = out / "feedback" / student / assignment
        assert (page_dir / "submission_secret.txt").is_file(), "release_feedback needs the submission secret"
        shutil.copytree(page_dir, root / "feedback" / student / assignment, dirs_exist_ok=True)
    x = [f"--Exchange.root={round_trip['exchange']}"]
    _nbgrader(root, "release_feedback", assignment, *x)
    hidden = re.compile(r"### BEGIN HIDDEN TESTS")
    for student, home in round_trip["homes"].items():
        _fetch_feedback(home, student, assignment, x)
        newest = sorted((home / assignment / "feedback").glob("*/*.html"))[-1]
        text = newest.read_text()
        assert text == (out / "feedback" / student / assignment / newest.name).read_text(), student
        assert not hidden.search(text) and "hidden tests are not shown" in text, student
