"""The lint of source notebooks rejects each kind of authoring mistake it is meant to catch."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools_path import nbsource

from autograder.lint import lint_notebook

GOOD = """%% md
One function is graded (1 point).
%% code locked id=setup
import numpy as np
%% md
### Exercise 1 (1 point): `f(x)`
%% solution id=f
def f(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION
%% tests id=test_f points=1
import numpy as np
assert f(1) == 1, "f(1) should be 1"
### BEGIN HIDDEN TESTS
from rectified import harness
### PROBE
with harness.Probe("test_f", globals()) as _probe:
    _probe.call("f/2", "f", 2)
### JUDGE
assert harness.Judge.receive("test_f").call("f/2", 2).value() == 2
### END HIDDEN TESTS
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nb.ipynb"
    import nbformat

    nbformat.write(nbsource.text_to_notebook(text), path)
    return path


def test_a_well_formed_notebook_passes(tmp_path: Path) -> None:
    assert lint_notebook(_write(tmp_path, GOOD)) == []


BAD = {
    "bare expression": GOOD.replace("### END HIDDEN TESTS", "### END HIDDEN TESTS\n3 - 2.5"),
    "ends with a recorded call (its repr is displayed)": GOOD.replace(
        'assert harness.Judge.receive("test_f").call("f/2", 2).value() == 2',
        '_judge = harness.Judge.receive("test_f")\n_judge.call("f/2", 2)',
    ),
    "TensorFlow import": GOOD.replace("import numpy as np\nassert", "import tensorflow as tf\nassert"),
    "training": GOOD.replace("### JUDGE\n", "### JUDGE\nmodel.fit(x, y)\n"),
    "stderr": GOOD.replace("### JUDGE\n", "### JUDGE\nimport warnings\nwarnings.warn('x')\n"),
    "input_shape": GOOD.replace("### JUDGE\n", "### JUDGE\nlayer = Dense(3, input_shape=(2,))\n"),
    "no hidden tests": GOOD[: GOOD.index("### BEGIN HIDDEN TESTS")],
    "hidden tests in one piece": GOOD.replace("### PROBE\n", "").replace("### JUDGE\n", ""),
    "judge before probe": GOOD.replace("### PROBE", "### TMP")
    .replace("### JUDGE", "### PROBE")
    .replace("### TMP", "### JUDGE"),
    "reference in the probe": GOOD.replace("### PROBE\n", "### PROBE\ndef _ref_f(x):\n    return x\n"),
    "TensorFlow in the judge": GOOD.replace(
        "### JUDGE\n", "### JUDGE\nimport keras  # lint: tensorflow-ok\n"
    ),
    "probe without the harness": GOOD.replace(
        'with harness.Probe("test_f", globals()) as _probe:', "if True:"
    ),
    "no solution markers": GOOD.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", ""),
    "no points": GOOD.replace("points=1", "points=0"),
    "intro promises other points": GOOD.replace("(1 point)", "(2 points)"),
    "intro counts other functions": GOOD.replace("One function is", "Two functions are"),
    "exercise heading without its points": GOOD.replace(" (1 point):", ":"),
    "exercise headings add up to other points": GOOD.replace("(1 point):", "(2 points):"),
    "graded cells without an exercise heading": GOOD.replace("### Exercise 1 (1 point): `f(x)`", "Write f."),
}


def test_a_cell_may_end_with_a_check_of_the_judge(tmp_path: Path) -> None:
    """The judge's checks return None: nothing is displayed, so nbgrader reads no partial credit."""
    ends_with_check = GOOD.replace(
        'assert harness.Judge.receive("test_f").call("f/2", 2).value() == 2',
        '_judge = harness.Judge.receive("test_f")\n_judge.formula("f", [(2,)], lambda x: x, "x")',
    )
    assert lint_notebook(_write(tmp_path, ends_with_check)) == []


@pytest.mark.parametrize("problem", sorted(BAD))
def test_each_mistake_is_reported(problem: str, tmp_path: Path) -> None:
    assert lint_notebook(_write(tmp_path, BAD[problem])), f"lint missed: {problem}"


def test_duplicate_grade_ids_are_reported(tmp_path: Path) -> None:
    import nbformat

    path = _write(tmp_path, GOOD)
    nb = nbformat.read(path, as_version=4)
    nb.cells[4].metadata.nbgrader.grade_id = "f"
    nbformat.write(nb, path)
    assert any("duplicate grade_id" in p for p in lint_notebook(path))


def test_outputs_are_reported(tmp_path: Path) -> None:
    import nbformat

    path = _write(tmp_path, GOOD)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nbformat.write(nb, path)
    assert any("outputs" in p for p in lint_notebook(path))


def test_the_tensorflow_pragma_allows_a_model_in_a_test_cell(tmp_path: Path) -> None:
    text = GOOD.replace("### PROBE\n", "### PROBE\nimport keras  # lint: tensorflow-ok\n")
    assert lint_notebook(_write(tmp_path, text)) == []
