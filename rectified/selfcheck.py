"""Students' self-check: run a notebook's visible tests and say what is left.

From a terminal, on the saved notebook:

    python -m rectified.selfcheck notebooks/01_activations/01_activations.ipynb

From the notebook's last cell (save the notebook first: the check runs the saved file in a fresh kernel):

    from rectified.selfcheck import check
    check()

The notebook is executed top to bottom in a new kernel, as nbgrader's Validate button does. Each test cell
is scored the way nbgrader scores it (an error or anything written to stderr gives 0 points), and the
report lists the answers still left as stubs. Only the visible tests run: the hidden tests that grade the
notebook check more, so passing every visible test does not guarantee full marks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Set in the kernel that the self-check starts, so that a check() call inside the notebook does not
# run the notebook again; nbgrader sets NBGRADER_EXECUTION while it validates or grades.
INSIDE = "RECTIFIED_SELFCHECK"
STUB_MARK = "raise NotImplementedError"


@dataclass
class TestResult:
    """One graded test cell after the run."""

    grade_id: str
    points: float
    max_points: float
    problem: str = ""  # why it lost points, empty when it passed
    section: str = ""  # the nearest markdown heading above the cell, as the student sees it
    first_line: str = ""  # the cell's first line of code that is not an import

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


@dataclass
class Report:
    """What a self-check found in one notebook."""

    path: Path
    tests: list[TestResult] = field(default_factory=list)
    stubs_left: list[str] = field(default_factory=list)  # grade_ids of answer cells not written yet
    stub_sections: list[str] = field(default_factory=list)  # the same answer cells, named by their section
    other_errors: list[str] = field(default_factory=list)  # errors in cells that are not tests
    seconds: float = 0.0

    @property
    def failed(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    @property
    def ok(self) -> bool:
        return bool(self.tests) and not self.failed and not self.other_errors

    def text(self) -> str:
        """The report as a student reads it."""
        lines = [f"Self-check of {self.path.name} ({self.seconds:.0f} s, visible tests only)"]
        if not self.tests:
            lines.append("  This notebook has no graded test cells: is it a course notebook?")
        for t in self.tests:
            mark = "PASS" if t.passed else "FAIL"
            lines.append(f"  {mark}  {t.section or 'a test cell'} ({_num(t.points)}/{_num(t.max_points)})")
            if not t.passed and t.first_line:
                lines.append(f"        the test cell that starts: {t.first_line}")
            if t.problem:
                lines.append(f"        {t.problem}")
        for error in self.other_errors:
            lines.append(f"  ERROR outside the tests: {error}")
        passed = len(self.tests) - len(self.failed)
        score = sum(t.points for t in self.tests)
        total = sum(t.max_points for t in self.tests)
        lines.append(
            f"{passed} of {len(self.tests)} visible test cells pass ({_num(score)} of {_num(total)} points)."
        )
        if self.stub_sections:
            lines.append("Left to write (still `raise NotImplementedError`):")
            lines.extend(f"  - {section}" for section in self.stub_sections)
        if self.ok:
            lines.append(
                "All visible tests pass. The hidden tests check more cases, so reread each spec before you submit."
            )
        return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:g}"


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _last_heading(markdown: str) -> str:
    """The last heading in a markdown cell's text without its #s, or "" when it has none."""
    headings = [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]
    return headings[-1] if headings else ""


def _first_code_line(source: str) -> str:
    """The first line a student would recognise a cell by: not blank, not a comment, not an import."""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "import ", "from ")):
            return stripped if len(stripped) <= 100 else stripped[:97] + "..."
    return next((line.strip() for line in source.splitlines() if line.strip()), "(an empty cell)")


def _cell_name(section: str, source: str) -> str:
    """How the report names a cell that is not a test: its section, and the line it starts with."""
    return f"{section or 'before the first heading'}, the cell that starts: {_first_code_line(source)}"


def _error_line(output) -> str:
    """One line that says why a cell failed, from an error output."""
    value = str(output.get("evalue", "")).strip()
    first = value.splitlines()[0] if value else ""
    # numpy's assert_allclose puts the useful part (err_msg, mismatch) on the following lines
    detail = " ".join(line.strip() for line in value.splitlines()[1:4] if line.strip())
    if output.get("ename") == "NotImplementedError" and not first:
        first = "a function this cell calls is still the stub"
    text = f"{output.get('ename', 'Error')}: {first}" + (f" {detail}" if detail else "")
    return text[:400]


