"""The course's one command line: `python -m autograder VERB ...` (`--help` lists the verbs).

`grade SUBMISSIONS --out OUT [--jobs N]` grades a class (SUBMISSIONS may be an LMS zip); the other verbs hand
their arguments to the module that does the work, which also runs alone as `python -m <module>`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import sys
from pathlib import Path

from autograder import lms, outputs, report, runner, safezip, sandbox


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def scheduler_address(text: str) -> str:
    """An argparse type: a Dask scheduler's address, tcp://HOST:PORT or tls://HOST:PORT."""
    if not re.fullmatch(r"(tcp|tls)://[^\s/]+:\d+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address like tcp://HOST:PORT")
    return text


# verb -> (what it does, the module whose main(argv) does it)
VERBS = {
    "notebooks": ("regenerate the student notebooks in notebooks/ from solutions/", "autograder.course"),
    "lint": ("check the source notebooks' form: test cells, points, headings", "autograder.lint"),
    "demo": ("grade a small synthetic class in demo-out/ and print the scores", "autograder.demo"),
    "classroom": ("grade one student's repository for GitHub Classroom", "autograder.classroom"),
    "selfcheck": (
        "run a notebook's visible tests in a fresh kernel (the student's check)",
        "rectified.selfcheck",
    ),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    grade = commands.add_parser(
        "grade", help="grade a folder of submissions <student_id>/<assignment>/<name>.ipynb"
    )
    grade.add_argument(
        "submissions",
        type=Path,
        help="folder of submissions, or a Canvas or Moodle 'download submissions' zip",
    )
    grade.add_argument(
        "--out", type=Path, required=True, help="folder for grades.csv, summary.csv and feedback/"
    )
    grade.add_argument("--jobs", type=positive, default=os.cpu_count() or 1, help="students graded at once")
    grade.add_argument(
        "--scheduler",
        type=scheduler_address,
        metavar="tcp://HOST:PORT",
        help="grade on this Dask distributed cluster instead of --jobs at a time here (docs/cluster.md)",
    )
    defaults = sandbox.Limits()
    grade.add_argument(
        "--cell-timeout", type=positive, default=defaults.cell_seconds, help="seconds per cell"
    )
    grade.add_argument(
        "--notebook-timeout", type=positive, default=defaults.notebook_seconds, help="seconds per notebook"
    )
    grade.add_argument(
        "--memory-mb",
        type=positive,
        default=defaults.memory_bytes >> 20,
        help="address space per notebook kernel",
    )
    grade.add_argument(
        "--max-notebook-mb",
        type=positive,
        default=safezip.Limits().file_bytes >> 20,
        help="for an LMS zip: refuse a file that inflates to more (and an export over 100 times that)",
    )
    grade.add_argument(
        "--regrade", action="store_true", help="grade everything again, ignoring results saved in --out"
    )
    grade.add_argument(
        "--regrade-student",
        action="append",
        default=[],
        metavar="ID",
        help="grade this student again, ignoring saved results (repeatable); with --regrade-assignment, "
        "only the listed students' listed assignments",
    )
    grade.add_argument(
        "--regrade-assignment",
        action="append",
        default=[],
        metavar="NAME",
        help="grade this assignment again for every student, ignoring saved results (repeatable); "
        "with --regrade-student, only the listed students' listed assignments",
    )
    grade.add_argument(
        "--canvas-column",
        action="append",
        default=[],
        metavar="NAME (ID)",
        help="for a Canvas export: the existing Canvas assignment that canvas_grades.csv updates, as Canvas "
        "names its gradebook column; ASSIGNMENT=NAME (ID) when the export holds several assignments "
        "(repeatable; default: a new column named after the assignment)",
    )
    for verb, (summary, module) in VERBS.items():
        commands.add_parser(verb, help=f"{summary} (python -m {module})", add_help=False)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the command; for grade, exit 0 when every submission got its rows."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in VERBS:
        return importlib.import_module(VERBS[argv[0]][1]).main(argv[1:])
    args = parse_args(argv)
    if not args.submissions.exists():
        print(f"error: {args.submissions} does not exist", file=sys.stderr)
        return 2
    limits = sandbox.Limits(
        cell_seconds=args.cell_timeout,
        notebook_seconds=args.notebook_timeout,
        memory_bytes=args.memory_mb << 20,
    )
    submissions, unpacked = args.submissions.resolve(), None
    if submissions.is_file():  # an LMS export: unpacked with nbgrader's zip_collect into OUT/submissions
        submissions = args.out.resolve() / "submissions"
        shutil.rmtree(submissions, ignore_errors=True)
        try:
            unpacked = lms.unpack(
                args.submissions, submissions, safezip.Limits(file_bytes=args.max_notebook_mb << 20)
            )
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(lms.describe(unpacked), file=sys.stderr)
    try:  # before grading, so a mistyped option costs nothing
        columns = outputs.canvas_columns(args.canvas_column, unpacked)
    except outputs.BadCanvasColumn as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    regrade = runner.Regrade(args.regrade, tuple(args.regrade_student), tuple(args.regrade_assignment))
    # regrade and scheduler are passed only when asked for, so four-argument stand-ins of runner.grade fit
    asked = {"regrade": regrade} if regrade else {}
    if args.scheduler:
        asked["scheduler"] = args.scheduler
    try:
        results = runner.grade(submissions, args.out.resolve(), args.jobs, limits, **asked)
    except runner.UnknownSelection as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if unpacked is not None:
        results = lms.merge(results, unpacked)
        report.write_tables(args.out.resolve(), results)
    written = outputs.write(args.out.resolve(), submissions, results, unpacked, columns)
    print(report.format_table(results))
    print(f"\nWrote {args.out / 'grades.csv'}, {args.out / 'summary.csv'} and {args.out / 'feedback'}/")
    print("and " + ", ".join(str(args.out / path.name) for path in written))
    return 0
