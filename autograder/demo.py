"""`make demo`: grade a small synthetic class with the grading command and print the scores.

The class: `ada` hands in the reference solutions, `ben` the blank student notebooks, and `cy` a notebook
where only the first half of the exercises are done.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat

from autograder import cli, course


def partly_done(assignment: str, name: str) -> nbformat.NotebookNode:
    """The student notebook with the first half of its solution cells filled in from the reference."""
    solution = nbformat.read(course.SOLUTIONS / assignment / name, as_version=4)
    student = nbformat.read(course.RELEASE / assignment / name, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells if _is_solution(c)}
    to_fill = [c for c in student.cells if _is_solution(c)]
    for cell in to_fill[: (len(to_fill) + 1) // 2]:
        cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    return student


def _is_solution(cell: nbformat.NotebookNode) -> bool:
    """True for a cell the student writes."""
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def make_class(folder: Path) -> None:
    """Write the three students' submissions under folder."""
    shutil.rmtree(folder, ignore_errors=True)
    for assignment in course.assignments():
        for name in course.notebook_names(assignment):
            for student in ("ada", "ben", "cy"):
                (folder / student / assignment).mkdir(parents=True, exist_ok=True)
            shutil.copy2(course.SOLUTIONS / assignment / name, folder / "ada" / assignment / name)
            shutil.copy2(course.RELEASE / assignment / name, folder / "ben" / assignment / name)
            nbformat.write(partly_done(assignment, name), folder / "cy" / assignment / name)


def main(argv: list[str] | None = None) -> int:
    """Build the class in demo-out/ and grade it (no options)."""
    if argv:
        print("usage: python -m autograder demo   (no options)", file=sys.stderr)
        return 2
    out = Path("demo-out")
    make_class(out / "submissions")
    return cli.main(["grade", str(out / "submissions"), "--out", str(out / "grades")])


if __name__ == "__main__":
    sys.exit(main())
