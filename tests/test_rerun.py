"""Reruns into the same --out honour what changed (issue 11, item 8), and --regrade* grade again on purpose.

A saved result is reused only when the submission, the course, the grader and the limits are the ones it
was graded with. One class of two is graded through the real command a few times in a row: `ref` hands in
the reference solution, `hog` the same with a sigmoid that first allocates 2 GB, which a 1500 MB address
space refuses (two tests fail with MemoryError) and the default 4096 MB allows (full marks).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import cli, collect, course, runner, sandbox

ASSIGNMENT = "01_activations"
NAME = f"{ASSIGNMENT}.ipynb"
SMALL = ["--memory-mb", "1500"]
LARGE = ["--memory-mb", "4096"]
HOG = "    scratch = np.zeros(2**28)  # 2 GB, for nothing\n"


def _grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out), *extra]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=course.REPO, env=course.nbgrader_env(), timeout=900
    )


def _write_class(folder: Path) -> None:
    solution = nbformat.read(course.SOLUTIONS / ASSIGNMENT / NAME, as_version=4)
    hog = copy.deepcopy(solution)
    cell = next(c for c in hog.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid")
    assert "### BEGIN SOLUTION\n" in cell.source
    cell.source = cell.source.replace("### BEGIN SOLUTION\n", "### BEGIN SOLUTION\n" + HOG, 1)
    for student, notebook in (("ref", solution), ("hog", hog)):
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebook, folder / student / ASSIGNMENT / NAME)


@dataclasses.dataclass
class Run:
    """What one run of the command left: its output, the summary, and the saved results' times."""

    process: subprocess.CompletedProcess
    summary: dict[str, dict[str, str]]
    mtimes: dict[str, int]

    @property
    def already_done(self) -> int:
        match = re.search(r"Grading (\d+) submissions \((\d+) already done\)", self.process.stderr)
        assert match, self.process.stderr[-3000:]
        assert match.group(1) == "2"
        return int(match.group(2))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The same class graded into one --out five times; each run's options are named by its key."""
    root = tmp_path_factory.mktemp("rerun")
    _write_class(root / "subs")
    out = root / "out"
    results = out / ".work" / "results"
    steps = {
        "first": [*SMALL, "--jobs", "2"],
        "same": [*SMALL, "--jobs", "2"],
        "other_jobs": [*SMALL, "--jobs", "1"],
        "regrade_ref": [*SMALL, "--jobs", "2", "--regrade-student", "ref"],
        "more_memory": [*LARGE, "--jobs", "2"],
    }
    done = {}
    for step, options in steps.items():
        process = _grade(root / "subs", out, *options)
        assert process.returncode == 0, f"{step}: {process.stderr[-3000:]}"
        summary = {r["student_id"]: r for r in csv.DictReader((out / "summary.csv").open())}
        mtimes = {p.parent.name: p.stat().st_mtime_ns for p in results.glob(f"*/{ASSIGNMENT}.json")}
        done[step] = Run(process, summary, mtimes)
    return done


def test_the_first_run_grades_both_and_the_limit_shows(runs: dict[str, Run]) -> None:
    first = runs["first"]
    assert first.already_done == 0
    assert first.summary["ref"]["score"] == first.summary["ref"]["max_score"]
    assert float(first.summary["hog"]["score"]) < float(first.summary["hog"]["max_score"])
    assert "MemoryError" in first.summary["hog"]["message"]


def test_a_rerun_with_identical_input_and_limits_reuses_everything(runs: dict[str, Run]) -> None:
    assert runs["same"].already_done == 2
    assert runs["same"].mtimes == runs["first"].mtimes
    assert runs["same"].summary == runs["first"].summary


def test_changing_only_the_parallel_jobs_does_not_regrade(runs: dict[str, Run]) -> None:
    assert runs["other_jobs"].already_done == 2
    assert runs["other_jobs"].mtimes == runs["first"].mtimes


def test_regrade_student_regrades_exactly_that_student(runs: dict[str, Run]) -> None:
    before, after = runs["other_jobs"], runs["regrade_ref"]
    assert after.already_done == 1
    assert after.mtimes["ref"] > before.mtimes["ref"]
    assert after.mtimes["hog"] == before.mtimes["hog"]
    assert after.summary == before.summary


def test_a_larger_memory_limit_regrades_all_and_changes_the_outcome(runs: dict[str, Run]) -> None:
    before, after = runs["regrade_ref"], runs["more_memory"]
    assert after.already_done == 0
    assert all(after.mtimes[s] > before.mtimes[s] for s in ("ref", "hog"))
    hog = after.summary["hog"]
    assert hog["score"] == hog["max_score"] and "MemoryError" not in hog["message"], hog
    assert after.summary["ref"] == before.summary["ref"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--regrade-assignment", "01_activation"], "there is no assignment called '01_activation'"),
        (["--regrade-assignment", "02_relu_family"], "no submission of assignment '02_relu_family'"),
        (["--regrade-student", "nobody", "--regrade-student", "ref"], "no student 'nobody'"),
    ],
)
def test_an_unknown_regrade_name_exits_2_before_grading(options, message, tmp_path: Path) -> None:
    _write_class(tmp_path / "subs")
    run = _grade(tmp_path / "subs", tmp_path / "out", *options)
    assert run.returncode == 2, run.stderr[-2000:]
    assert f"error: {message}" in run.stderr
    assert "Grading" not in run.stderr and not (tmp_path / "out").exists()


# The key and the selection, without grading.