def _cell_problem(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _error_line(output)
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = "".join(output.get("text", "")).strip().splitlines()
            first = text[0][:200] if text else ""
            return f"wrote to stderr, which nbgrader scores as 0 points: {first}"
    return ""


def run(path: str | os.PathLike, timeout: int = 300) -> Report:
    """Execute the saved notebook at path in a fresh kernel and score its test cells as nbgrader does."""
    import nbformat
    from nbclient import NotebookClient
    from nbgrader.utils import determine_grade

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, INSIDE: "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env, cwd=str(path.parent))
    report = Report(path=path, seconds=time.perf_counter() - start)
    section = ""  # the heading a student last scrolled past: how the report names the cells below it
    for cell in nb.cells:
        meta = _nbgrader_meta(cell)
        grade_id = meta.get("grade_id", cell.get("id", "?"))
        if cell.cell_type == "markdown":
            section = _last_heading(cell.source) or section
        if cell.cell_type != "code":
            continue
        if meta.get("solution") and STUB_MARK in cell.source:
            report.stubs_left.append(grade_id)
            report.stub_sections.append(section or _cell_name(section, cell.source))
        if meta.get("grade"):
            points, max_points = determine_grade(cell)
            problem = _cell_problem(cell)
            if points is None:  # a graded answer cell: nbgrader leaves it to a person
                points = max_points
            if points < max_points and not problem:
                problem = "the cell's last line gave partial credit"
            report.tests.append(
                TestResult(
                    grade_id,
                    float(points),
                    float(max_points),
                    problem,
                    section,
                    _first_code_line(cell.source),
                )
            )
        else:
            problem = _cell_problem(cell)
            # an experiment that calls a stub fails until the stub is written, and stderr outside the
            # tests (TensorFlow's start-up lines, warnings) costs nothing
            if problem and not problem.startswith(("NotImplementedError:", "wrote to stderr")):
                report.other_errors.append(f"{_cell_name(section, cell.source)}: {problem}")
    return report


def _find_own_notebook() -> Path | None:
    """The notebook a kernel started by Jupyter Server belongs to (JPY_SESSION_NAME), if it can be found."""
    name = os.environ.get("JPY_SESSION_NAME", "")
    if not name.endswith(".ipynb"):
        return None
    for candidate in (Path(name), Path.cwd() / name, Path.cwd() / Path(name).name):
        if candidate.is_file():
            return candidate
    return None


def check(path: str | os.PathLike | None = None, timeout: int = 300, force: bool = False) -> None:
    """Print the self-check report for a notebook; call it from a notebook's last cell.

    Without a path, the notebook the kernel belongs to is checked. It runs only in a kernel that Jupyter
    Server started for an open notebook (JupyterLab, Binder, a hub), or with force=True: inside the
    self-check's own run, while nbgrader validates or grades, and in batch runs (nbconvert, nbclient, CI)
    it prints one line and returns, so the notebook is not executed twice.
    """
    if os.environ.get(INSIDE) or os.environ.get("NBGRADER_EXECUTION"):
        print("(self-check skipped: this run is itself a check)")
        return
    if not force and not os.environ.get("JPY_SESSION_NAME"):
        print("(self-check skipped outside JupyterLab: run `python -m rectified.selfcheck NOTEBOOK.ipynb`)")
        return
    target = Path(path) if path is not None else _find_own_notebook()
    if target is None:
        print("Self-check: pass the notebook's file name, for example check('01_activations.ipynb').")
        return
    target = target.resolve()
    if not target.is_file():
        print(f"Self-check: no notebook at {target}.")
        return
    age = time.time() - target.stat().st_mtime
    print(f"Checking the version saved {age:.0f} s ago: save (Ctrl+S) first if you changed something since.")
    print(run(target, timeout=timeout).text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rectified.selfcheck",
        description="Run a notebook's visible tests in a fresh kernel and list what fails and what is left.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="saved .ipynb files")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            status = 2
            continue
        report = run(path, timeout=args.timeout)
        print(report.text())
        if not report.ok and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
