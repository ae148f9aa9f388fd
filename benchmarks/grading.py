"""How fast a class is graded: the grading command with 1 and 2 jobs against plain serial nbgrader.

    python benchmarks/grading.py [--students 40] [--baseline DIR]

--baseline DIR also grades the class with the grading command of another checkout of this repository
(for example `git worktree add /tmp/before HEAD~3`) and prints it beside, to measure a change of the grader.

--scheduler local also grades the class on a Dask cluster (docs/cluster.md) started here, a scheduler and
first 1, then 2 single-threaded worker processes on 127.0.0.1; --scheduler tcp://HOST:PORT grades it on that
cluster, with the workers it has. Each run includes what a cluster run costs once: every new worker builds
its course template on its first task.

Builds a synthetic class (each student hands in all six assignments: a full solution, a blank notebook or
a half-done one, in turn), grades it three ways and prints the seconds per student side by side, with the
floor of any grader that starts a fresh kernel per notebook, as nbgrader does: starting it and running each
notebook's imports. The grading command pays for the imports once per student instead: it forks each
student's kernels from one process that has imported the libraries already (autograder.forkserver).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder import course, demo, localcluster  # noqa: E402


def make_class(folder: Path, students: int) -> None:
    """Write the synthetic class: student i hands in variant i % 3 of every assignment."""
    for i in range(students):
        student = f"s{i:03d}"
        for assignment in course.assignments():
            for name in course.notebook_names(assignment):
                dest = folder / student / assignment / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                if i % 3 == 0:
                    shutil.copy2(course.SOLUTIONS / assignment / name, dest)
                elif i % 3 == 1:
                    shutil.copy2(course.RELEASE / assignment / name, dest)
                else:
                    nbformat.write(demo.partly_done(assignment, name), dest)


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds a command takes; it must succeed."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env or course.nbgrader_env(), check=True, capture_output=True)
    return time.perf_counter() - start


def grading_command(submissions: Path, out: Path, jobs: int, repo: Path = REPO) -> float:
    """Seconds for `python -m autograder grade` of the checkout at repo with the given number of jobs."""
    command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out)]
    env = course.nbgrader_env() | {"PYTHONPATH": str(repo)}  # that checkout's grader, not the installed one
    return timed([*command, "--jobs", str(jobs)], repo, env)


def on_clusters(submissions: Path, tmp: Path, scheduler: str) -> list[tuple[str, str, float]]:
    """(label, out folder, seconds) for the class graded on the cluster(s) that --scheduler names.

    The client and the workers run from one snapshot of the checkout, so that edits made meanwhile cannot
    make them disagree on the course's version.
    """
    snap = localcluster.snapshot(tmp / "snapshot")
    env = course.nbgrader_env() | {"PYTHONPATH": str(snap)}

    def timed_on(address: str, out: str) -> float:
        command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(tmp / out)]
        return timed([*command, "--scheduler", address], snap, env)

    if scheduler != "local":
        from distributed import Client

        with Client(scheduler) as client:
            workers = len(client.scheduler_info()["workers"])
        return [(f"--scheduler, {workers} workers there", "cluster", timed_on(scheduler, "cluster"))]
    timings = []
    with localcluster.LocalCluster(1, tmp / "dask", {"PYTHONPATH": str(snap)}) as cluster:
        timings.append(("--scheduler, 1 local worker", "cluster1", timed_on(cluster.address, "cluster1")))
        cluster.add_worker()
        cluster.wait_for_workers(2)
        timings.append(("--scheduler, 2 local workers", "cluster2", timed_on(cluster.address, "cluster2")))
    return timings


def plain_nbgrader(submissions: Path, root: Path) -> float:
    """Seconds for plain `nbgrader autograde`, one assignment after another, in a private course copy."""
    course.make_private_course(root)
    shutil.copytree(submissions, root / "submitted")
    start = time.perf_counter()
    for assignment in course.assignments():
        course.nbgrader(root, "autograde", assignment, "--force")
    return time.perf_counter() - start


def floor_seconds() -> float:
    """A fresh kernel plus each notebook's setup cell, summed over the six notebooks, for one student."""
    from jupyter_client.manager import start_new_kernel

    total = 0.0
    for assignment in course.assignments():
        for name in course.notebook_names(assignment):
            nb = nbformat.read(course.RELEASE / assignment / name, as_version=4)
            setup = next(
                c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"
            )
            start = time.perf_counter()
            km, kc = start_new_kernel(
                kernel_name="python3", env=course.nbgrader_env(), stderr=subprocess.DEVNULL
            )
            kc.execute_interactive(setup, timeout=120, output_hook=lambda msg: None)
            total += time.perf_counter() - start
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    return total


def main() -> None:
    """Run the three gradings and print seconds per student."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--baseline", type=Path, help="another checkout whose grading command to time beside")
    parser.add_argument(
        "--scheduler", help="'local' (start 1, then 2 Dask workers here) or tcp://HOST:PORT of a cluster"
    )
    args = parser.parse_args()
    n = args.students
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_class(tmp / "subs", n)
        print(f"Grading {n} students x {len(course.assignments())} assignments on this machine", flush=True)
        plain = plain_nbgrader(tmp / "subs", tmp / "plain") / n
        print(f"  plain nbgrader autograde (serial) ... {plain:.2f} s/student", flush=True)
        one = grading_command(tmp / "subs", tmp / "out1", 1) / n
        print(f"  grading command --jobs 1 ........... {one:.2f} s/student", flush=True)
        two = grading_command(tmp / "subs", tmp / "out2", 2) / n
        print(f"  grading command --jobs 2 ........... {two:.2f} s/student", flush=True)
        baseline = None
        if args.baseline:
            baseline = grading_command(tmp / "subs", tmp / "out0", 2, args.baseline.resolve()) / n
            print(f"  baseline {args.baseline} --jobs 2 ... {baseline:.2f} s/student", flush=True)
        clustered, outs = [], ["out1", "out2"]
        for label, out, seconds in on_clusters(tmp / "subs", tmp, args.scheduler) if args.scheduler else []:
            clustered.append((label, seconds / n))
            outs.append(out)
            print(f"  {label} ... {seconds / n:.2f} s/student", flush=True)
        floor = floor_seconds()
        same = [list(csv.reader((tmp / d / "grades.csv").open())) for d in outs]
    print()
    print(f"{'':36}{'s/student':>10}{'speed-up vs plain':>20}")
    rows = [
        ("plain nbgrader autograde, serial", plain),
        ("python -m autograder --jobs 1", one),
        ("python -m autograder --jobs 2", two),
    ]
    if baseline is not None:
        rows.append(("baseline checkout --jobs 2", baseline))
    rows += clustered
    for label, value in [*rows, ("floor: fresh kernel + imports", floor)]:
        print(f"{label:36}{value:10.2f}{plain / value:19.2f}x")
    if baseline is not None:
        print(
            f"\nthis checkout against the baseline, --jobs 2: {100 * (two / baseline - 1):+.1f}% per student"
        )
    identical = all(other == same[0] for other in same[1:])
    print(f"\n{', '.join(outs)} give identical grades: {'yes' if identical else 'NO'}")
    print("The grading command also sandboxes each kernel, repairs damaged notebooks and writes feedback;")
    print("plain nbgrader does none of these.")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
