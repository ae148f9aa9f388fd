"""Grade on an existing Dask distributed cluster: one task per student, no shared disk.

The grading command (the client) keeps all the bookkeeping of a local run: it collects the submissions,
decides what a saved result still covers, and writes results, feedback and tables into --out. Only the
grading of a student moves: `grade_remotely` runs on a Dask worker with the student's files as task data
and returns what local grading would have written (each assignment's result, feedback pages and nbgrader's
log), which the client writes exactly where local grading writes them.

On the worker each task thread owns a slot: a private folder, a course template and a grading process
(runner.Worker) whose kernels run as a user id no other slot on the host uses, claimed with a lock file.
The grading processes are started from one long-lived thread of this module, because the grading process
asks Linux (PR_SET_PDEATHSIG) to kill it when the *thread* that started it ends, and Dask's task threads
may end. A worker whose course or grader differs from the client's refuses every task (CourseMismatch).

A worker that dies mid-task loses nothing: Dask runs the task again on another worker. A student whose
grading kills `distributed.scheduler.allowed-failures` + 1 workers in a row ends as `kernel-died`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import io
import logging
import os
import queue
import shutil
import signal
import subprocess
import tarfile
import tempfile
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from distributed import Client, KilledWorker, WorkerPlugin, as_completed

from autograder import collect, course, report, runner, sandbox

logger = logging.getLogger(__name__)

# Kernels of cluster slots run as FIRST_UID + this + n, apart from a local run's slots on the same host.
CLUSTER_UID_OFFSET = 1000
UID_OFFSET_VARIABLE = "RECTIFIED_CLUSTER_UID_OFFSET"  # for hosts (Kubernetes nodes) shared by worker pods
MAX_SLOTS_PER_HOST = 1000
COMMIT_VARIABLE = "RECTIFIED_COMMIT"  # a worker image without .git says its commit here
UID_LOCKS = Path("/tmp/rectified-cluster-uids")  # host-wide, whatever TMPDIR each worker has


class CourseMismatch(RuntimeError):
    """A worker's course or grader is not the client's: its grades would not be the client's grades."""


def course_commit(repo: Path = course.REPO) -> str:
    """The commit of the course checkout (or $RECTIFIED_COMMIT), 'unknown' when neither says."""
    if os.environ.get(COMMIT_VARIABLE):
        return os.environ[COMMIT_VARIABLE]
    try:
        found = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return found.stdout.strip() if found.returncode == 0 else "unknown"


@functools.cache
def _own_key(limits: sandbox.Limits) -> str:
    """This worker's grading key, as of its first task: the grader modules it has loaded stay as they were."""
    return runner.grading_key(limits)


def check_course(client_key: str, client_commit: str, limits: sandbox.Limits) -> None:
    """Refuse to grade when this machine's course, grader or limits would give another grading key."""
    own_key = _own_key(limits)
    if own_key != client_key:
        raise CourseMismatch(
            f"the Dask worker on {os.uname().nodename} has another version of the course or grader "
            f"(commit {course_commit()}, grading key {own_key}) than the grading command "
            f"(commit {client_commit}, grading key {client_key}); install the course at the same commit "
            "on every worker and restart it"
        )


# --- the worker side --------------------------------------------------------------------------------

# One thread that lives as long as the worker process: grading processes started from it are not killed
# when a Dask task thread ends.
_STARTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rectified-starter")
_FREE_SLOTS: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
_ALL_SLOTS: list[_Slot] = []


def start_grader(work: Path, limits: sandbox.Limits, log: Path) -> runner.Worker:
    """A grading process started from this module's long-lived thread, whichever thread asks."""
    return _STARTER.submit(runner.Worker, work, limits, log).result()


