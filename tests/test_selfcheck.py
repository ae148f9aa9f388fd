"""The students' self-check (rectified.selfcheck): on small made-up notebooks, and on a real assignment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from student_copy import finished, released, small_assignment

from rectified import selfcheck


def _cell(source: str, kind: str = "code", **nbgrader: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": True, "solution": False, "grade": False}
        cell.metadata["nbgrader"].update(nbgrader)
    return cell


def _notebook(tmp_path: Path, *cells: nbformat.NotebookNode, name: str = "demo.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


SETUP = _cell("import sys\nimport numpy as np", grade_id="setup")
HEADING = _cell("## 1. Doubling\n\n### Exercise 1: `double(x)` (2 points)\n\nReturn twice x.", kind="md")
SECTION = "Exercise 1: `double(x)` (2 points)"
DONE = _cell("def double(x):\n    return 2 * x", grade_id="double", solution=True, locked=False)
STUB = _cell(
    "def double(x):\n    raise NotImplementedError()", grade_id="double", solution=True, locked=False
)
TEST_DOUBLE = _cell("assert double(2) == 4, 'double(2)'", grade_id="test_double", grade=True, points=2)


def test_a_finished_notebook_passes(tmp_path: Path) -> None:
    report = selfcheck.run(_notebook(tmp_path, SETUP, HEADING, DONE, TEST_DOUBLE))
    assert report.ok, report.text()
    assert [(t.grade_id, t.points, t.max_points) for t in report.tests] == [("test_double", 2.0, 2.0)]
    assert "1 of 1 visible test cells pass (2 of 2 points)" in report.text()


def test_a_stub_is_listed_as_left_and_its_test_fails(tmp_path: Path) -> None:
    report = selfcheck.run(_notebook(tmp_path, SETUP, HEADING, STUB, TEST_DOUBLE))
    assert not report.ok
    assert report.stubs_left == ["double"]
    assert [t.grade_id for t in report.failed] == ["test_double"]
    assert "NotImplementedError" in report.failed[0].problem
    assert f"Left to write (still `raise NotImplementedError`):\n  - {SECTION}" in report.text()
    assert f"FAIL  {SECTION} (0/2)" in report.text()


def test_a_failing_cell_is_named_by_its_section_and_first_line_not_its_grade_id(tmp_path: Path) -> None:
    """Students never see grade ids: the report names the heading above the cell and the line it starts with."""
    test = _cell(
        "import numpy as np\n\n# the visible checks\n_got = double(np.array([3.0]))\nassert _got[0] == 7.0, 'double([3.])'",
        grade_id="test_double",
        grade=True,
        points=2,
    )
    text = selfcheck.run(_notebook(tmp_path, SETUP, HEADING, DONE, test)).text()
    assert (
        f"FAIL  {SECTION} (0/2)\n        the test cell that starts: _got = double(np.array([3.0]))" in text
    ), text
    assert "test_double" not in text and "double'" not in text, text


def test_a_cell_before_any_heading_is_named_by_its_first_line(tmp_path: Path) -> None:
    report = selfcheck.run(_notebook(tmp_path, SETUP, STUB, TEST_DOUBLE))
    assert (
        "FAIL  a test cell (0/2)\n        the test cell that starts: assert double(2) == 4" in report.text()
    )
    assert "before the first heading, the cell that starts: def double(x):" in report.text()


def test_the_failing_assertion_message_is_shown(tmp_path: Path) -> None:
    wrong = _cell("def double(x):\n    return x + 1", grade_id="double", solution=True, locked=False)
    test = _cell(
        "import numpy as np\nnp.testing.assert_allclose(double(np.array([3.0])), [6.0], err_msg='double([3.])')",
        grade_id="test_double",
        grade=True,
        points=1,
    )
    report = selfcheck.run(_notebook(tmp_path, SETUP, wrong, test))
    assert report.stubs_left == []
    (failure,) = report.failed
    assert failure.problem.startswith("AssertionError") and "double([3.])" in failure.problem, failure.problem


def test_stderr_in_a_test_cell_fails_as_nbgrader_scores_it(tmp_path: Path) -> None:
    noisy = _cell("print('careful', file=sys.stderr)", grade_id="test_noisy", grade=True, points=1)
    report = selfcheck.run(_notebook(tmp_path, SETUP, DONE, noisy))
    (failure,) = report.failed
    assert "stderr" in failure.problem and failure.points == 0


def test_a_bare_number_on_the_last_line_is_partial_credit(tmp_path: Path) -> None:
    partial = _cell("0.5", grade_id="test_partial", grade=True, points=2)
    report = selfcheck.run(_notebook(tmp_path, SETUP, DONE, partial))
    (failure,) = report.failed
    assert failure.points == 0.5 and "partial credit" in failure.problem


def test_an_error_outside_the_tests_is_reported(tmp_path: Path) -> None:
    broken = _cell("plot_everything()")  # an ordinary cell with a NameError
    plots = _cell("## 2. Plots", kind="md")
    report = selfcheck.run(_notebook(tmp_path, SETUP, HEADING, DONE, TEST_DOUBLE, plots, broken))
    assert not report.ok
    (error,) = report.other_errors
    assert error.startswith("2. Plots, the cell that starts: plot_everything()") and "NameError" in error, (
        error
    )


def test_the_command_line_exit_status(tmp_path: Path) -> None:
    good = _notebook(tmp_path, SETUP, HEADING, DONE, TEST_DOUBLE, name="good.ipynb")
    bad = _notebook(tmp_path, SETUP, HEADING, STUB, TEST_DOUBLE, name="bad.ipynb")

    def cli(*paths: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "rectified.selfcheck", *map(str, paths)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    ok = cli(good)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"PASS  {SECTION}" in ok.stdout
    failing = cli(good, bad)
    assert failing.returncode == 1 and f"FAIL  {SECTION}" in failing.stdout
    assert cli(tmp_path / "missing.ipynb").returncode == 2


@pytest.mark.parametrize("call", ["check('demo.ipynb')", "check()"])
def test_check_runs_from_the_notebooks_last_cell_without_recursing(tmp_path: Path, call: str) -> None:
    last = _cell(f"from rectified.selfcheck import check\n{call}")
    path = _notebook(tmp_path, SETUP, HEADING, DONE, TEST_DOUBLE, last)
    nb = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in (selfcheck.INSIDE, "NBGRADER_EXECUTION")}
    env["JPY_SESSION_NAME"] = str(path)  # what Jupyter Server gives a notebook's kernel
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert f"PASS  {SECTION} (2/2)" in printed, printed
    assert "All visible tests pass" in printed
    assert "skipped" not in printed  # the outer call checked; only the inner run skips


def test_check_does_not_run_the_notebook_again_in_a_batch_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """nbconvert, nbclient and CI start kernels without JPY_SESSION_NAME: no nested run there."""
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv(selfcheck.INSIDE, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setattr(selfcheck, "run", lambda *a, **k: pytest.fail("the notebook ran again"))
    selfcheck.check(_notebook(tmp_path, SETUP, DONE, TEST_DOUBLE))
    assert "skipped outside JupyterLab" in capsys.readouterr().out


def test_check_does_nothing_while_nbgrader_runs_the_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    selfcheck.check(_notebook(tmp_path, SETUP, DONE, TEST_DOUBLE))
    assert "skipped" in capsys.readouterr().out


# --- a real assignment, as a student would check it -------------------------------------------------


def _write(folder: Path, nb: nbformat.NotebookNode, assignment: str) -> Path:
    folder.mkdir()
    path = folder / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return path


def test_on_a_real_assignment_blank_finished_and_half_finished(tmp_path: Path) -> None:
    """Three runs of the small assignment: each answer left is listed, and a finished notebook passes."""
    assignment = small_assignment()
    blank = selfcheck.run(_write(tmp_path / "blank", released(assignment), assignment))
    assert blank.tests and not any(t.passed for t in blank.tests), blank.text()
    code_answers = [
        c.metadata.nbgrader.grade_id
        for c in released(assignment).cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    assert blank.stubs_left == code_answers, blank.text()

    done = selfcheck.run(_write(tmp_path / "done", finished(assignment), assignment))
    assert done.ok and not done.stubs_left, done.text()

    half = selfcheck.run(_write(tmp_path / "half", finished(assignment, only={code_answers[0]}), assignment))
    assert half.stubs_left == code_answers[1:], half.text()
    assert half.failed and len(half.failed) < len(half.tests), half.text()


# --- how every course notebook ends -----------------------------------------------------------------

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*/*.ipynb")), ids=lambda path: path.stem)
def test_every_course_notebook_ends_with_its_sources_then_the_self_check(path: Path) -> None:
    *_, sources, last = nbformat.read(path, as_version=4).cells
    assert last.cell_type == "code" and "from rectified.selfcheck import check" in last.source, (
        f"{path.name} does not end with the self-check cell"
    )
    assert "check()" in last.source and not last.metadata.get("nbgrader", {}).get("grade"), last.source
    assert sources.cell_type == "markdown" and sources.source.startswith("## Sources"), (
        f"{path.name}: the cell before the self-check is not the Sources section"
    )
    assert "https://" in sources.source, f"{path.name}: its Sources section links nothing"
