"""Grades that student code cannot fake: every trick earns 0 with wrong answers, honest oddities lose nothing.

The whole corpus (tests/tricks.py) is graded once by the real command, in the sandbox, with two jobs.
"""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tricks import ASSIGNMENT, HONEST, TRICKS, Trick, write_all

from autograder import course, sandbox

LIMITS = ["--cell-timeout", "20", "--notebook-timeout", "120"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    """Grade every trick and honest case once."""
    if not sandbox.bwrap_available():
        pytest.fail("bubblewrap is needed: install Debian's 'bubblewrap' package (make setup does)")
    root = tmp_path_factory.mktemp("tricks")
    write_all(root / "subs")
    command = [sys.executable, "-m", "autograder", "grade", str(root / "subs"), "--out", str(root / "out")]
    run = subprocess.run(
        [*command, *LIMITS, "--jobs", "2"],
        capture_output=True,
        text=True,
        cwd=course.REPO,
        env=course.nbgrader_env(),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = {r["student_id"]: r for r in csv.DictReader((root / "out" / "summary.csv").open())}
    return root, summary


def _feedback(root: Path, student: str) -> str:
    page = root / "out" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text())) if page.exists() else ""


@pytest.mark.parametrize("trick", TRICKS, ids=lambda t: t.student)
def test_a_trick_earns_nothing(trick: Trick, graded) -> None:
    _, summary = graded
    row = summary[trick.student]
    assert float(row["score"]) == 0, (
        f"{trick.student} earned {row['score']} with wrong answers: {row['message']}"
    )
    assert row["status"] == trick.status, row
    assert ("interfered" in row["message"]) == (trick.status == "tampered"), row


@pytest.mark.parametrize("case", HONEST, ids=lambda t: t.student)
def test_honest_but_unusual_code_keeps_full_marks(case: Trick, graded) -> None:
    _, summary = graded
    row = summary[case.student]
    assert row["score"] == row["max_score"], row
    assert row["status"] == "graded" and "interfered" not in row["message"], row


def test_the_kernel_never_sees_a_judge_or_a_reference(graded) -> None:
    root, _ = graded
    match = re.search(r"SEEN(\[.*?\])\s*$", _feedback(root, "reads_every_cell_it_runs"), re.MULTILINE)
    assert match, "the cell that prints what the kernel ran is missing from the feedback"
    seen = "\n".join(json.loads(match.group(1)))
    assert "harness.Probe" in seen, "the probes should have been among the cells the kernel ran"
    for secret in ("### JUDGE", "Judge.receive", "_ref_sigmoid", "logaddexp"):
        assert secret not in seen, f"the kernel saw {secret!r}"


def test_feedback_names_the_tampering_but_not_the_hidden_code(graded) -> None:
    root, _ = graded
    page = _feedback(root, "input_transformer")
    assert "sent no report" in page
    assert "harness.Probe" not in page and "Judge.receive" not in page
