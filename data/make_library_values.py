"""Record what TensorFlow and Keras return, for notebooks 02, 03 and 06: `python data/make_library_values.py`.

Notebooks 02 (section 11) and 03 (section 9) compare the student's functions with TensorFlow's and Keras' own,
and 06 (section 2) compares the course's fast trainer with Keras.
Importing TensorFlow costs seconds and hundreds of megabytes per notebook, so the notebooks read the values
from data/library_values.json instead, which this script writes from the pinned libraries (requirements.txt):

- 02: the values of the tf.nn / Keras activations on fixed inputs, the defaults read with inspect.signature,
  what a fresh keras.layers.PReLU computes, keras' two gelu at 1;
- 03: derivatives from tf.GradientTape at the kinks and away from them, PReLU's gradients with respect to x and
  alpha, and maxout's gradient at a tie for three ways of building maxout;
- 06: for five settings of the seed's 5 x 5 network (ReLU, Leaky ReLU, ELU, an L1 activity penalty, an L2
  weight penalty), Keras' gradient on one batch from fixed weights and its weights after three SGD updates.

The inputs are recorded too, so a notebook evaluates the student's functions on exactly the same numbers.
The file is byte-stable: sorted keys, every float as its shortest exact repr.

    python data/make_library_values.py          # rewrite data/library_values.json
    python data/make_library_values.py --check  # recompute with the installed libraries, report differences

tests/test_library_values.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "library_values.json"
# Floats computed by TensorFlow's kernels may differ in the last bits between CPUs; inputs and versions may not.
RELATIVE_TOLERANCE = 1e-12
EXACT_SECTIONS = ("inputs", "versions")
# 06's values come out of float32 matrix products, whose rounding depends on the CPU's vector width and the
# order of the sums: a relative 1e-5 (float32 resolves 6e-8), and 1e-7 absolute for values that are nearly 0.
FLOAT32_SECTIONS = ("06_dying_relu",)
FLOAT32_TOLERANCE = (1e-5, 1e-7)


# ---------------------------------------------------------------- the inputs (plain NumPy, seeded)


def inputs_02() -> dict[str, np.ndarray]:
    """The inputs of notebook 02's comparison: a grid through 0 and 6, channels for PReLU, pieces for maxout."""
    return {
        "x": np.linspace(-6.0, 8.0, 57),  # float64; includes 0 and 6
        "slopes": np.array([0.1, 0.5, 2.0]),
        "x_channels": np.linspace(-3.0, 3.0, 12).reshape(4, 3),
        "z_pool": np.random.default_rng(3).standard_normal((4, 12)),
        "x_one": np.array([-2.0, 1.0]),
    }


def inputs_03() -> dict[str, np.ndarray]:
    """The inputs of notebook 03's section 9: kinks, points away from them, a PReLU batch, maxout ties."""
    far = np.random.default_rng(1).uniform(-8.0, 8.0, size=200)
    far = far[
        np.min(np.abs(far[:, None] - np.array([0.0, 6.0])), axis=1) >= 0.05
    ]  # at least 0.05 from a kink
    rng = np.random.default_rng(2)
    prelu_x = rng.normal(size=(4, 6, 3))
    prelu_x[0, 0] = [0.0, 0.0, 0.0]  # one position exactly at the kink in every channel
    return {
        "kink_points": np.array([-6.5, -1.0, -0.0, 0.0, 1.0, 6.0, 6.5]),
        "far": far,
        "prelu_x": prelu_x,
        "prelu_alpha": np.array([0.25, 0.1, 1.5]),
        "prelu_upstream": rng.normal(size=prelu_x.shape),
        "tie_z": np.array([[2.0, 2.0, -1.0, 3.0, 3.0, 3.0]]),  # k = 3: the groups (2, 2, -1) and (3, 3, 3)
        "tie_upstream": np.array([[1.0, 1.0]]),
    }


# The settings of 06's check against Keras: (name, learning rate, activation, Leaky ReLU slope, L1, L2).
CHECKS_06 = [
    ("ReLU, lr 0.1", 0.1, "relu", 0.0, 0.0, 0.0),
    ("Leaky ReLU 0.2, lr 0.1", 0.1, "leaky_relu", 0.2, 0.0, 0.0),
    ("ELU, lr 0.1", 0.1, "elu", 0.0, 0.0, 0.0),
    ("ReLU + L1 0.01, lr 0.1", 0.1, "relu", 0.0, 0.01, 0.0),
    ("ReLU + L2 0.01, lr 0.1", 0.1, "relu", 0.0, 0.0, 0.01),
]
UPDATES_06 = 3


