"""The grading command on a class of broken and hostile submissions beside good ones (issue: grading a class).

Every (student, assignment) gets exactly one row with a status and a message; the score earned elsewhere
in a damaged notebook is kept; the sandbox holds; good students' grades are what they are on their own.
"""

from __future__ import annotations

import csv
import html
import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from corpus import Case, cases, write

from autograder import course, sandbox

ASSIGNMENT = "01_activations"
LIMITS = ["--cell-timeout", "20", "--notebook-timeout", "120", "--memory-mb", "3072"]


def _grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(submissions),
        "--out",
        str(out),
        *LIMITS,
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=course.REPO, env=course.nbgrader_env())


class Listener:
    """A TCP server on loopback that records whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.5)
        self.connected = False
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connected = True
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    """Grade the whole corpus once, with two jobs."""
    if not sandbox.bwrap_available():
        pytest.fail(
            "bubblewrap is needed to test the sandbox: install Debian's 'bubblewrap' package (make setup does)"
        )
    root = tmp_path_factory.mktemp("corpus")
    listener = Listener()
    paths = {
        "solutions": str(course.SOLUTIONS / ASSIGNMENT),
        "other students": str(root / "subs" / "good_ref"),
        "grading folder": str(root / "out" / ".work"),
        "port": listener.port,
    }
    corpus = cases(ASSIGNMENT, paths)
    for case in corpus:
        write(case, ASSIGNMENT, root / "subs")
    run = _grade(root / "subs", root / "out", "--jobs", "2")
    listener.close()
    summary = {r["student_id"]: r for r in csv.DictReader((root / "out" / "summary.csv").open())}
    return root, run, corpus, summary, listener


def _max_points() -> float:
    nb = nbformat.read(course.SOLUTIONS / ASSIGNMENT / course.notebook_names(ASSIGNMENT)[0], as_version=4)
    return sum(c.metadata.nbgrader.points for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def test_the_command_finishes_and_every_submission_has_exactly_one_row(graded) -> None:
    root, run, corpus, summary, _ = graded
    assert run.returncode == 0, run.stderr[-3000:]
    rows = list(csv.DictReader((root / "out" / "summary.csv").open()))
    assert sorted(r["student_id"] for r in rows) == sorted(c.student for c in corpus)


@pytest.mark.parametrize("case", cases(ASSIGNMENT, {}), ids=lambda c: c.student)
def test_each_submission_gets_its_status_score_and_message(case: Case, graded) -> None:
    _, _, _, summary, _ = graded
    row = summary[case.student]
    total = _max_points()
    assert row["status"] == case.status, row
    assert float(row["max_score"]) == total, row
    score = float(row["score"])
    expected = {"full": score == total, "zero": score == 0, "partial": 0 < score < total}[case.score]
    assert expected, f"{case.student}: expected {case.score} marks, got {score}/{total} ({row['message']})"
    assert case.message in row["message"], row
    if case.status != "graded":
        assert row["message"], "a submission that was not graded must say why"


def _feedback_text(root: Path, student: str) -> str:
    page = root / "out" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_the_sandbox_hides_files_network_and_other_students(graded) -> None:
    root, _, _, _, listener = graded
    match = re.search(r"SPY(\{.*?\})", _feedback_text(root, "spy"))
    assert match, "the spy's output is missing from its feedback"
    seen = json.loads(match.group(1))
    assert seen == {k: False for k in seen}, (
        f"the sandbox let a submission see: {[k for k, v in seen.items() if v]}"
    )
    assert not listener.connected, "a submission reached a server on the grader's loopback"


def test_process_file_and_output_limits_hold(graded) -> None:
    root, _, _, _, _ = graded
    started = int(re.search(r"STARTED (\d+)", _feedback_text(root, "process_bomb")).group(1))
    assert started < sandbox.Limits().processes, started
    assert "FILE LIMIT" in _feedback_text(root, "big_file")
    page = root / "out" / "feedback" / "huge_output" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert page.stat().st_size < 5 << 20, "enormous outputs must be cut"
    assert "output cut" in page.read_text()


def test_good_students_grades_do_not_depend_on_the_class(graded, tmp_path: Path) -> None:
    root, _, corpus, summary, _ = graded
    good = [c for c in corpus if c.student.startswith("good_")]
    for case in good:
        write(case, ASSIGNMENT, tmp_path / "subs")
    alone = _grade(tmp_path / "subs", tmp_path / "out", "--jobs", "1")
    assert alone.returncode == 0, alone.stderr[-2000:]
    grades_alone = [r for r in csv.DictReader((tmp_path / "out" / "grades.csv").open())]
    grades_class = [
        r for r in csv.DictReader((root / "out" / "grades.csv").open()) if r["student_id"].startswith("good_")
    ]
    assert grades_alone == grades_class


def test_an_interrupted_run_resumes_without_losing_or_duplicating(graded, tmp_path: Path) -> None:
    root, _, corpus, _, _ = graded
    subset = [c for c in corpus if c.student in ("good_ref", "good_blank", "broken_answer", "renamed")]
    for case in subset:
        write(case, ASSIGNMENT, tmp_path / "subs")
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(tmp_path / "subs"),
        "--out",
        str(tmp_path / "out"),
    ]
    process = subprocess.Popen(
        [*command, *LIMITS, "--jobs", "1"],
        cwd=course.REPO,
        env=course.nbgrader_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    results = tmp_path / "out" / ".work" / "results"
    for line in process.stderr:  # stop it as soon as the first submission is done
        if line.startswith("[") and "/4]" in line:
            break
    process.kill()
    process.wait()
    done_before = len(list(results.glob("*/*.json")))
    assert 1 <= done_before < 4, "the run was not interrupted mid-class"
    resumed = _grade(tmp_path / "subs", tmp_path / "out", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"({done_before} already done)" in resumed.stderr
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    assert sorted(r["student_id"] for r in rows) == sorted(c.student for c in subset)
    class_grades = {
        (r["student_id"], r["cell_id"]): r["score"]
        for r in csv.DictReader((root / "out" / "grades.csv").open())
    }
    for r in csv.DictReader((tmp_path / "out" / "grades.csv").open()):
        assert class_grades[(r["student_id"], r["cell_id"])] == r["score"], r


def test_the_spy_finds_a_gradebook_at_any_depth(tmp_path: Path) -> None:
    """The spy's search is recursive: a gradebook three folders down is found, and none is not made up."""
    import subprocess
    import sys

    from corpus import spy_code

    deep = tmp_path / "exchange" / "course" / "private"
    deep.mkdir(parents=True)
    code = spy_code({}, roots=(str(tmp_path),)).split("try:")[0] + "print(json.dumps(seen))"

    def run() -> dict:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        return json.loads(done.stdout)

    assert run() == {"any gradebook": False, "gradebook search incomplete": False}
    (deep / "gradebook.db").write_bytes(b"")
    assert run() == {"any gradebook": True, "gradebook search incomplete": False}
