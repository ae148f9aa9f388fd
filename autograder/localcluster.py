"""A Dask scheduler and workers as separate processes on 127.0.0.1, to try cluster grading on one machine.

    python -m autograder.localcluster [--workers 2]

starts them and prints the address to pass as `grade --scheduler`, until Ctrl-C. The tests and the
benchmark use `LocalCluster` the same way. These are the `dask scheduler` / `dask worker` commands of
docs/cluster.md, run with this checkout's Python, as an instructor would run them by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from autograder import course

START_SECONDS = 120  # importing distributed and connecting, on a busy 2-core machine


SNAPSHOT_FOLDERS = ("autograder", "rectified", "solutions", "notebooks", "data")


def snapshot(dest: Path) -> Path:
    """Copy what grading reads (course, helpers, data, grader) to dest, as it is now; return dest.

    Run with PYTHONPATH=dest and cwd=dest, the grading command and the workers then agree on one version of
    the course while the checkout itself is being edited (they compare grading keys, autograder.cluster).
    """
    skip = shutil.ignore_patterns("__pycache__", ".*")
    for folder in SNAPSHOT_FOLDERS:
        shutil.copytree(course.REPO / folder, dest / folder, ignore=skip, dirs_exist_ok=True)
    for name in course.CONFIG_FILES:
        shutil.copy2(course.REPO / name, dest / name)
    return dest


class LocalCluster:
    """A scheduler and `workers` single-threaded workers (each under its nanny), stopped by stop()."""

    def __init__(self, workers: int, folder: Path | None = None, env: dict[str, str] | None = None) -> None:
        """Start them; env is added to the grader's environment (PYTHONPATH=a snapshot, say)."""
        self.folder = Path(folder or tempfile.mkdtemp(prefix="rectified-dask-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = course.nbgrader_env() | (env or {})
        self.scheduler_file = self.folder / "scheduler.json"
        self.scheduler_file.unlink(missing_ok=True)
        self.scheduler = self._start(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
        )
        self.workers: list[subprocess.Popen] = []
        deadline = time.monotonic() + START_SECONDS
        while not self.scheduler_file.is_file():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                self.stop()
                raise RuntimeError(f"the Dask scheduler did not start; see {self.folder / 'scheduler.log'}")
            time.sleep(0.2)
        for _ in range(workers):
            self.add_worker()
        self.wait_for_workers(workers)

    @property
    def address(self) -> str:
        """The scheduler's tcp://HOST:PORT."""
        for _ in range(50):  # written by the scheduler, possibly not completely yet
            with contextlib.suppress(ValueError, KeyError):
                return json.loads(self.scheduler_file.read_text())["address"]
            time.sleep(0.1)
        raise RuntimeError(f"unreadable {self.scheduler_file}")

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        """One `dask` command in a session of its own, its output in FOLDER/NAME.log."""
        command = [course.PYTHON, "-m", "distributed.cli.dask_" + args[0], *args[1:]]
        command += ["--scheduler-file", str(self.scheduler_file)]
        with (self.folder / f"{name}.log").open("a") as log:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.folder,
                env=self.env,
                start_new_session=True,
            )

    def add_worker(self) -> subprocess.Popen:
        """Start one more worker process (with its nanny): one task at a time."""
        name = f"worker-{len(self.workers)}"
        args = ["worker", "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--name", name]
        args += ["--local-directory", str(self.folder / name)]
        worker = self._start(name, args)
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        """Wait until `count` workers are connected."""
        from distributed import Client

        with Client(self.address, timeout=START_SECONDS) as client:
            client.wait_for_workers(count, timeout=START_SECONDS)

    def stop(self) -> None:
        """Stop workers, then the scheduler, each with everything it started."""
        # A nanny asked to stop closes its worker, which then stops its graders (autograder.cluster).
        for process in [*self.workers, self.scheduler]:
            process.terminate()
        for process in [*self.workers, self.scheduler]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
            with contextlib.suppress(ProcessLookupError):  # whatever did not stop in time
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *_) -> None:
        self.stop()


def main() -> None:
    """Start a scheduler and workers here and keep them until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m autograder.localcluster", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="worker processes, one task each")
    args = parser.parse_args()
    with LocalCluster(args.workers) as cluster:
        print(f"Scheduler at {cluster.address} with {args.workers} workers (logs in {cluster.folder}).")
        print(f"Grade with: python -m autograder grade SUBMISSIONS --out OUT --scheduler {cluster.address}")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
