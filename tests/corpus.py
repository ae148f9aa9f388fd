"""A class of broken, hostile and strange submissions for one assignment, beside good ones.

Each entry is a student id, how the notebook was damaged, and what the grading command must report.
Most damaged notebooks carry the full reference answers, so a correct outcome is "full marks kept".
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import course


@dataclass
class Case:
    """One student's submission and the outcome it must get."""

    student: str
    build: Callable[[nbformat.NotebookNode, nbformat.NotebookNode], object]
    status: str
    score: str  # "full", "zero", or "partial"
    message: str = ""  # a fragment the summary's message must contain


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == grade_id)


def _first_test(nb) -> str:
    return next(_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("grade"))


def _first_solution(nb) -> str:
    return next(_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("solution"))


def with_cell(code: str, after: str = "setup") -> Callable:
    """The reference solution with one extra code cell after the given cell."""

    def build(solution, released):
        nb = copy.deepcopy(solution)
        nb.cells.insert(_index(nb, after) + 1, nbformat.v4.new_code_cell(code))
        return nb

    return build


# Which file systems a submission can see is the point of the spy, so it walks them all, recursively (a glob
# without recursive=True cannot find a gradebook below the first level), within a budget of directory entries.
GRADEBOOK_SEARCH = """
def find_gradebook(roots, budget=300000):
    skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc"}
    skip_names = {"site-packages", "dist-packages", ".git", "node_modules", "__pycache__"}
    for root in roots:
        for folder, subfolders, files in os.walk(root):
            budget -= len(files) + len(subfolders)
            if budget < 0:
                return False, True
            if "gradebook.db" in files:
                return True, False
            subfolders[:] = [d for d in subfolders if d not in skip_names and os.path.join(folder, d) not in skip]
    return False, False
"""


def spy_code(paths: dict[str, str], roots: tuple[str, ...] = ("/",)) -> str:
    """A cell that reports which forbidden things it can reach: files, the network, other students, and any
    gradebook.db anywhere under `roots` (the whole visible file system; the walk skips the read-only system and
    package trees, and says so if it ran out of its budget rather than pass unseen)."""
    return f"""
import json, os, socket
seen = {{}}
for name, path in {paths!r}.items():
    seen[name] = os.path.exists(path)
{GRADEBOOK_SEARCH}
seen["any gradebook"], seen["gradebook search incomplete"] = find_gradebook({roots!r})
try:
    socket.create_connection(("127.0.0.1", {paths.get("port", 9)}), timeout=2).close()
    seen["loopback"] = True
except OSError:
    seen["loopback"] = False
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    seen["internet"] = True
except OSError:
    seen["internet"] = False
print("SPY" + json.dumps(seen))
"""


