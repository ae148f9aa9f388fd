"""Grading on a Dask cluster (issue 16): the same results as local grading, whatever happens to the workers.

A real scheduler and two workers run as separate processes on 127.0.0.1 (autograder.localcluster), from
a snapshot of the checkout, so that edits made elsewhere in the checkout while the tests run cannot give the
client and the workers different grading keys. The class: `ada` hands in the solution of 01_activations,
`ben` the blank notebook, `cy` half of it. Scheduler setting: a task may survive one worker's death.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder import cli, cluster, collect, course, demo, localcluster, runner, sandbox

ASSIGNMENT = "01_activations"
NAME = f"{ASSIGNMENT}.ipynb"
STUDENTS = ("ada", "ben", "cy")
ALLOWED_FAILURES = 1
TIMEOUT = 900


def _write_class(folder: Path, students: tuple[str, ...] = STUDENTS) -> Path:
    notebooks = {
        "ada": nbformat.read(course.SOLUTIONS / ASSIGNMENT / NAME, as_version=4),
        "ben": nbformat.read(course.RELEASE / ASSIGNMENT / NAME, as_version=4),
        "cy": demo.partly_done(ASSIGNMENT, NAME),
    }
    for student in students:
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebooks[student], folder / student / ASSIGNMENT / NAME)
    return folder


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's course and grader, copied as they are when the tests start."""
    return localcluster.snapshot(tmp_path_factory.mktemp("snapshot"))


def _env(snap: Path) -> dict[str, str]:
    return course.nbgrader_env() | {"PYTHONPATH": str(snap)}


def _command(snap: Path, submissions: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out), *extra]