def inputs_06() -> dict[str, np.ndarray]:
    """06's check: one batch (the first 32 training points) and one network's he_uniform weights, in the order
    of Keras' model.get_weights(): weights[0] the first kernel, weights[1] its bias, ..., weights[11] the
    output bias."""
    from rectified import training

    x_train, y_train, _, _ = training.circles_split()
    initial = training.init_params(1, (5,) * 5, "he_uniform", seed=3)
    given = {"x_batch": x_train[:32], "y_batch": y_train[:32]}
    for i, array in enumerate(initial.model(0)):
        given[f"weights[{i}]"] = array
    return given


# ---------------------------------------------------------------- what the libraries return


def _import_libraries():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    import tensorflow as tf

    return tf, keras


def _floats(value) -> list:
    """A tensor or array as nested lists of Python floats (float32 values kept exactly)."""
    return np.asarray(value, dtype=np.float64).tolist()


def library_values_02(tf, keras) -> dict:
    """Notebook 02: tf.nn and Keras activations on the recorded inputs, and the libraries' defaults."""
    given = inputs_02()
    x, slopes, x_channels, z_pool = given["x"], given["slopes"], given["x_channels"], given["z_pool"]
    prelu_layer = keras.layers.PReLU()
    prelu_layer.build(x_channels.shape)
    prelu_layer.set_weights([slopes.astype("float32")])
    functions = [  # (the student's call, its input, the library's call, how to compute it)
        ("relu(x)", "x", "tf.nn.relu(x)", lambda: tf.nn.relu(x)),
        ("leaky_relu(x, alpha=0.2)", "x", "tf.nn.leaky_relu(x)", lambda: tf.nn.leaky_relu(x)),
        ("leaky_relu(x, alpha=0.3)", "x", "keras.layers.LeakyReLU()(x)", lambda: keras.layers.LeakyReLU()(x)),
        (
            "leaky_relu(x) [0.01]",
            "x",
            "tf.nn.leaky_relu(x, alpha=0.01)",
            lambda: tf.nn.leaky_relu(x, alpha=0.01),
        ),
        ("relu6(x)", "x", "tf.nn.relu6(x)", lambda: tf.nn.relu6(x)),
        ("elu(x)", "x", "tf.nn.elu(x)", lambda: tf.nn.elu(x)),
        (
            "elu(x, alpha=0.5)",
            "x",
            "keras.activations.elu(x, alpha=0.5)",
            lambda: keras.activations.elu(x, alpha=0.5),
        ),
        ("selu(x)", "x", "tf.nn.selu(x)", lambda: tf.nn.selu(x)),
        ("softplus(x)", "x", "tf.nn.softplus(x)", lambda: tf.nn.softplus(x)),
        ("silu(x)", "x", "tf.nn.silu(x)", lambda: tf.nn.silu(x)),
        ("gelu(x)", "x", "tf.nn.gelu(x, approximate=True)", lambda: tf.nn.gelu(x, approximate=True)),
        (
            "prelu(x, [0.1, 0.5, 2])",
            "x_channels",
            "keras.layers.PReLU() with weights [0.1, 0.5, 2]",
            lambda: prelu_layer(x_channels),
        ),
        (
            "maxout(z, 3)",
            "z_pool",
            "tf.nn.max_pool1d(z[..., None], ksize=3, strides=3, padding='VALID')[..., 0]",
            lambda: tf.nn.max_pool1d(z_pool[..., None], ksize=3, strides=3, padding="VALID")[..., 0],
        ),
    ]
    defaults = [
        ("tf.nn.leaky_relu", tf.nn.leaky_relu, "alpha"),
        ("keras.activations.leaky_relu", keras.activations.leaky_relu, "negative_slope"),
        ("keras.layers.LeakyReLU", keras.layers.LeakyReLU.__init__, "negative_slope"),
        ("keras.layers.PReLU", keras.layers.PReLU.__init__, "alpha_initializer"),
        ("keras.activations.elu", keras.activations.elu, "alpha"),
        ("tf.nn.gelu", tf.nn.gelu, "approximate"),
        ("keras.activations.gelu", keras.activations.gelu, "approximate"),
        ("keras.ops.gelu", keras.ops.gelu, "approximate"),
    ]
    x_one = given["x_one"]
    return {
        "inputs": {name: _floats(value) for name, value in given.items()},
        "functions": [
            {"name": name, "input": which, "library": library, "values": _floats(compute())}
            for name, which, library, compute in functions
        ],
        "defaults": [
            {"function": label, "parameter": p, "default": repr(inspect.signature(f).parameters[p].default)}
            for label, f, p in defaults
        ],
        "tf_nn_elu_parameters": list(inspect.signature(tf.nn.elu).parameters),
        "fresh_prelu_on_x_one": _floats(keras.layers.PReLU()(x_one[None, :]))[0],
        "gelu_at_1": {
            "keras.activations.gelu": float(keras.activations.gelu(x_one)[1]),
            "keras.ops.gelu": float(keras.ops.gelu(x_one)[1]),
        },
    }