def cases(assignment: str, paths: dict[str, str]) -> list[Case]:
    """The corpus: good submissions first, then each kind of trouble."""

    def solution_only(solution, released):
        return solution

    def blank(solution, released):
        return released

    def strip_metadata(solution, released):
        nb = copy.deepcopy(solution)
        for i, cell in enumerate(nb.cells):
            cell.metadata = {}
            cell.id = f"colab{i:03d}"
        return nb

    def duplicate_test(solution, released):
        nb = copy.deepcopy(solution)
        i = _index(nb, _first_test(nb))
        nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))
        return nb

    def delete_test(solution, released):
        nb = copy.deepcopy(solution)
        del nb.cells[_index(nb, _first_test(nb))]
        return nb

    def edit_tests_on_blank(solution, released):
        nb = copy.deepcopy(released)
        for cell in nb.cells:
            if _meta(cell).get("grade"):
                cell.source = "pass  # the asserts were deleted"
        return nb

    def reorder_tests(solution, released):
        nb = copy.deepcopy(solution)
        i = _index(nb, _first_test(nb))
        nb.cells.append(nb.cells.pop(i))
        return nb

    def inflate_points(solution, released):
        nb = copy.deepcopy(solution)
        for cell in nb.cells:
            if _meta(cell).get("grade"):
                cell.metadata.nbgrader.points = 100
        return nb

    def broken_solution(solution, released):
        nb = copy.deepcopy(solution)
        cell = nb.cells[_index(nb, _first_solution(nb))]
        head = cell.source.split("### BEGIN SOLUTION")[0]
        cell.source = head + "raise ValueError('my code is broken')\n"
        return nb

    def other_assignment(solution, released):
        other = next(a for a in course.assignments() if a != assignment)
        name = course.notebook_names(other)[0]
        return nbformat.read(course.SOLUTIONS / other / name, as_version=4)

    huge_output = "print('x' * 30_000_000)\nfor i in range(200_000):\n    print(i)"
    process_bomb = (
        "import subprocess\nchildren = []\nfor _ in range(5000):\n    try:\n"
        "        children.append(subprocess.Popen(['sleep', '5']))\n    except OSError:\n        break\n"
        "print('STARTED', len(children))"
    )
    fork_and_exit = "import os, time\nfor _ in range(50):\n    if os.fork() == 0:\n        time.sleep(1)\n        os._exit(0)"
    big_file = (
        "try:\n    with open('big.bin', 'wb') as f:\n        f.write(b'0' * (200 << 20))\n"
        "    print('WROTE 200 MB')\nexcept OSError as e:\n    print('FILE LIMIT', e)"
    )
    return [
        Case("good_ref", solution_only, "graded", "full"),
        Case("good_blank", blank, "graded", "zero"),
        Case("loop", with_cell("while True:\n    pass"), "graded", "full", "time limit"),
        Case(
            "loop_no_interrupt",
            with_cell("while True:\n    try:\n        pass\n    except BaseException:\n        pass"),
            "graded",
            "full",
            "time limit",
        ),
        Case("memory_bomb", with_cell("hog = bytearray(40 * 2**30)"), "graded", "full"),
        Case(
            "memory_creep",
            with_cell("hog = []\nwhile True:\n    hog.append(bytearray(2**26))"),
            "graded",
            "full",
        ),
        Case("sys_exit", with_cell("import sys\nsys.exit(3)"), "graded", "full"),
        Case("os_exit", with_cell("import os\nos._exit(1)"), "graded", "full", "stopped the Python kernel"),
        Case(
            "segfault",
            with_cell("import ctypes\nctypes.string_at(0)"),
            "graded",
            "full",
            "stopped the Python kernel",
        ),
        # The kernel's parent is its sandbox's pid 1, which no signal from inside can stop: nothing happens.
        Case(
            "kills_its_parent",
            with_cell("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"),
            "graded",
            "full",
        ),
        Case("process_bomb", with_cell(process_bomb), "graded", "full"),
        Case("forks", with_cell(fork_and_exit), "graded", "full"),
        Case("big_file", with_cell(big_file), "graded", "full"),
        Case("huge_output", with_cell(huge_output), "graded", "full"),
        Case("spy", with_cell(spy_code(paths)), "graded", "full"),
        Case("broken_answer", broken_solution, "graded", "partial"),
        Case("deleted_test", delete_test, "graded", "full", "put back"),
        Case("duplicated_test", duplicate_test, "graded", "full", "copies of cells"),
        Case("edited_tests", edit_tests_on_blank, "graded", "zero"),
        Case("reordered_tests", reorder_tests, "graded", "full"),
        Case("inflated_points", inflate_points, "graded", "full", "points were reset"),
        Case("no_metadata", strip_metadata, "graded", "full", "lost nbgrader's cell metadata"),
        Case("renamed", solution_only, "graded", "full", "was graded as"),
        Case("not_json", lambda s, r: b"this is not a notebook", "unreadable", "zero", "not a notebook"),
        Case("empty_file", lambda s, r: b"", "unreadable", "zero", "empty"),
        Case("other_assignment", other_assignment, "wrong-assignment", "zero", "notebook of assignment"),
    ]


def write(case: Case, assignment: str, folder: Path) -> None:
    """Write one case's submission under folder/<student>/<assignment>/."""
    name = course.notebook_names(assignment)[0]
    solution = nbformat.read(course.SOLUTIONS / assignment / name, as_version=4)
    released = nbformat.read(course.RELEASE / assignment / name, as_version=4)
    content = case.build(solution, released)
    dest = folder / case.student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / (name.replace(".ipynb", "-Copy1.ipynb") if case.student == "renamed" else name)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(json.dumps(content, indent=1))
