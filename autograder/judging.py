"""Hidden tests judged outside the student's kernel: the kernel probes, this process decides.

A test cell's hidden region is fixtures, probe and judge (rectified.harness describes the form). While a
notebook is autograded, ProbeOnly makes each test cell run only its fixtures and probe in the sandboxed
kernel. After the notebook ran, JudgeCells reads each test cell's report from its output, as JSON data,
runs the cell's fixtures and judge from the course's own source notebook in this process, and replaces
the cell's outputs by the verdict: nothing the kernel printed, displayed or raised there reaches nbgrader's
scoring (SaveAutoGrades, which reads the outputs). A report that is missing, malformed, duplicated or
found in another cell fails the test; where that can only come from tampering, the verdict says so and
the grading command gives the submission the status `tampered`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output

from rectified import harness

log = logging.getLogger(__name__)

BEGIN, PROBE, JUDGE, END = "### BEGIN HIDDEN TESTS", "### PROBE", "### JUDGE", "### END HIDDEN TESTS"
PASSED = "hidden tests passed\n"
DIED = (
    "the Python kernel died while the hidden tests called your code (os._exit, a crash, or running out of "
    "memory inside a graded function), so this test scores 0"
)
TIMED_OUT = (
    "the hidden tests were interrupted while they called your code: it ran past the time limit (an endless "
    "loop?) or raised KeyboardInterrupt"
)


@dataclass(frozen=True)
class TestCell:
    """The parts of one test cell's source."""

    visible: str
    fixtures: str
    probe: str
    judge: str

    @property
    def kernel_source(self) -> str:
        """What the sandboxed kernel runs while grading: the grader's inputs and the calls."""
        return f"{self.fixtures}\n{self.probe}"

    @property
    def judge_source(self) -> str:
        """What the grader runs in its own process: the same inputs, then the decision."""
        return f"{self.fixtures}\n{self.judge}"


def split(source: str) -> TestCell:
    """Cut a test cell's source at its markers; ValueError when they are missing or out of order."""
    lines = source.splitlines()
    marks = {}
    for mark in (BEGIN, PROBE, JUDGE, END):
        found = [i for i, line in enumerate(lines) if line.strip() == mark]
        if len(found) != 1:
            raise ValueError(f"a test cell needs exactly one line {mark!r} (found {len(found)})")
        marks[mark] = found[0]
    if not marks[BEGIN] < marks[PROBE] < marks[JUDGE] < marks[END]:
        raise ValueError(
            f"the markers of a test cell must come in the order {BEGIN}, {PROBE}, {JUDGE}, {END}"
        )

    def part(start: int, stop: int) -> str:
        return "\n".join(lines[start:stop])

    return TestCell(
        visible=part(0, marks[BEGIN]),
        fixtures=part(marks[BEGIN] + 1, marks[PROBE]),
        probe=part(marks[PROBE] + 1, marks[JUDGE]),
        judge=part(marks[JUDGE] + 1, marks[END]),
    )


@functools.cache
def _source_cells(path: Path, mtime: float) -> dict[str, TestCell]:
    cells = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            cells[meta["grade_id"]] = split(cell.source)
    return cells


def source_cells(path: Path) -> dict[str, TestCell]:
    """grade_id -> parts of every test cell of a source notebook (read once per version of the file)."""
    return _source_cells(path, path.stat().st_mtime)


def reports_in(cell: nbformat.NotebookNode) -> list[str]:
    """The probe reports among a cell's outputs, as the JSON text the probe wrote (not yet read)."""
    found = []
    for output in cell.get("outputs", []):
        data = (
            output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
        )
        if harness.MIME in data:
            payload = data[harness.MIME]
            text = payload.get("report") if isinstance(payload, dict) else None
            found.append(text if isinstance(text, str) else "")
    return found


@dataclass
class Verdict:
    """The decision on one test cell."""

    cell_id: str
    passed: bool
    message: str = ""
    tampered: str = ""  # what shows that the probe did not run as written
    crashed: bool = False  # the judge itself raised something other than a failed check: a defect to fix


def decide(test: TestCell, cell_id: str, reports: list[str], error: dict | None) -> Verdict:
    """Judge one test cell from what its run left: the reports it displayed and its error, if any."""
    if error is not None and error.get("ename") == "KeyboardInterrupt":
        return Verdict(cell_id, False, TIMED_OUT)
    if len(reports) > 1:
        return Verdict(cell_id, False, "the hidden tests' report came more than once", "a duplicated report")
    if not reports:
        if error is not None:
            message = f"the hidden tests could not run: {error.get('ename')}"
            message += f": {error['evalue']}" if error.get("evalue") else ""
            return Verdict(cell_id, False, message[:500])
        return Verdict(
            cell_id,
            False,
            "the hidden tests sent no report, although the cell ran",
            "the test cell ran without sending its report (something changed what a cell runs)",
        )
    namespace: dict = {"__name__": "rectified_judge"}
    harness.INBOX[cell_id] = reports[0]
    try:
        exec(compile(test.judge_source, f"<judge {cell_id}>", "exec"), namespace)
    except harness.Tampered as why:
        return Verdict(cell_id, False, f"the hidden tests' report cannot be trusted: {why}", str(why))
    except AssertionError as failure:
        return Verdict(cell_id, False, str(failure) or "a hidden test failed")
    except Exception as error:  # an unexpected value the judge could not handle: still a failure
        log.warning("judge of %s raised %r", cell_id, error)
        message = f"the hidden tests could not use what your code returned ({error!r})"[:500]
        return Verdict(cell_id, False, message, crashed=True)
    finally:
        harness.INBOX.pop(cell_id, None)
    return Verdict(cell_id, True)


