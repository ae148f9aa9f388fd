"""GitHub Classroom: grade one student's repository with the course's grader and report the points.

    python -m autograder.classroom STUDENT_REPO [--assignment all|AID[,AID...]] [--out OUT] [--student ID]

The student's notebooks are found at notebooks/<assignment>/<name>.ipynb (the layout of the released
course), <assignment>/<name>.ipynb or <name>.ipynb, and graded exactly as `python -m autograder grade`
grades them (sandbox, repair, hidden tests from this course's solutions/). The result is written in the
format of GitHub Classroom's grading reporter (classroom-resources/autograding-grading-reporter): a JSON
object {version, status, max_score, tests: [{name, status, score, message, ...}]}, base64-encoded, as the
step output `result` (appended to $GITHUB_OUTPUT when that is set) and to OUT/classroom-result.json.
One test per graded test cell; its score is the cell's points.

Exit status: 0 all points earned, 1 graded with points missing, 2 nothing could be graded.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from autograder import course, report, runner, sandbox

FULL, MISSING, FAILED = 0, 1, 2


def find_notebooks(repo: Path, assignment: str) -> dict[str, Path]:
    """Released notebook name -> the student's file for it, for the places a student repo may keep it."""
    found = {}
    for name in course.notebook_names(assignment):
        for candidate in (repo / "notebooks" / assignment / name, repo / assignment / name, repo / name):
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def wanted_assignments(repo: Path, spec: str) -> list[str]:
    """The assignments to grade: 'all', a comma-separated list, or '' for those whose notebooks are there."""
    known = course.assignments()
    if spec.strip() in ("", "auto"):
        return [a for a in known if find_notebooks(repo, a)]
    if spec.strip() == "all":
        return known
    chosen = [a.strip() for a in spec.split(",") if a.strip()]
    unknown = [a for a in chosen if a not in known]
    if unknown:
        raise SystemExit(
            f"error: unknown assignment {', '.join(unknown)} (the course has {', '.join(known)})"
        )
    return chosen


def _number(x: float) -> int | float:
    """2 rather than 2.0 in the JSON."""
    return int(x) if float(x).is_integer() else round(x, 4)


def reporter_result(results: list[report.Result], repo_layout: dict[str, str]) -> dict:
    """The grading reporter's JSON for a list of results: one test per test cell."""
    tests = []
    for result in sorted(results, key=lambda r: r.assignment):
        for cell in result.cells:
            earned = result.status == "graded" and cell.score >= cell.max_score
            if earned:
                message = ""
            elif result.status == "graded":
                page = cell.notebook.removesuffix(".ipynb") + ".html"
                message = f"{cell.cell_id} failed: the run's 'feedback' artifact ({page}) shows why"
            else:
                message = result.message or result.status
            tests.append(
                {
                    "name": f"{result.assignment} {cell.cell_id}",
                    "status": "pass" if earned else "fail",
                    "score": _number(cell.score),
                    "message": message,
                    "test_code": "",
                    "filename": repo_layout.get(result.assignment, ""),
                    "line_no": 0,
                    "execution_time": "",
                }
            )
        if not result.cells:
            tests.append(
                {
                    "name": result.assignment,
                    "status": "error",
                    "score": 0,
                    "message": result.message or result.status,
                    "test_code": "",
                    "filename": repo_layout.get(result.assignment, ""),
                    "line_no": 0,
                    "execution_time": "",
                }
            )
    max_score = sum(r.max_score for r in results)
    if not tests:
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {"version": 1, "status": status, "max_score": _number(max_score), "tests": tests}


def encode(result: dict) -> str:
    """The reporter reads each runner's result as base64 of compact JSON."""
    return base64.b64encode(json.dumps(result, separators=(",", ":")).encode()).decode()


def _step_summary(results: list[report.Result]) -> str:
    """Markdown for the workflow run's summary page."""
    lines = ["| assignment | points | status | notes |", "|---|---|---|---|"]
    for r in sorted(results, key=lambda r: r.assignment):
        notes = r.message.replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {r.assignment} | {report.number(r.score)}/{report.number(r.max_score)} | {r.status} | {notes} |"
        )
    return "\n".join(lines) + "\n"


def grade_repo(
    repo: Path, out: Path, assignments: list[str], student: str, jobs: int, limits
) -> list[report.Result]:
    """Lay the student's notebooks out for the grading command, grade them, and return the results."""
    with tempfile.TemporaryDirectory(prefix="classroom-") as tmp:
        submissions = Path(tmp) / "submissions"
        for assignment in assignments:
            folder = submissions / student / assignment
            folder.mkdir(parents=True)  # empty when the notebook is missing: graded as 0 with the reason
            for name, path in find_notebooks(repo, assignment).items():
                shutil.copy2(path, folder / name)
        return runner.grade(submissions, out, jobs, limits)


def main(argv: list[str] | None = None) -> int:
    """Grade, print the table, write the reporter's result; the exit status says whether points are missing."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.classroom", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("repo", type=Path, help="the student's repository (a checkout)")
    parser.add_argument(
        "--assignment",
        default="auto",
        help="'all', assignment ids separated by commas, or 'auto' (default): those whose notebook is there",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("grading-output"), help="grades, feedback and result"
    )
    parser.add_argument("--student", default="student", help="the name the grader files the student under")
    parser.add_argument("--jobs", type=int, default=1, help="assignments graded at once")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    repo, out = args.repo.resolve(), args.out.resolve()
    assignments = wanted_assignments(repo, args.assignment)
    layout = {
        a: os.path.relpath(next(iter(find_notebooks(repo, a).values())), repo)
        for a in assignments
        if find_notebooks(repo, a)
    }
    if assignments:
        results = grade_repo(repo, out, assignments, args.student, args.jobs, sandbox.Limits())
    else:
        results = []
    result = reporter_result(results, layout)
    if not assignments:
        result["tests"] = [
            {
                "name": "notebooks",
                "status": "error",
                "score": 0,
                "message": "no notebook of the course was found: keep them at notebooks/<assignment>/<name>.ipynb",
            }
        ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "classroom-result.json").write_text(json.dumps(result, indent=1))
    encoded = encode(result)
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as handle:
            handle.write(f"result={encoded}\n")
    if os.environ.get("GITHUB_STEP_SUMMARY") and results:
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as handle:
            handle.write(_step_summary(results))
    if results:
        print(report.format_table(results))
    earned = sum(t["score"] for t in result["tests"])
    print(f"\nPoints {report.number(earned)}/{report.number(result['max_score'])}")
    if result["status"] == "error" or not results or all(r.status not in ("graded",) for r in results):
        return FAILED
    return FULL if result["status"] == "pass" else MISSING


if __name__ == "__main__":
    sys.exit(main())
