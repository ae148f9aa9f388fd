"""Tricks a student may paste into a notebook to fake the hidden tests, and honest code that only looks odd.

Each trick is graded on top of wrong answers to every exercise of 01_activations: it must earn 0 points
(issue: grades that student code cannot fake). Where it breaks the probe, the submission must be flagged
`tampered`. Each honest case is graded on top of the reference answers: full marks, never flagged.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import course

ASSIGNMENT = "01_activations"

# Wrong answers to every exercise: the right shapes, the wrong values.
WRONG = {
    "collapse_linear": (
        "def collapse_linear(weights, biases):\n"
        "    return np.array(weights[0], dtype=float), np.array(biases[-1], dtype=float)\n"
    ),
    "sigmoid": "def sigmoid(x):\n    return np.zeros(np.shape(x))\n",
    "sigmoid_grad": "def sigmoid_grad(x):\n    return np.full(np.shape(x), 0.25)\n",
    "tanh_grad": "def tanh_grad(x):\n    return np.ones(np.shape(x))\n",
}


@dataclass
class Trick:
    """A cell inserted after the set-up cell, and answers that replace the wrong ones."""

    student: str
    cell: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    status: str = "tampered"  # the grader must notice what breaks the probe; the rest is graded as usual


def _lying_answers(make: str) -> dict[str, str]:
    """Every graded function returns `make(right_shape_zeros)`, an object that lies."""
    return {
        "sigmoid": f"def sigmoid(x):\n    return {make}(np.zeros(np.shape(x)))\n",
        "sigmoid_grad": f"def sigmoid_grad(x):\n    return {make}(np.zeros(np.shape(x)))\n",
        "tanh_grad": f"def tanh_grad(x):\n    return {make}(np.zeros(np.shape(x)))\n",
    }


LIARS = """
import numpy as np


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    __ne__ = lambda self, other: np.zeros(np.shape(self), dtype=bool)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(self), dtype=bool) if ufunc.__name__ in ("greater", "less") else True


def lie(values):
    return np.asarray(values).view(AlwaysEqual)


class FakeArray:
    def __init__(self, values):
        self.values = values
        self.shape = np.shape(values)
        self.dtype = np.dtype(float)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)

    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.5