def test_every_limit_but_the_user_id_changes_the_key() -> None:
    base = sandbox.Limits()
    key = runner.grading_key(base)
    assert runner.grading_key(sandbox.Limits()) == key
    assert runner.grading_key(dataclasses.replace(base, user_id=sandbox.FIRST_UID + 3)) == key
    for field in dataclasses.fields(sandbox.Limits):
        if field.name != "user_id":
            changed = dataclasses.replace(base, **{field.name: getattr(base, field.name) + 1})
            assert runner.grading_key(changed) != key, field.name


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the key reads, copied out of the repository."""
    repo = tmp_path_factory.mktemp("repo")
    for folder in ("solutions", "rectified", "data", "autograder"):
        shutil.copytree(course.REPO / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in course.CONFIG_FILES:
        shutil.copy2(course.REPO / name, repo / name)
    return repo


@pytest.mark.parametrize(
    "changed",
    [
        "rectified/harness.py",
        "autograder/report.py",
        f"solutions/{ASSIGNMENT}/{NAME}",
        "nbgrader_config.py",
        "autograder/nbgrader_config.py",
        "data/xor.csv",
    ],
)
def test_a_changed_course_or_grader_file_changes_the_key(changed: str, repo_copy: Path) -> None:
    limits = sandbox.Limits()
    assert runner.grading_key(limits, repo_copy) == runner.grading_key(limits)
    original = (repo_copy / changed).read_bytes()
    try:
        (repo_copy / changed).write_bytes(original + b"\n")
        assert runner.grading_key(limits, repo_copy) != runner.grading_key(limits)
    finally:
        (repo_copy / changed).write_bytes(original)


def test_new_grader_and_helper_modules_change_the_key_and_caches_do_not(repo_copy: Path) -> None:
    limits = sandbox.Limits()
    key = runner.grading_key(limits, repo_copy)
    added = [repo_copy / "rectified" / "new_helper.py", repo_copy / "autograder" / "new_step.py"]
    ignored = [
        repo_copy / "rectified" / "__pycache__" / "data.cpython-311.pyc",
        repo_copy / "solutions" / ASSIGNMENT / ".ipynb_checkpoints" / f"{ASSIGNMENT}-checkpoint.ipynb",
    ]
    try:
        for path in ignored:
            path.parent.mkdir(exist_ok=True)
            path.write_text("cache")
        assert runner.grading_key(limits, repo_copy) == key
        for path in added:
            path.write_text("X = 1\n")
            assert runner.grading_key(limits, repo_copy) != key, path
            path.unlink()
    finally:
        for path in added + ignored:
            path.unlink(missing_ok=True)


def test_the_submission_key_covers_its_notebooks_and_exchange_files(tmp_path: Path) -> None:
    folder = tmp_path / "subs" / "ref" / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copy2(course.SOLUTIONS / ASSIGNMENT / NAME, folder / NAME)

    def key() -> str:
        (sub,) = collect.collect(tmp_path / "subs")
        return runner.fingerprint(runner.submission_files(sub), "run")

    keys = [key()]
    (folder / "timestamp.txt").write_text("2025-01-01 10:00:00.000000 UTC")
    keys.append(key())
    (folder / "timestamp.txt").write_text("2025-01-09 10:00:00.000000 UTC")  # submitted late
    keys.append(key())
    (folder / "submission_secret.txt").write_text("secret")
    keys.append(key())
    (folder / NAME).write_bytes((folder / NAME).read_bytes() + b"\n")
    keys.append(key())
    assert len(set(keys)) == len(keys)
    (folder / "notes.txt").write_text("grading reads no other file")
    assert key() == keys[-1]


def test_regrade_selects_students_assignments_or_their_pairs() -> None:
    pairs = [(s, a) for s in ("ann", "bob") for a in ("01", "02")]

    def chosen(regrade: runner.Regrade) -> list[tuple[str, str]]:
        return [p for p in pairs if regrade.wanted(*p)]

    assert chosen(runner.Regrade()) == [] and not runner.Regrade()
    assert chosen(runner.Regrade(everything=True)) == pairs
    assert chosen(runner.Regrade(students=("ann",))) == [("ann", "01"), ("ann", "02")]
    assert chosen(runner.Regrade(assignments=("02",))) == [("ann", "02"), ("bob", "02")]
    assert chosen(runner.Regrade(students=("ann",), assignments=("02",))) == [("ann", "02")]


def test_the_regrade_options_reach_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(runner, "grade", lambda *args, **kwargs: calls.append(kwargs) or [])
    base = ["grade", str(tmp_path), "--out", str(tmp_path / "out")]
    assert cli.main(base) == 0
    assert cli.main([*base, "--regrade"]) == 0
    options = ["--regrade-student", "a", "--regrade-student", "b", "--regrade-assignment", "01"]
    assert cli.main([*base, *options]) == 0
    assert calls == [
        {},
        {"regrade": runner.Regrade(everything=True)},
        {"regrade": runner.Regrade(students=("a", "b"), assignments=("01",))},
    ]


def test_the_help_says_how_the_regrade_options_combine(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.parse_args(["grade", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--regrade ", "--regrade-student ID", "--regrade-assignment NAME"):
        assert option in text
    assert "only the listed students' listed assignments" in text


@pytest.mark.parametrize("module", sorted(runner.AFTER_GRADING))
def test_a_module_that_only_writes_the_class_files_leaves_the_key_alone(module: str, repo_copy: Path) -> None:
    """Changing report.html, similarity or the LMS grade files changes no grade, so nothing is regraded."""
    limits = sandbox.Limits()
    path = repo_copy / "autograder" / module
    assert path.is_file(), module
    key = runner.grading_key(limits, repo_copy)
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# changed\n")
        assert runner.grading_key(limits, repo_copy) == key
    finally:
        path.write_bytes(original)
