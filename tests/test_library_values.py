"""data/library_values.json is what the installed TensorFlow and Keras return, and notebooks 02, 03 and 06 use it.

Notebooks 02 (section 11), 03 (section 9) and 06 (section 2) read the libraries' values from the file instead
of importing TensorFlow. Here the values are recomputed live with the script that wrote them,
data/make_library_values.py, and compared with the shipped file: inputs, versions, defaults and every other
string exactly, the floats TensorFlow's kernels compute to a relative 1e-12, and 06's float32 training values
to a relative 1e-5.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.lint import TF_IMPORT
from rectified.library_values import PATH, in_keras_order, load_library_values

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "data" / "make_library_values.py"
NOTEBOOKS = [
    REPO / "solutions" / name / f"{name}.ipynb"
    for name in ("02_relu_family", "03_derivatives", "06_dying_relu")
]


def _script():
    spec = importlib.util.spec_from_file_location("make_library_values", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _script()


@pytest.fixture(scope="module")
def fresh() -> dict:
    """Every value recomputed now with the installed TensorFlow and Keras (imports TensorFlow once)."""
    return script.compute()


def test_the_shipped_file_equals_a_live_recomputation(fresh) -> None:
    problems = script.compare(script.load(PATH), fresh)
    assert problems == [], "data/library_values.json differs from the installed libraries:\n" + "\n".join(
        problems
    )


def test_the_file_was_made_with_the_pinned_versions() -> None:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name, _, version = line.split(";")[0].split("#")[0].strip().partition("==")
        name = name.strip().removesuffix("-cpu")  # tensorflow-cpu on Linux x86-64, tensorflow elsewhere
        if name in ("tensorflow", "keras") and version:
            pins.setdefault(name, set()).add(version.strip())
    recorded = script.load(PATH)["versions"]
    assert set(pins) == {"tensorflow", "keras"}, (
        f"no == pin for tensorflow and keras in requirements.txt: {pins}"
    )
    for name, versions in pins.items():
        assert recorded[name] in versions, (
            f"{name} {recorded[name]} recorded, requirements.txt pins {versions}"
        )


@pytest.mark.parametrize(
    "tamper",
    [
        "a TensorFlow float off by 1e-9 of itself",
        "a derivative at a kink",
        "a default",
        "the sign of a zero input",
        "a missing entry",
        "a version",
        "a Keras gradient off by 1e-4 of itself",
    ],
)
def test_a_wrong_shipped_value_is_reported(fresh, tamper: str, tmp_path: Path, monkeypatch, capsys) -> None:
    wrong = copy.deepcopy(script.load(PATH))
    part02, part03 = wrong["02_relu_family"], wrong["03_derivatives"]
    if tamper == "a TensorFlow float off by 1e-9 of itself":
        values = part02["functions"][7]["values"]  # selu
        values[3] *= 1 + 1e-9
        where = "/02_relu_family/functions[7]/values[3]"
    elif tamper == "a derivative at a kink":
        part03["at_kinks"][0]["values"][3] = 1.0  # tf.nn.relu at 0.0
        where = "/03_derivatives/at_kinks[0]/values[3]"
    elif tamper == "a default":
        part02["defaults"][2]["default"] = "0.2"  # keras.layers.LeakyReLU's negative_slope is 0.3
        where = "/02_relu_family/defaults[2]/default"
    elif tamper == "the sign of a zero input":
        part03["inputs"]["kink_points"][2] = 0.0  # recorded as -0.0
        where = "/03_derivatives/inputs/kink_points[2]"
    elif tamper == "a missing entry":
        del part02["gelu_at_1"]["keras.ops.gelu"]
        where = "/02_relu_family/gelu_at_1/keras.ops.gelu"
    elif tamper == "a version":
        wrong["versions"]["keras"] = "3.0.0"
        where = "/versions/keras"
    else:  # 06's float32 tolerance is wider than 02's and 03's, but not wide enough to hide a real error
        row = wrong["06_dying_relu"]["checks"][3]["gradient"]["weights[2]"][1]
        column = max(range(len(row)), key=lambda j: abs(row[j]))
        row[column] *= 1 + 1e-4
        where = f"/06_dying_relu/checks[3]/gradient/weights[2][1][{column}]"
    problems = script.compare(wrong, fresh)
    assert len(problems) == 1 and problems[0].startswith(where + ":"), problems

    # The command students are told about reports it too, and fails.
    tampered = tmp_path / "library_values.json"
    script.write(wrong, tampered)
    monkeypatch.setattr(script, "OUTPUT", tampered)
    monkeypatch.setattr(script, "compute", lambda: fresh)
    assert script.main(["--check"]) == 1
    assert where in capsys.readouterr().out


def test_check_agrees_and_writes_nothing_when_the_file_is_right(fresh, tmp_path, monkeypatch, capsys) -> None:
    shipped = tmp_path / "library_values.json"
    shipped.write_bytes(PATH.read_bytes())
    monkeypatch.setattr(script, "OUTPUT", shipped)
    monkeypatch.setattr(script, "compute", lambda: fresh)
    assert script.main(["--check"]) == 0
    assert "agrees with the installed TensorFlow" in capsys.readouterr().out
    assert shipped.read_bytes() == PATH.read_bytes()


def test_the_file_is_in_its_canonical_byte_stable_form() -> None:
    text = PATH.read_text()
    assert script.to_json(json.loads(text)) + "\n" == text, (
        "rewrite it with python data/make_library_values.py"
    )


def test_the_inputs_are_the_scripts_seeded_inputs() -> None:
    recorded = script.load(PATH)
    parts = {
        "02_relu_family": script.inputs_02(),
        "03_derivatives": script.inputs_03(),
        "06_dying_relu": script.inputs_06(),
    }
    for part, inputs in parts.items():
        assert sorted(recorded[part]["inputs"]) == sorted(inputs)
        for name, array in inputs.items():
            assert json.dumps(recorded[part]["inputs"][name]) == json.dumps(array.tolist()), (part, name)


def test_the_loader_gives_arrays_shaped_like_the_inputs_they_belong_to() -> None:
    values = load_library_values()
    part02, part03 = values["02_relu_family"], values["03_derivatives"]
    assert set(values["versions"]) == {"tensorflow", "keras"}
    for row in part02["functions"]:
        assert isinstance(row["values"], np.ndarray) and row["values"].dtype == np.float64
        given = part02["inputs"][row["input"]]
        expected = (
            given.shape[:-1] + (given.shape[-1] // 3,) if row["name"] == "maxout(z, 3)" else given.shape
        )
        assert row["values"].shape == expected, row["name"]
    for row in part03["at_kinks"]:
        assert row["values"].shape == part03["inputs"]["kink_points"].shape, row["name"]
    for row in part03["away_from_kinks"]:
        assert row["values"].shape == part03["inputs"]["far"].shape, row["name"]
    assert part03["prelu"]["dx"].shape == part03["inputs"]["prelu_x"].shape
    assert part03["prelu"]["dalpha"].shape == part03["inputs"]["prelu_alpha"].shape
    assert isinstance(part02["defaults"][0]["default"], str)
    part06 = values["06_dying_relu"]
    shapes = [w.shape for w in in_keras_order(part06["inputs"])]
    assert shapes == [(2, 5), (5,), *[(5, 5), (5,)] * 4, (5, 1), (1,)]
    assert [row["name"] for row in part06["checks"]] == [check[0] for check in script.CHECKS_06]
    for row in part06["checks"]:
        for recorded in (row["gradient"], row["after_updates"]):
            assert sorted(recorded) == sorted(f"weights[{i}]" for i in range(len(shapes))), row["name"]
            assert [w.shape for w in in_keras_order(recorded)] == shapes, row["name"]


def test_06s_recorded_keras_updates_differ_from_the_starting_weights() -> None:
    """The check in notebook 06 would pass trivially if Keras had not moved the weights, or had not given the
    settings different gradients; the recorded values must show both."""
    part06 = load_library_values()["06_dying_relu"]
    start = in_keras_order(part06["inputs"])
    assert len(start) == 12
    gradients = []
    for row in part06["checks"]:
        after = in_keras_order(row["after_updates"])
        moved = max(np.abs(a - b).max() for a, b in zip(after, start, strict=True))
        assert moved > 1e-3, (row["name"], moved)
        gradients.append(np.concatenate([g.ravel() for g in in_keras_order(row["gradient"])]))
    for i in range(len(gradients)):
        for j in range(i):
            assert np.abs(gradients[i] - gradients[j]).max() > 1e-4, (i, j)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_02_03_and_06_import_neither_tensorflow_nor_keras(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    imports = [
        (index, line)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if TF_IMPORT.search(line) or "import_module(" in line or "__import__(" in line
    ]
    assert imports == [], f"{path.name} imports TensorFlow or Keras in these cells: {imports}"
    assert any("load_library_values" in cell.source for cell in nb.cells), (
        f"{path.name} does not read the file"
    )
