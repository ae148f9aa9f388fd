"""Find the submissions in a folder laid out <student_id>/<assignment>/<name>.ipynb."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder import course

# nbgrader uses student ids in paths, globs and the '+'-separated exchange names.
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


@dataclass
class Submission:
    """One student's files for one assignment, and anything that already rules out grading."""

    student_id: str
    assignment: str
    folder: Path
    problem: str = ""
    notebooks: list[Path] = field(default_factory=list)


def collect(root: Path) -> list[Submission]:
    """Every (student, assignment) folder under root, sorted, known assignments or not."""
    known = set(course.assignments())
    found: list[Submission] = []
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment_dir in sorted(
            p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            sub = Submission(student_dir.name, assignment_dir.name, assignment_dir)
            sub.notebooks = sorted(
                p for p in assignment_dir.iterdir() if p.suffix == ".ipynb" and p.is_file()
            )
            if not VALID_ID.match(sub.student_id):
                sub.problem = (
                    f"the student id {sub.student_id!r} has characters nbgrader cannot use "
                    "(letters, digits, '_', '.', '@' and '-' only)"
                )
            elif sub.assignment not in known:
                sub.problem = f"there is no assignment called {sub.assignment!r} (the course has {', '.join(sorted(known))})"
            elif not sub.notebooks:
                sub.problem = "no notebook (.ipynb file) was found in this submission"
            found.append(sub)
    return found
