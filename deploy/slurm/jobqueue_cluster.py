"""Dask workers for grading as Slurm (or PBS) jobs, started by dask-jobqueue; see docs/cluster.md.

    .venv/bin/pip install dask-jobqueue   # not in requirements.txt: only the cluster's login node needs it
    .venv/bin/python deploy/slurm/jobqueue_cluster.py --jobs 10 [--pbs] [--queue NAME]

prints the scheduler's address and keeps the scheduler (in this process) and the workers until Ctrl-C;
meanwhile, in another shell, grade with `python -m autograder grade SUBMISSIONS --out OUT --scheduler ADDRESS`.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROLOGUE = [
    f"cd {REPO}",
    f"export PATH={REPO / '.venv' / 'bin'}:$PATH TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0",
]


def main() -> None:
    """Start the jobs and wait."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=4, help="batch jobs, each with --cores grading workers")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--memory", default="8GB", help="per job: about 3 GB per core")
    parser.add_argument("--walltime", default="02:00:00")
    parser.add_argument("--queue", help="Slurm partition or PBS queue")
    parser.add_argument("--pbs", action="store_true", help="PBS instead of Slurm")
    parser.add_argument("--interface", help="network interface the nodes reach each other on (ib0, eth0)")
    args = parser.parse_args()
    from dask_jobqueue import PBSCluster, SLURMCluster

    kind = PBSCluster if args.pbs else SLURMCluster
    cluster = kind(
        queue=args.queue,
        cores=args.cores,
        processes=args.cores,  # one single-threaded worker process per core: one student each
        memory=args.memory,
        walltime=args.walltime,
        python=str(REPO / ".venv" / "bin" / "python"),
        job_script_prologue=PROLOGUE,
        worker_extra_args=["--no-dashboard"],
        interface=args.interface,
    )
    cluster.scale(jobs=args.jobs)
    print(cluster.job_script())
    print(f"\nScheduler at {cluster.scheduler_address}; grade with --scheduler {cluster.scheduler_address}")
    try:
        signal.pause()
    except KeyboardInterrupt:
        cluster.close()


if __name__ == "__main__":
    main()