def _claim_uid_lock() -> tuple[int, object]:
    """The lowest slot number no other process on this host holds, and its held lock file."""
    UID_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
    for number in range(MAX_SLOTS_PER_HOST):
        handle = (UID_LOCKS / f"slot-{number}.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return number, handle  # held until this process ends, however it ends
    raise RuntimeError(f"more than {MAX_SLOTS_PER_HOST} grading slots on one host")


def pack_template(template: Path) -> bytes:
    """The course template the command built (runner.build_template), as a tar.gz for the workers.

    A worker whose course gives the command's grading key would build the same template: sent once, it
    spares each new worker process the 10-30 s of nbgrader's generate_assignment.
    """
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(template, arcname="template")
    return archive.getvalue()


def _as_received(data: bytes) -> bytes:
    """The task that holds data on the cluster (see grade_on_cluster)."""
    return data


class _Slot:
    """What one task thread of a Dask worker grades with: a folder, a template and a grading process."""

    def __init__(self, template: bytes, cells: dict[str, list[report.CellScore]]) -> None:
        self.number, self._lock = _claim_uid_lock()
        self.user_id = _slot_user_id(self.number)
        # Named by the slot's number, so that whoever holds the slot next clears what a killed worker left.
        self.folder = Path(tempfile.gettempdir()) / f"rectified-slot-{self.number}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.work = self.folder / "work"
        self.out = self.folder / "out"
        self.work.mkdir(parents=True)
        self.folder.chmod(0o700)
        with tarfile.open(fileobj=io.BytesIO(template), mode="r:gz") as tar:
            tar.extractall(self.work, filter="data")
        self.template, self.cells = self.work / "template", cells
        self.grader: runner.Worker | None = None
        _ALL_SLOTS.append(self)

    def _grader(self, limits: sandbox.Limits) -> runner.Worker:
        """This slot's grading process for these limits, started (from the long-lived thread) if needed."""
        own = dataclasses.replace(limits, user_id=self.user_id)
        if self.grader is None or not self.grader.alive or self.grader.limits != own:
            if self.grader is not None:
                self.grader.close()
            log = self.work / "logs" / f"worker-{self.number}.log"
            self.grader = start_grader(self.work, own, log)
        return self.grader

    def grade(self, packed: dict, limits: sandbox.Limits) -> dict:
        """Grade one packed student as runner.grade_student does locally; return what it wrote."""
        student_id = packed["student"]
        incoming = self.folder / "incoming" / student_id
        left_behind = [
            incoming,
            self.work / "results" / student_id,
            self.work / "logs" / student_id,
            self.out / "feedback" / student_id,
        ]
        for folder in left_behind:  # a task the worker died in may have left them
            shutil.rmtree(folder, ignore_errors=True)
        subs, fingerprints = [], {}
        for assignment, fingerprint, files in packed["assignments"]:
            folder = incoming / assignment
            folder.mkdir(parents=True)
            for name, content in files.items():
                (folder / Path(name).name).write_bytes(content)
            notebooks = sorted(p for p in folder.iterdir() if p.suffix == ".ipynb")
            subs.append(collect.Submission(student_id, assignment, folder, notebooks=notebooks))
            fingerprints[assignment] = fingerprint
        try:
            grader = self._grader(limits)
            runner.grade_student(
                student_id, subs, self.template, self.work, self.out, fingerprints, self.cells, grader
            )
            return {
                "student": student_id,
                "sandboxed": sandbox.bwrap_available(),
                "assignments": self._written(subs),
            }
        finally:
            for folder in left_behind:
                shutil.rmtree(folder, ignore_errors=True)

    def _written(self, subs: list[collect.Submission]) -> list[dict]:
        """Per assignment: its saved result, its feedback pages (None when none were made) and its log."""
        written = []
        for sub in subs:
            result = report.load_result(self.work, sub.student_id, sub.assignment)
            pages = self.out / "feedback" / sub.student_id / sub.assignment
            log = self.work / "logs" / sub.student_id / f"{sub.assignment}.log"
            written.append(
                {
                    "assignment": sub.assignment,
                    "result": dataclasses.asdict(result),
                    "feedback": {
                        p.relative_to(pages).as_posix(): p.read_bytes()
                        for p in pages.rglob("*")
                        if p.is_file()
                    }
                    if pages.is_dir()
                    else None,
                    "log": log.read_text(errors="replace") if log.is_file() else None,
                }
            )
        return written

    def close(self) -> None:
        """Stop the grading process (idle between tasks: nothing to finish) and remove the slot's folder."""
        if self.grader is not None:
            self.grader.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _slot_user_id(number: int) -> int:
    """The user id the kernels of slot `number` run as (when the worker runs as root)."""
    return sandbox.FIRST_UID + int(os.environ.get(UID_OFFSET_VARIABLE, CLUSTER_UID_OFFSET)) + number


def _processes_of(user_id: int) -> list[int]:
    """The pids of every process whose real user is user_id."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        uid_line = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
        if uid_line.split()[1:2] == [str(user_id)]:
            pids.append(int(entry.name))
    return pids


def sweep_dead_slots() -> None:
    """Clear what the slots of killed worker processes on this host left: their folders and kernels.

    A worker killed outright (SIGKILL, the out-of-memory killer) takes its grading process with it, but
    a kernel server it had started can outlive it; as the slot's user id belongs to that slot alone, every
    process still running as it is such a leftover.
    """
    for lock in sorted(UID_LOCKS.glob("slot-*.lock")):
        with lock.open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live worker's slot
            number = int(lock.stem.removeprefix("slot-"))
            if os.geteuid() == 0:
                for pid in _processes_of(_slot_user_id(number)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            shutil.rmtree(Path(tempfile.gettempdir()) / f"rectified-slot-{number}", ignore_errors=True)


class ClosesSlots(WorkerPlugin):
    """Clears dead slots when a worker starts, and closes its own when it closes (there is no atexit)."""

    name = "rectified-slots"
    idempotent = True  # registered by every grading command: set up once per worker, never torn down early

    def setup(self, worker) -> None:
        sweep_dead_slots()

    def teardown(self, worker) -> None:
        while _ALL_SLOTS:
            _ALL_SLOTS.pop().close()


def grade_remotely(
    packed: dict, client_key: str, client_commit: str, limits_fields: dict, template: bytes, cells: dict
) -> dict:
    """The Dask task: grade one student's packed submissions on this worker, in a free slot."""
    limits = sandbox.Limits(**limits_fields)
    check_course(client_key, client_commit, limits)
    try:
        slot = _FREE_SLOTS.get_nowait()
    except queue.Empty:
        slot = _Slot(template, cells)
    try:
        return slot.grade(packed, limits)
    finally:
        _FREE_SLOTS.put(slot)


# --- the client side --------------------------------------------------------------------------------


def pack(student_id: str, subs: list[collect.Submission], fingerprints: dict[str, str]) -> dict:
    """A student's files for the worker: per assignment, its fingerprint and {file name: bytes}."""
    assignments = [
        (
            sub.assignment,
            fingerprints[sub.assignment],
            {p.name: p.read_bytes() for p in runner.submission_files(sub)},
        )
        for sub in subs
    ]
    return {"student": student_id, "assignments": assignments}


def store(answer: dict, work: Path, out: Path) -> None:
    """Write a worker's answer into work and out, where local grading writes the same things."""
    student_id = answer["student"]
    for written in answer["assignments"]:
        assignment, fields = written["assignment"], dict(written["result"])
        fields["cells"] = [report.CellScore(**c) for c in fields["cells"]]
        if written["log"] is not None:
            runner_log = work / "logs" / student_id / f"{assignment}.log"
            runner_log.parent.mkdir(parents=True, exist_ok=True)
            runner_log.write_text(written["log"])
        if written["feedback"] is not None:
            dest = out / "feedback" / student_id / assignment
            shutil.rmtree(dest, ignore_errors=True)
            for name, content in written["feedback"].items():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                (dest / name).write_bytes(content)
        report.save_result(work, report.Result(**fields))  # last: a saved result means all of it is there


def unfinished(
    student_id: str, subs: list[collect.Submission], fingerprints: dict[str, str], status: str, why: str
) -> dict:
    """An answer for a student whose grading could not finish on the cluster: every assignment scores 0.

    The cells are left empty; the grading command fills them in from its template, as after a local crash.
    An "error" keeps no fingerprint, so that the next run grades the student again, as after a local crash.
    """
    assignments = []
    for sub in subs:
        fingerprint = "" if status == "error" else fingerprints[sub.assignment]
        result = report.Result(student_id, sub.assignment, status, why, [], fingerprint)
        assignments.append(
            {
                "assignment": sub.assignment,
                "result": dataclasses.asdict(result),
                "feedback": None,
                "log": None,
            }
        )
    return {"student": student_id, "sandboxed": True, "assignments": assignments}


def grade_on_cluster(
    scheduler: str,
    pending: list[tuple[str, list[collect.Submission], dict[str, str]]],
    limits: sandbox.Limits,
    run_key: str,
    template: tuple[Path, dict[str, list[report.CellScore]]],
    work: Path,
    out: Path,
) -> Iterator[tuple[str, list[collect.Submission]]]:
    """Grade each pending (student, submissions, fingerprints) as a task; yield each student once stored.

    template is what runner.build_template returned: the course copy and the test cells of each assignment.

    Only about as many tasks as the cluster has threads are submitted at a time: the submissions travel
    inside the tasks, and a worker that dies takes only the tasks it was running with it (Dask counts a
    death against every task assigned to that worker).
    """
    commit = course_commit()
    limits_fields = dataclasses.asdict(limits)
    waiting = deque(pending)
    warned = False
    with Client(scheduler) as client:
        client.register_plugin(ClosesSlots())  # on every worker, also those that join later
        # A task whose result is the template, rather than scattered data: when every worker holding it has
        # died, the scheduler computes it again from the task, where scattered data would be lost.
        shared_template = client.submit(_as_received, pack_template(template[0]), pure=False)
        running = as_completed()
        started: dict[object, tuple[str, list[collect.Submission], dict[str, str]]] = {}

        def top_up() -> None:
            room = max(1, sum(client.nthreads().values()))
            while waiting and len(started) < room:
                student_id, subs, fingerprints = waiting.popleft()
                future = client.submit(
                    grade_remotely,
                    pack(student_id, subs, fingerprints),
                    run_key,
                    commit,
                    limits_fields,
                    shared_template,
                    template[1],
                    key=f"grade-{student_id}-{uuid.uuid4().hex[:8]}",
                    pure=False,
                )
                started[future] = (student_id, subs, fingerprints)
                running.add(future)

        top_up()
        for future in running:
            student_id, subs, fingerprints = started.pop(future)
            try:
                answer = future.result()
            except CourseMismatch as error:
                for other in started:
                    other.cancel()
                raise SystemExit(f"error: {error}") from None
            except KilledWorker as error:
                why = (
                    f"grading this student stopped {error.allowed_failures + 1} Dask workers in a row (the worker "
                    "process died each time), so it was given up"
                )
                logger.warning("%s: %s", student_id, error)
                answer = unfinished(student_id, subs, fingerprints, "kernel-died", why)
            except Exception as error:  # a bug on the worker must not take the other students down
                logger.warning("%s: grading on the cluster failed: %r", student_id, error)
                why = f"grading on the cluster failed: {error!r}"[:300]
                answer = unfinished(student_id, subs, fingerprints, "error", why)
            if not answer["sandboxed"] and not warned:
                warned = True
                logger.warning(
                    "a Dask worker graded without bubblewrap: notebooks ran with resource limits but WITHOUT "
                    "filesystem and network isolation (install 'bubblewrap' on every worker)"
                )
            store(answer, work, out)
            top_up()
            yield student_id, subs