@dataclass
class Session:
    """What ProbeOnly and JudgeCells share while one notebook is graded, and what the worker reads after."""

    course_root: Path
    deadly: set[str] = field(default_factory=set)  # test cells whose probe killed the kernel: not run again
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    stray: list[int] = field(default_factory=list)  # indexes of cells outside the tests that showed a report
    originals: dict[int, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the student's cells that raised, for the summary

    def __deepcopy__(self, memo: dict) -> Session:
        # traitlets copies configuration values; the preprocessors and the worker must share this one.
        return self

    def start(self) -> None:
        """Forget the last notebook (the dying test cells are kept: they are known for the next try)."""
        self.verdicts, self.stray, self.originals, self.errors = {}, [], {}, []

    def tests(self, resources: dict) -> dict[str, TestCell]:
        """The test cells of the notebook being graded, from the course's own source notebook."""
        info = resources["nbgrader"]
        path = self.course_root / "solutions" / info["assignment"] / f"{info['notebook']}.ipynb"
        return source_cells(path)

    @property
    def tampering(self) -> list[str]:
        """Sentences for the instructor: every sign of tampering in the notebook."""
        signs = [f"{v.cell_id}: {v.tampered}" for v in self.verdicts.values() if v.tampered]
        if self.stray:
            signs.append(f"a hidden-test report was shown outside the test cells (cells {self.stray})")
        return signs


def _grade_id(cell) -> str | None:
    meta = cell.metadata.get("nbgrader", {})
    return meta.get("grade_id") if cell.cell_type == "code" and meta.get("grade") else None


class ProbeOnly(Preprocessor):
    """Before execution: each test cell runs its fixtures and probe only, taken from the source notebook."""

    def __init__(self, session: Session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.enabled = True

    def preprocess(self, nb, resources):
        """Rewrite the test cells' sources (the originals are put back by JudgeCells)."""
        self.session.start()
        tests = self.session.tests(resources)
        for index, cell in enumerate(nb.cells):
            grade_id = _grade_id(cell)
            if grade_id in tests:
                self.session.originals[index] = cell.source
                cell.source = "pass" if grade_id in self.session.deadly else tests[grade_id].kernel_source
        return nb, resources


class JudgeCells(Preprocessor):
    """After execution: each test cell's outputs become its verdict; reports elsewhere are removed."""

    def __init__(self, session: Session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.enabled = True

    def _note_error(self, index: int, cell) -> None:
        """Remember a student's cell that raised (a limit hit, sys.exit, a bug): the summary names it."""
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is None or "was skipped" in str(error.get("evalue", "")):
            return
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        first = next((line for line in cell.source.splitlines() if line.strip()), "")[:40]
        where = f"cell {name!r}" if name else f"cell {index + 1} ({first!r})"
        evalue = str(error.get("evalue", ""))[:160]
        self.session.errors.append(f"{where} raised {error.get('ename')}" + (f": {evalue}" if evalue else ""))

    def preprocess(self, nb, resources):
        """Judge every test cell of the executed notebook."""
        tests = self.session.tests(resources)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            grade_id = _grade_id(cell)
            if grade_id not in tests:
                self._note_error(index, cell)
                if reports_in(cell):
                    # A copy of an instructor's test cell carries its probe (a corpus or an exam built from
                    # the source notebook); any other cell that shows a report forged it.
                    if BEGIN not in cell.source:
                        self.session.stray.append(index)
                    cell.outputs = [o for o in cell.outputs if harness.MIME not in o.get("data", {})]
                continue
            error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
            if grade_id in self.session.deadly:
                verdict = Verdict(grade_id, False, DIED)
            else:
                verdict = decide(tests[grade_id], grade_id, reports_in(cell), error)
            self.session.verdicts[grade_id] = verdict
            cell.source = self.session.originals.get(index, cell.source)
            if verdict.passed:
                cell.outputs = [new_output("stream", name="stdout", text=PASSED)]
            else:
                failure = new_output("error", ename="AssertionError", evalue=verdict.message)
                failure.traceback = [f"AssertionError: {verdict.message}"]
                cell.outputs = [failure]
        return nb, resources