def library_values_03(tf, keras) -> dict:
    """Notebook 03: derivatives from tf.GradientTape at and away from the kinks, PReLU's and maxout's gradients."""
    given = inputs_03()

    def tf_derivative(op, values):
        """d op(x) / dx at every element, as TensorFlow's automatic differentiation computes it."""
        x = tf.constant(values, dtype=tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = op(x)
        return tape.gradient(y, x).numpy()

    zero = tf.constant(0.0, tf.float64)
    ops = [  # (name, is it compared away from the kinks, the op)
        ("tf.nn.relu", True, tf.nn.relu),
        ("tf.nn.relu6", True, tf.nn.relu6),
        ("tf.nn.leaky_relu (alpha=0.2)", True, tf.nn.leaky_relu),
        ("tf.nn.leaky_relu(alpha=0.01)", True, lambda t: tf.nn.leaky_relu(t, alpha=0.01)),
        ("tf.nn.elu", True, tf.nn.elu),
        ("tf.nn.softplus", True, tf.nn.softplus),
        ("tf.nn.silu", True, tf.nn.silu),
        ("tf.maximum(x, 0.0)", False, lambda t: tf.maximum(t, zero)),
    ]
    kinks = [
        {"name": name, "values": _floats(tf_derivative(op, given["kink_points"]))} for name, _, op in ops
    ]
    away = [
        {"name": name, "values": _floats(tf_derivative(op, given["far"]))} for name, far, op in ops if far
    ]

    x_tf = tf.constant(given["prelu_x"])
    alpha_tf = tf.Variable(given["prelu_alpha"])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x_tf)
        out = tf.nn.relu(x_tf) - alpha_tf * tf.nn.relu(
            -x_tf
        )  # Keras' PReLU: keras/src/layers/activations/prelu.py
        loss = tf.reduce_sum(tf.constant(given["prelu_upstream"]) * out)
    prelu = {"dx": _floats(tape.gradient(loss, x_tf)), "dalpha": _floats(tape.gradient(loss, alpha_tf))}

    def tie_gradient(pool):
        z = tf.constant(given["tie_z"])
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss = tf.reduce_sum(tf.constant(given["tie_upstream"]) * pool(z))
        return _floats(tape.gradient(loss, z))

    ties = [
        ("tf.reduce_max of each group", lambda t: tf.reduce_max(tf.reshape(t, (1, 2, 3)), axis=-1)),
        (
            "tf.nn.max_pool1d, ksize=strides=3",
            lambda t: tf.nn.max_pool1d(t[..., None], ksize=3, strides=3, padding="VALID")[..., 0],
        ),
        ("tf.maximum, left to right", lambda t: tf.maximum(tf.maximum(t[:, 0::3], t[:, 1::3]), t[:, 2::3])),
    ]
    return {
        "inputs": {name: _floats(value) for name, value in given.items()},
        "at_kinks": kinks,
        "away_from_kinks": away,
        "prelu": prelu,
        "maxout_tie": [{"name": name, "values": tie_gradient(pool)} for name, pool in ties],
    }