"""

TRICKS = [
    Trick("input_transformer", "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"),
    Trick(
        "ast_transformer",
        "import ast\n"
        "class Empty(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        return ast.Module(body=[ast.Pass()], type_ignores=[])\n"
        "get_ipython().ast_transformers.append(Empty())",
    ),
    Trick(
        "run_cell_replaced",
        "ip = get_ipython()\n_real = ip.run_cell\n"
        "ip.run_cell = lambda raw_cell, *a, **k: _real('pass', *a, **k)",
    ),
    Trick(
        "run_cell_async_replaced",
        "ip = get_ipython()\n_real_async = ip.run_cell_async\n"
        "async def _fake(raw_cell, *a, **k):\n    return await _real_async('pass', *a, **k)\n"
        "ip.run_cell_async = _fake",
        status="graded",  # ipykernel does not call it through the attribute: the probes run as written
    ),
    Trick(
        "showtraceback_silenced",
        "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None",
        status="graded",
    ),
    Trick(
        "custom_exception_handler",
        "get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)",
        status="graded",
    ),
    Trick(
        "pre_run_cell_event",
        "def _skip(info):\n    raise SystemExit\nget_ipython().events.register('pre_run_cell', _skip)",
        status="graded",
    ),
    Trick(
        "patched_numpy_testing",
        "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\n"
        "np.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), bool)\n"
        "np.array_equal = lambda *a, **k: True\nnp.shares_memory = lambda *a, **k: False",
        status="graded",
    ),
    Trick(
        "fake_numpy_testing_module",
        "import sys, types\nfake = types.ModuleType('numpy.testing')\n"
        "fake.assert_allclose = lambda *a, **k: None\nsys.modules['numpy.testing'] = fake\n"
        "import numpy\nnumpy.testing = fake",
        status="graded",
    ),
    Trick(
        "patched_builtins_and_math",
        "import builtins, math\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
        "math.isclose = lambda *a, **k: True\nmath.isfinite = lambda x: True",
        status="graded",
    ),
    Trick(
        "fake_harness_module",
        "import sys, types\nfake = types.ModuleType('rectified.harness')\n"
        "class Probe:\n    def __init__(self, *a, **k): pass\n"
        "    def __enter__(self): return self\n    def __exit__(self, *a): return True\n"
        "    def __getattr__(self, name): return lambda *a, **k: None\n"
        "fake.Probe = Probe\nsys.modules['rectified.harness'] = fake\n"
        "import rectified\nrectified.harness = fake",
    ),
    Trick(
        "harness_reports_inputs_as_outputs",
        "from rectified import harness\n"
        "def _echo(self, label, name, *args, **kwargs):\n"
        "    record = {'label': label, 'function': name, 'args': harness.encode(list(args)),\n"
        "              'kwargs': harness.encode(kwargs), 'returned': harness.encode(args[0] if args else None),\n"
        "              'shares': [False] * len(args), 'args_after': harness.encode(list(args)),\n"
        "              'kwargs_after': harness.encode(kwargs)}\n"
        "    self.calls.append(record)\n"
        "harness.Probe.call = _echo",
        status="graded",
    ),
    Trick("display_silenced", "import IPython.display\nIPython.display.display = lambda *a, **k: None"),
    Trick(
        "display_formatter_broken",
        "get_ipython().display_formatter.format = lambda obj, include=None, exclude=None: ({}, {})",
        status="graded",  # a report is displayed raw, past the formatter
    ),
    Trick(
        "prints_fake_report",
        "import json\nprint(json.dumps({'version': 1, 'cell': 'test_sigmoid', 'calls': [], 'values': {}}))",
        status="graded",
    ),
    Trick(
        "displays_fake_reports_from_the_functions",
        answers={
            "sigmoid": (
                "from IPython.display import display\nimport json\n"
                "def sigmoid(x):\n"
                "    fake = json.dumps({'version': 1, 'cell': 'test_sigmoid', 'calls': [], 'values': {}, 'stopped': ''})\n"
                "    display({'application/vnd.rectified.probe+json': {'report': fake}, 'text/plain': 'ok'}, raw=True)\n"
                "    return np.zeros(np.shape(x))\n"
            )
        },
    ),
    Trick(
        "fake_report_in_own_cell",
        "from IPython.display import display\nimport json\n"
        "fake = json.dumps({'version': 1, 'cell': 'test_sigmoid', 'calls': [], 'values': {}, 'stopped': ''})\n"
        "display({'application/vnd.rectified.probe+json': {'report': fake}, 'text/plain': 'ok'}, raw=True)",
    ),
    Trick("lying_ndarray_subclass", LIARS, answers=_lying_answers("lie"), status="graded"),
    Trick("array_protocol_object", LIARS, answers=_lying_answers("FakeArray"), status="graded"),
    Trick(
        "empties_the_probe_from_inside",
        answers={
            name: (
                "import sys\n"
                f"def {name}(x):\n"
                "    frame = sys._getframe(1)\n"
                "    while frame is not None:\n"
                "        probe = frame.f_locals.get('self')\n"
                "        if type(probe).__name__ == 'Probe':\n"
                "            probe.calls.clear()\n"
                "        frame = frame.f_back\n"
                "    return np.zeros(np.shape(x))\n"
            )
            for name in ("sigmoid", "sigmoid_grad", "tanh_grad")
        },
    ),
    Trick(
        "changes_the_probes_inputs",
        "import numpy as np\n_real_rng = np.random.default_rng\n"
        "np.random.default_rng = lambda seed=None: _real_rng(0)\n"
        "_real_uniform = np.random.Generator.uniform\n",
        answers={
            "sigmoid": (
                "import sys\n"
                "def sigmoid(x):\n"
                "    x = np.asarray(x)\n"
                "    if x.ndim:\n"
                "        x[...] = 0.0  # make every input 0, where the wrong answer 0.5 would be right\n"
                "    return np.full(np.shape(x), 0.5)\n"
            )
        },
        status="tampered",
    ),
    Trick(
        "settrace_rewrites_locals",
        "import sys\n"
        "def _tracer(frame, event, arg):\n"
        "    if event == 'return' and frame.f_code.co_name == 'call':\n"
        "        frame.f_locals.get('record', {}).pop('returned', None)\n"
        "    return _tracer\n"
        "sys.settrace(_tracer)",
        status="tampered",
    ),
    Trick(
        "os_exit_in_the_middle_of_a_test",
        answers={"sigmoid": "import os\ndef sigmoid(x):\n    os._exit(0)\n"},
        status="kernel-died",  # the experiments call sigmoid too: more cells kill the kernel than are skipped
    ),
    Trick(
        "signal_in_the_middle_of_a_test",
        answers={
            "sigmoid": "import os, signal\ndef sigmoid(x):\n    os.kill(os.getpid(), signal.SIGINT)\n    return np.zeros(np.shape(x))\n"
        },
        status="graded",
    ),
    Trick(
        "thread_with_late_reports",
        "import threading, time, json\nfrom IPython.display import display\n"
        "def _late():\n"
        "    for _ in range(200):\n"
        "        time.sleep(0.05)\n"
        "        fake = json.dumps({'version': 1, 'cell': 'test_tanh_grad', 'calls': [], 'values': {}, 'stopped': ''})\n"
        "        display({'application/vnd.rectified.probe+json': {'report': fake}, 'text/plain': ''}, raw=True)\n"
        "threading.Thread(target=_late, daemon=True).start()",
    ),
    Trick(
        "reads_every_cell_it_runs",
        "import json\nseen = []\n"
        "def _keep(lines):\n    seen.append(''.join(lines))\n    return lines\n"
        "get_ipython().input_transformers_post.append(_keep)",
        answers={
            "tanh_grad": "def tanh_grad(x):\n    return np.ones(np.shape(x))\nprint('SEEN' + json.dumps(seen))\n"
        },
        status="graded",
    ),
]

# Honest code that is merely unusual: full marks with the reference answers, never flagged.
HONEST = [
    Trick(
        "timeit_magic", "get_ipython().run_line_magic('timeit', '-n 1 -r 1 sum(range(10))')", status="graded"
    ),
    Trick(
        "own_checks_with_numpy_testing",
        "import numpy as np\nnp.testing.assert_allclose(np.tanh(0.0), 0.0)\nassert np.allclose([1.0], [1.0])",
        status="graded",
    ),
    Trick("cell_magics", "%matplotlib inline\n%precision 3", status="graded"),
    Trick(
        "functions_that_print_and_warn",
        answers={
            "sigmoid": (
                "import warnings\n"
                "def sigmoid(x):\n"
                "    print('debug: sigmoid called')\n"
                "    warnings.warn('just a warning')\n"
                "    x = np.asarray(x, dtype=float)\n"
                "    return 0.5 * (1 + np.tanh(x / 2))\n"
            )
        },
        status="graded",
    ),
    Trick(
        "helpers_loops_and_math",
        answers={
            "sigmoid_grad": (
                "import math\n"
                "def _one(v):\n"
                "    s = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))\n"
                "    return s * (1 - s)\n"
                "def sigmoid_grad(x):\n"
                "    x = np.asarray(x, dtype=float)\n"
                "    out = np.empty(x.shape)\n"
                "    for index in np.ndindex(x.shape):\n"
                "        out[index] = _one(float(x[index]))\n"
                "    return out\n"
            )
        },
        status="graded",
    ),
    Trick(
        "own_input_transformer_and_events",
        "get_ipython().input_transformers_post.append(lambda lines: lines)\n"
        "get_ipython().events.register('post_run_cell', lambda result: None)",
        status="graded",
    ),
]


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def build(trick: Trick, honest: bool) -> nbformat.NotebookNode:
    """The submission: the reference answers (honest) or wrong ones, the trick's cell and answers."""
    name = course.notebook_names(ASSIGNMENT)[0]
    solution = nbformat.read(course.SOLUTIONS / ASSIGNMENT / name, as_version=4)
    released = nbformat.read(course.RELEASE / ASSIGNMENT / name, as_version=4)
    nb = copy.deepcopy(released)
    solutions = {_meta(c).get("grade_id"): c.source for c in solution.cells if _meta(c).get("solution")}
    for cell in nb.cells:
        grade_id = _meta(cell).get("grade_id")
        if _meta(cell).get("solution"):
            cell.source = trick.answers.get(grade_id) or (solutions[grade_id] if honest else WRONG[grade_id])
    if trick.cell:
        at = next(i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == "setup") + 1
        nb.cells.insert(at, nbformat.v4.new_code_cell(trick.cell))
    return nb


def write_all(folder: Path) -> None:
    """Every trick and honest case as a student under folder/<student>/01_activations/."""
    name = course.notebook_names(ASSIGNMENT)[0]
    for honest, cases in ((False, TRICKS), (True, HONEST)):
        for trick in cases:
            dest = folder / trick.student / ASSIGNMENT
            dest.mkdir(parents=True, exist_ok=True)
            (dest / name).write_text(json.dumps(build(trick, honest), indent=1))