def _grade(snap: Path, submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = _command(snap, submissions, out, *extra)
    return subprocess.run(command, capture_output=True, text=True, cwd=snap, env=_env(snap), timeout=TIMEOUT)


def _ours(snap: Path) -> list[int]:
    """Every process that runs from the snapshot: started by these tests, through the cluster or not."""
    marker = f"PYTHONPATH={snap}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def dask_cluster(snap: Path, tmp_path_factory: pytest.TempPathFactory):
    """A scheduler and two single-threaded workers, started from the snapshot; nothing is left after."""
    settings = {
        "PYTHONPATH": str(snap),
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(ALLOWED_FAILURES),
    }
    started = localcluster.LocalCluster(2, tmp_path_factory.mktemp("dask"), settings)
    yield started
    started.stop()
    deadline = time.monotonic() + 30
    while _ours(snap) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _ours(snap), "processes of the cluster outlived it"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_class(tmp_path_factory.mktemp("class") / "subs")


@pytest.fixture(scope="module")
def local(snap: Path, classroom: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class graded on this machine, the usual way."""
    out = tmp_path_factory.mktemp("local") / "out"
    run = _grade(snap, classroom, out, "--jobs", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return out


def _files(out: Path) -> dict[str, bytes]:
    """The tables and the feedback pages: what must be the same byte for byte, wherever graded."""
    tables = {name: (out / name).read_bytes() for name in ("grades.csv", "summary.csv")}
    pages = {
        p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "feedback").rglob("*") if p.is_file()
    }
    return tables | pages


def _summary(out: Path) -> dict[str, dict[str, str]]:
    return {row["student_id"]: row for row in csv.DictReader((out / "summary.csv").open())}


class Killer(threading.Thread):
    """Kills (SIGKILL) the Dask worker process grading a student, as many times as planned per student.

    A cluster slot's grader runs `autograder.worker /…/rectified-slot-N/work`; while it grades a student,
    work/students/<id> exists. Its parent is the Dask worker process, whose nanny starts a new one.
    """

    def __init__(self, snap: Path, plan: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.snap, self.plan, self.killed = snap, dict(plan), []
        self.done = threading.Event()

    def run(self) -> None:
        while any(self.plan.values()) and not self.done.is_set():
            for pid in _ours(self.snap):
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
                    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if "autograder.worker" not in argv or parent in [p for _, p in self.killed]:
                    continue
                work = Path(argv[argv.index("autograder.worker") + 1])
                if not work.parent.name.startswith("rectified-slot-"):
                    continue  # a local grading's grader, not a cluster slot's
                busy = [s for s in self.plan if self.plan[s] and (work / "students" / s).is_dir()]
                if busy:
                    os.kill(parent, signal.SIGKILL)
                    self.plan[busy[0]] -= 1
                    self.killed.append((busy[0], parent))
            time.sleep(0.2)


def test_a_class_graded_on_two_workers_equals_the_local_grading(
    snap, dask_cluster, classroom, local, tmp_path
):
    run = _grade(snap, classroom, tmp_path / "out", "--scheduler", dask_cluster.address)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"on the Dask cluster at {dask_cluster.address}" in run.stderr
    assert _summary(tmp_path / "out")["ada"]["status"] == "graded"
    # Three students on two single-threaded workers: one worker graded two, with the grader it started
    # for the first (the trap of test_a_grader_outlives_the_task_thread_that_asked_for_it).
    assert _files(tmp_path / "out") == _files(local)


def test_a_killed_worker_and_an_interrupted_command_change_nothing(
    snap, dask_cluster, classroom, local, tmp_path
) -> None:
    out = tmp_path / "out"
    killer = Killer(snap, {"ben": 1})
    killer.start()
    command = _command(snap, classroom, out, "--scheduler", dask_cluster.address)
    first = subprocess.Popen(
        command, cwd=snap, env=_env(snap), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + TIMEOUT
    while not list((out / ".work" / "results").glob("*/*.json")) and first.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)  # Ctrl-C, once the first result is saved
    first.communicate(timeout=TIMEOUT)
    resumed = _grade(snap, classroom, out, "--scheduler", dask_cluster.address)
    killer.done.set()
    killer.join()
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    done = re.search(r"Grading 3 submissions \((\d) already done\)", resumed.stderr)
    assert done and int(done.group(1)) >= 1, resumed.stderr[-3000:]
    assert [student for student, _ in killer.killed] == ["ben"], "the worker grading ben was not killed"
    assert _files(out) == _files(local)
    dask_cluster.wait_for_workers(2)  # the nanny started a new worker in place of the killed one


def test_a_student_whose_grading_keeps_killing_workers_ends_as_kernel_died(snap, dask_cluster, tmp_path):
    classroom = _write_class(tmp_path / "subs", ("ada",))
    killer = Killer(snap, {"ada": ALLOWED_FAILURES + 1})
    killer.start()
    run = _grade(snap, classroom, tmp_path / "out", "--scheduler", dask_cluster.address)
    killer.done.set()
    killer.join()
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(killer.killed) == ALLOWED_FAILURES + 1
    ada = _summary(tmp_path / "out")["ada"]
    assert ada["status"] == "kernel-died", ada
    assert f"stopped {ALLOWED_FAILURES + 1} Dask workers in a row" in ada["message"], ada
    assert float(ada["score"]) == 0 and float(ada["max_score"]) > 0, ada
    again = _grade(snap, classroom, tmp_path / "out", "--scheduler", dask_cluster.address)
    assert "(1 already done)" in again.stderr, "a rerun must not kill more workers"
    dask_cluster.wait_for_workers(2)


def test_a_worker_with_another_course_version_refuses_clearly(snap, tmp_path) -> None:
    other = localcluster.snapshot(tmp_path / "other")
    solution = other / "solutions" / ASSIGNMENT / NAME
    solution.write_text(solution.read_text() + "\n")  # one byte more: another version of the course
    settings = {"PYTHONPATH": str(other)}
    submissions = _write_class(tmp_path / "subs", ("ada",))
    sub = collect.collect(submissions)[0]
    limits = sandbox.Limits()
    key = runner.grading_key(limits)
    with localcluster.LocalCluster(1, tmp_path / "dask", settings) as mismatched:
        pending = [("ada", [sub], {ASSIGNMENT: "f" * 16})]
        template = (tmp_path / "template", {ASSIGNMENT: []})  # refused before it is used
        template[0].mkdir()
        finished = cluster.grade_on_cluster(
            mismatched.address, pending, limits, key, template, tmp_path / "work", tmp_path
        )
        with pytest.raises(SystemExit) as refused:
            list(finished)
    message = str(refused.value)
    assert "another version of the course or grader" in message
    assert key in message and runner.grading_key(limits, other) in message
    assert not (tmp_path / "work" / "results").exists()


def _waits_on_stdin(pid: int) -> bool:
    """True once the process blocks reading its stdin (the grading process does only after its set-up)."""
    read = {"x86_64": "0", "aarch64": "63"}[os.uname().machine]
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()[:2] == [read, "0x0"]
    except OSError:
        return False


def _grader_from_a_thread_that_ends(start, tmp_path: Path) -> runner.Worker:
    """Start a grading process from a thread that lives until it is set up, then ends (as Dask's may)."""
    started = []
    tmp_path.mkdir()

    def in_a_thread() -> None:
        limits = dataclasses.replace(sandbox.Limits(), user_id=sandbox.FIRST_UID + 999)
        started.append(start(tmp_path, limits, tmp_path / "grader.log"))
        deadline = time.monotonic() + 120
        while not _waits_on_stdin(started[0].process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    return started[0]


def test_a_grader_outlives_the_task_thread_that_asked_for_it(tmp_path: Path) -> None:
    # The trap: the grading process dies with the *thread* that started it (PR_SET_PDEATHSIG) ...
    direct = _grader_from_a_thread_that_ends(runner.Worker, tmp_path / "direct")
    assert direct.process.wait(timeout=30) == -signal.SIGKILL
    # ... so a cluster slot has its graders started by a thread that lives as long as the worker process.
    kept = _grader_from_a_thread_that_ends(cluster.start_grader, tmp_path / "kept")
    try:
        time.sleep(1)
        assert kept.alive
    finally:
        kept.stop()


def test_the_scheduler_option_reaches_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(runner, "grade", lambda *args, **asked: calls.append(asked) or [])
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert (
        cli.main(
            ["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--scheduler", "tcp://10.0.0.5:8786"]
        )
        == 0
    )
    assert calls == [{}, {"scheduler": "tcp://10.0.0.5:8786"}]  # without it, nothing changes


@pytest.mark.parametrize("address", ["10.0.0.5:8786", "tcp://10.0.0.5", "http://host:8786", "tcp://a b:1"])
def test_a_scheduler_that_is_not_an_address_is_refused(address: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.parse_args(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--scheduler", address])
    assert (
        stop.value.code == 2 and "is not a scheduler address like tcp://HOST:PORT" in capsys.readouterr().err
    )