def library_values_06(tf, keras) -> dict:
    """Notebook 06: for each setting of CHECKS_06, the same network built in Keras from the recorded weights,
    its gradient on the recorded batch (tf.GradientTape) and its weights after UPDATES_06 updates of
    keras.optimizers.SGD(momentum=0.9) on that batch."""
    from rectified.library_values import in_keras_order

    given = inputs_06()
    weights = in_keras_order(given)
    x, y = given["x_batch"], given["y_batch"]

    def twin(activation, slope, l1, l2):
        if activation == "leaky_relu":
            activation = lambda z: keras.activations.leaky_relu(z, negative_slope=slope)  # noqa: E731
        penalty = {"kernel_regularizer": keras.regularizers.L2(l2) if l2 else None}
        activity = keras.regularizers.L1(l1) if l1 else None
        hidden = [
            keras.layers.Dense(5, activation, activity_regularizer=activity, **penalty) for _ in range(5)
        ]
        model = keras.Sequential([keras.Input((2,)), *hidden, keras.layers.Dense(1, "sigmoid", **penalty)])
        model.set_weights(weights)
        return model

    def loss(model):  # Keras' training loss: mean binary cross-entropy plus the penalties
        return tf.reduce_mean(keras.losses.binary_crossentropy(y[:, None], model(x))) + sum(model.losses)

    def named(arrays) -> dict:
        return {f"weights[{i}]": _floats(a) for i, a in enumerate(arrays)}

    checks = []
    for name, lr, activation, slope, l1, l2 in CHECKS_06:
        model = twin(activation, slope, l1, l2)
        with tf.GradientTape() as tape:
            value = loss(model)
        gradient = tape.gradient(value, model.trainable_variables)
        optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=0.9)
        for _ in range(UPDATES_06):
            with tf.GradientTape() as tape:
                value = loss(model)
            grads = tape.gradient(value, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        checks.append(
            {
                "name": name,
                "learning_rate": lr,
                "activation": activation,
                "negative_slope": slope,
                "l1": l1,
                "l2": l2,
                "gradient": named(gradient),
                "after_updates": named(model.get_weights()),
            }
        )
    return {
        "inputs": {name: _floats(value) for name, value in given.items()},
        "updates": UPDATES_06,
        "checks": checks,
    }


def compute() -> dict:
    """Everything data/library_values.json holds, computed now with the installed TensorFlow and Keras."""
    tf, keras = _import_libraries()
    return {
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "02_relu_family": library_values_02(tf, keras),
        "03_derivatives": library_values_03(tf, keras),
        "06_dying_relu": library_values_06(tf, keras),
    }


# ---------------------------------------------------------------- writing and comparing


def to_json(value, indent: int = 0) -> str:
    """Canonical text: keys sorted, objects one key a line, every list of numbers on one line, floats exact."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(key)}: {to_json(value[key], indent + 1)}" for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return "[\n" + ",\n".join(inner + to_json(item, indent + 1) for item in value) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)


def write(values: dict, path: Path = OUTPUT) -> None:
    path.write_text(to_json(values) + "\n")


def compare(
    recorded,
    fresh,
    where: str = "",
    exact: bool = False,
    tolerance: tuple[float, float] = (RELATIVE_TOLERANCE, 1e-300),
) -> list[str]:
    """The differences between two value trees, each a line naming where; [] when they agree.

    Strings, integers, booleans, versions and inputs must be equal exactly (a float's sign of zero included);
    other floats may differ by RELATIVE_TOLERANCE of their size (TensorFlow's kernels differ in the last bits
    between CPUs), those of FLOAT32_SECTIONS by FLOAT32_TOLERANCE (relative, absolute).
    """
    if isinstance(recorded, dict) and isinstance(fresh, dict):
        problems = [f"{where}/{key}: only in the recorded file" for key in sorted(set(recorded) - set(fresh))]
        problems += [
            f"{where}/{key}: missing from the recorded file" for key in sorted(set(fresh) - set(recorded))
        ]
        for key in sorted(set(recorded) & set(fresh)):
            inner = FLOAT32_TOLERANCE if key in FLOAT32_SECTIONS else tolerance
            problems += compare(
                recorded[key], fresh[key], f"{where}/{key}", exact or key in EXACT_SECTIONS, inner
            )
        return problems
    if isinstance(recorded, list) and isinstance(fresh, list):
        if len(recorded) != len(fresh):
            return [f"{where}: {len(recorded)} entries recorded, {len(fresh)} computed"]
        return [
            p
            for i, (a, b) in enumerate(zip(recorded, fresh, strict=True))
            for p in compare(a, b, f"{where}[{i}]", exact, tolerance)
        ]
    numbers = all(isinstance(v, float | int) and not isinstance(v, bool) for v in (recorded, fresh))
    if numbers and not exact and (isinstance(recorded, float) or isinstance(fresh, float)):
        if math.isclose(recorded, fresh, rel_tol=tolerance[0], abs_tol=tolerance[1]):
            return []
    elif type(recorded) is type(fresh) and repr(recorded) == repr(fresh):
        return []
    return [f"{where}: recorded {recorded!r}, computed {fresh!r}"]


def load(path: Path = OUTPUT) -> dict:
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="recompute and report differences; write nothing"
    )
    args = parser.parse_args(argv)
    values = compute()
    if not args.check:
        write(values, OUTPUT)
        print(
            f"wrote {OUTPUT} (TensorFlow {values['versions']['tensorflow']}, Keras {values['versions']['keras']})"
        )
        return 0
    problems = compare(load(OUTPUT), values)
    for line in problems:
        print(line)
    versions = f"TensorFlow {values['versions']['tensorflow']}, Keras {values['versions']['keras']}"
    if problems:
        print(f"{len(problems)} differences between {OUTPUT.name} and the installed {versions}")
        return 1
    print(f"{OUTPUT.name} agrees with the installed {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
