"""Graders' tests for 05_vanishing_gradients: wrong implementations fail, correct styles pass."""

from __future__ import annotations

import ast
import math

import cells
import numpy as np
import pytest
from graders_common import Cases, GradedFunctionTests
from lying_values import AlwaysEqual, LyingFloat, LyingFloat64, RightOnce

from autograder import judging

AID = "05_vanishing_gradients"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


# ---------------------------------------------------------------------------------------------------------
# tricks beyond tests/lying_values.py: a value that poses as a TensorFlow tensor.


class EagerTensor:
    """Poses as a TensorFlow scalar: the same class name, a numpy() that reads as the right value."""

    def __init__(self, value):
        self.value = value
        self.shape, self.dtype = (), np.dtype(np.float32)

    def numpy(self):
        return np.float32(self.value)

    def __float__(self):
        return float(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __repr__(self):
        return f"<tf.Tensor: shape=(), dtype=float32, numpy={self.value}>"


# ---------------------------------------------------------------------------------------------------------
# the four initialisation formulas


def _raises(*args):
    raise ZeroDivisionError("float division by zero")


def _scalar_oddities(formula):
    """Wrong return types around a right formula: each must fail with a message, not crash the judge."""
    return {
        "returns-None": lambda *a: None,
        "returns-int": lambda *a: int(formula(*a)),
        "returns-string": lambda *a: f"{formula(*a):.6f}",
        "returns-bool": lambda *a: formula(*a) > 0,
        "returns-0d-int-array": lambda *a: np.array(int(formula(*a))),
        "returns-list": lambda *a: [formula(*a)],
        "returns-tuple-of-two": lambda *a: (formula(*a), formula(*a)),
        "raises": _raises,
        "prints-instead-of-returning": lambda *a: print(formula(*a)),
    }


def _scalar_tricks(right, wrong):
    """The tricks of this file wrapped around a wrong formula (or right only on the first read)."""
    return {
        "trick: lying np.float64 subclass": lambda *a: LyingFloat64(wrong(*a)),
        "trick: lying float subclass": lambda *a: LyingFloat(wrong(*a)),
        "trick: lying 0-d ndarray subclass": lambda *a: np.array(wrong(*a)).view(AlwaysEqual),
        "trick: right only on the first read": lambda *a: RightOnce(right(*a), wrong(*a)),
    }


CASES["he_uniform_limit"] = Cases(
    wrong={
        "normal-std-sqrt(2/n)": lambda n: math.sqrt(2 / n),
        "tutorial-2/sqrt(n)": lambda n: 2 / math.sqrt(n),
        "old-heuristic-1/sqrt(n)": lambda n: 1 / math.sqrt(n),
        "lecun-sqrt(3/n)": lambda n: math.sqrt(3 / n),
        "sqrt(6)/n": lambda n: math.sqrt(6) / n,
        "6/n-no-sqrt": lambda n: 6 / n,
        "integer-division": lambda n: math.sqrt(6 // n),
        "rounded": lambda n: round(math.sqrt(6 / n), 3),
        "returns-array": lambda n: np.array([math.sqrt(6 / n)]),
        **_scalar_oddities(lambda n: math.sqrt(6 / n)),
        **_scalar_tricks(lambda n: math.sqrt(6 / n), lambda n: math.sqrt(2 / n)),
    },
    right={
        "math": lambda n: math.sqrt(6 / n),
        "numpy": lambda n: np.sqrt(6.0 / n),
        "via-variance": lambda n: np.sqrt(3 * (2 / n)),
        "power": lambda n: (6 / n) ** 0.5,
        "float32": lambda n: np.float32(np.sqrt(6 / n)),
        "0-d-float-array": lambda n: np.array(math.sqrt(6 / n)),
    },
)


CASES["he_normal_std"] = Cases(
    wrong={
        "uniform-limit-sqrt(6/n)": lambda n: math.sqrt(6 / n),
        "tutorial-2/sqrt(n)": lambda n: 2 / math.sqrt(n),
        "keras-stddev-argument": lambda n: math.sqrt(2 / n) / 0.87962566103423978,
        "variance-not-std": lambda n: 2 / n,
        "lecun-sqrt(1/n)": lambda n: math.sqrt(1 / n),
        "sqrt(2)/n": lambda n: math.sqrt(2) / n,
        **_scalar_oddities(lambda n: math.sqrt(2 / n)),
        **_scalar_tricks(lambda n: math.sqrt(2 / n), lambda n: 2 / math.sqrt(n)),
    },
    right={
        "math": lambda n: math.sqrt(2 / n),
        "numpy": lambda n: np.sqrt(2.0 / n),
        "sqrt2-over-sqrtn": lambda n: math.sqrt(2) / math.sqrt(n),
    },
)


CASES["glorot_uniform_limit"] = Cases(
    wrong={
        "fan-in-only": lambda i, o: math.sqrt(6 / (2 * i)),
        "fan-in-only-sqrt(6/n)": lambda i, o: math.sqrt(6 / i),
        "fan-out-only": lambda i, o: math.sqrt(3 / o),
        "normal-std": lambda i, o: math.sqrt(2 / (i + o)),
        "old-heuristic": lambda i, o: 1 / math.sqrt(i),
        "product": lambda i, o: math.sqrt(6 / (i * o)),
        "sqrt6-over-sum": lambda i, o: math.sqrt(6) / (i + o),
        "mean-fan-constant-6": lambda i, o: math.sqrt(6 / ((i + o) / 2)),
        **_scalar_oddities(lambda i, o: math.sqrt(6 / (i + o))),
        **_scalar_tricks(lambda i, o: math.sqrt(6 / (i + o)), lambda i, o: 1 / math.sqrt(i)),
    },
    right={
        "math": lambda i, o: math.sqrt(6 / (i + o)),
        "numpy": lambda i, o: np.sqrt(6.0 / (i + o)),
        "via-fan-avg": lambda i, o: math.sqrt(3 / ((i + o) / 2)),
        "via-variance": lambda i, o: math.sqrt(3 * 2 / (i + o)),
    },
)


CASES["glorot_normal_std"] = Cases(
    wrong={
        "fan-in-only": lambda i, o: math.sqrt(1 / i),
        "fan-in-only-constant-2": lambda i, o: math.sqrt(2 / i),
        "fan-out-only": lambda i, o: math.sqrt(1 / o),
        "uniform-limit": lambda i, o: math.sqrt(6 / (i + o)),
        "variance-not-std": lambda i, o: 2 / (i + o),
        "keras-stddev-argument": lambda i, o: math.sqrt(2 / (i + o)) / 0.87962566103423978,
        "constant-1": lambda i, o: math.sqrt(1 / (i + o)),
        **_scalar_oddities(lambda i, o: math.sqrt(2 / (i + o))),
        **_scalar_tricks(lambda i, o: math.sqrt(2 / (i + o)), lambda i, o: math.sqrt(1 / i)),
    },
    right={
        "math": lambda i, o: math.sqrt(2 / (i + o)),
        "numpy": lambda i, o: np.sqrt(2.0 / (i + o)),
        "via-fan-avg": lambda i, o: math.sqrt(1 / ((i + o) / 2)),
    },
)


# ---------------------------------------------------------------------------------------------------------
# activation_stds


def _stds_right_loop(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.std())
    return np.array(out)


def _stds_right_list(x, weights, activation):
    out, h = [], np.asarray(x, dtype=np.float64)
    for w in weights:
        h = activation(np.matmul(h, w))
        out.append(float(np.sqrt(np.mean((h - h.mean()) ** 2))))
    return out


def _stds_right_ravel(x, weights, activation):
    h = x.copy()
    result = np.empty(len(weights))
    for k, w in enumerate(weights):
        h = activation(np.dot(h, w))
        result[k] = np.std(h.ravel())
    return result


def _stds_pre_activation(x, weights, activation):
    h, out = x, []
    for w in weights:
        z = h @ w
        out.append(z.std())
        h = activation(z)
    return np.array(out)


def _stds_per_unit_mean(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.std(axis=0).mean())
    return np.array(out)


def _stds_per_sample_mean(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.std(axis=1).mean())
    return np.array(out)


def _stds_per_unit_arrays(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.std(axis=0))
    return out


def _stds_with_input(x, weights, activation):
    h, out = x, [np.std(x)]
    for w in weights:
        h = activation(h @ w)
        out.append(h.std())
    return np.array(out)


def _stds_input_instead_of_last(x, weights, activation):
    h, out = x, []
    for w in weights:
        out.append(h.std())
        h = activation(h @ w)
    return np.array(out)


def _stds_no_activation_propagated(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = h @ w
        out.append(activation(h).std())
    return np.array(out)


def _stds_activation_never_applied(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = h @ w
        out.append(h.std())
    return np.array(out)


def _stds_ddof1(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.std(ddof=1))
    return np.array(out)


def _stds_variance(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.var())
    return np.array(out)


def _stds_rms(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(np.sqrt(np.mean(h**2)))
    return np.array(out)


def _stds_only_last_layer(x, weights, activation):
    h = x
    for w in weights:
        h = activation(h @ w)
    return np.array([h.std()])


def _stds_first_sample_only(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h[0].std())
    return np.array(out)


def _stds_modifies_x(x, weights, activation):
    h, out = x, []
    for w in weights:
        h = activation(h @ w)
        out.append(h.std())
    x *= 1.0
    x[0, 0] += 1.0
    return np.array(out)


def _stds_pops_weights(x, weights, activation):
    h, out = x, []
    while weights:
        h = activation(h @ weights.pop(0))
        out.append(h.std())
    return np.array(out)


def _stds_modifies_weights(x, weights, activation):
    h, out = x, []
    for w in weights:
        w *= 2.0  # in place: the caller's matrices are doubled
        h = activation(h @ (w / 2.0))
        out.append(h.std())
    return np.array(out)


def _stds_right(x, weights, activation):
    return _stds_right_loop(np.asarray(x, dtype=float), weights, activation)


def _stds_raises(x, weights, activation):
    raise ValueError("matmul: Input operand 1 has a mismatch in its core dimension 0")


CASES["activation_stds"] = Cases(
    wrong={
        "pre-activation-std": _stds_pre_activation,
        "per-unit-std-averaged": _stds_per_unit_mean,
        "per-sample-std-averaged": _stds_per_sample_mean,
        "per-unit-std-arrays": _stds_per_unit_arrays,
        "includes-input-layer": _stds_with_input,
        "measures-layer-input": _stds_input_instead_of_last,
        "activation-not-propagated": _stds_no_activation_propagated,
        "activation-never-applied": _stds_activation_never_applied,
        "ddof-1": _stds_ddof1,
        "variance": _stds_variance,
        "root-mean-square": _stds_rms,
        "only-last-layer": _stds_only_last_layer,
        "first-sample-only": _stds_first_sample_only,
        "modifies-x": _stds_modifies_x,
        "pops-the-weights-list": _stds_pops_weights,
        "modifies-weights": _stds_modifies_weights,
        "2-d-column": lambda x, w, a: _stds_right(x, w, a).reshape(-1, 1),
        "returns-None": lambda x, w, a: None,
        "returns-a-dict": lambda x, w, a: dict(enumerate(_stds_right(x, w, a).tolist())),
        "returns-a-string": lambda x, w, a: str(_stds_right(x, w, a)),
        "returns-a-number": lambda x, w, a: float(_stds_right(x, w, a)[-1]),
        "raises": _stds_raises,
        "list-with-a-none": lambda x, w, a: [*_stds_right(x, w, a).tolist()[:-1], None],
        # tricks
        "trick: lying ndarray subclass around the pre-activation stds": lambda x, w, a: _stds_pre_activation(
            x, w, a
        ).view(AlwaysEqual),
        "trick: list of lying np.float64 around the variances": lambda x, w, a: [
            LyingFloat64(v) for v in _stds_variance(x, w, a)
        ],
        "trick: list of lying floats around the variances": lambda x, w, a: [
            LyingFloat(v) for v in _stds_variance(x, w, a)
        ],
        "trick: right only on the first read": lambda x, w, a: RightOnce(
            _stds_right(x, w, a), _stds_variance(x, w, a)
        ),
    },
    right={
        "loop-array": _stds_right_loop,
        "list-of-floats": _stds_right_list,
        "ravel-dot": _stds_right_ravel,
        "tuple-of-numpy-floats": lambda x, w, a: tuple(np.float64(v) for v in _stds_right(x, w, a)),
        "float32-array": lambda x, w, a: _stds_right(x, w, a).astype(np.float32),
    },
)


# ---------------------------------------------------------------------------------------------------------
# gradient_norms (these build tiny Keras models; TensorFlow is imported by the solution's setup cell)


def _tf():
    import keras
    import tensorflow as tf

    return tf, keras


def _kernels(model):
    _, keras = _tf()
    return [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def _norms_right_keras_loss(model, x, y):
    tf, keras = _tf()
    y = np.asarray(y, dtype="float32").reshape(-1, 1)
    with tf.GradientTape() as tape:
        loss = keras.losses.BinaryCrossentropy()(y, model(x))
    return [float(tf.norm(g)) for g in tape.gradient(loss, _kernels(model))]


def _norms_right_manual_formula(model, x, y):
    tf, _ = _tf()
    y = tf.constant(np.asarray(y, dtype="float32")[:, None])
    with tf.GradientTape() as tape:
        p = model(tf.constant(x, dtype=tf.float32))
        loss = -tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
    return [float(tf.sqrt(tf.reduce_sum(g**2))) for g in tape.gradient(loss, _kernels(model))]


def _norms_right_trainable_weights(model, x, y):
    """Takes kernels from trainable_weights (kernel, bias, kernel, bias, ...) and returns NumPy floats."""
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        p = tf.squeeze(model(x, training=False), axis=1)
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y.astype("float32")[:, None], p[:, None]))
    grads = tape.gradient(loss, model.trainable_weights)
    return [np.linalg.norm(g.numpy()) for g in grads[0::2]]


def _norms_with_biases(model, x, y):
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    return [float(tf.norm(g)) for g in tape.gradient(loss, model.trainable_weights)]


def _norms_of_weights(model, x, y):
    return [float(np.linalg.norm(k.numpy())) for k in _kernels(model)]


def _norms_sum_loss(model, x, y):
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    return [float(tf.norm(g)) for g in tape.gradient(loss, _kernels(model))]


def _norms_reversed(model, x, y):
    return _norms_right_keras_loss(model, x, y)[::-1]


def _norms_broadcast_bug(model, x, y):
    """y of shape (m,) against an output of shape (m, 1): the manual formula broadcasts to (m, m)."""
    tf, _ = _tf()
    y = tf.constant(np.asarray(y, dtype="float32"))
    with tf.GradientTape() as tape:
        p = model(x)
        loss = -tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
    return [float(tf.norm(g)) for g in tape.gradient(loss, _kernels(model))]


def _norms_mse(model, x, y):
    tf, _ = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y.reshape(-1, 1).astype("float32")) ** 2)
    return [float(tf.norm(g)) for g in tape.gradient(loss, _kernels(model))]


def _norms_first_sample(model, x, y):
    return _norms_right_keras_loss(model, x[:1], y[:1])


def _norms_l1(model, x, y):
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    return [float(tf.reduce_sum(tf.abs(g))) for g in tape.gradient(loss, _kernels(model))]


def _norms_mean_abs(model, x, y):
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    return [float(tf.reduce_mean(tf.abs(g))) for g in tape.gradient(loss, _kernels(model))]


def _norms_applies_a_step(model, x, y):
    tf, keras = _tf()
    kernels = _kernels(model)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    grads = tape.gradient(loss, kernels)
    for k, g in zip(kernels, grads, strict=True):
        k.assign_sub(0.1 * g)
    return [float(tf.norm(g)) for g in grads]


def _norms_last_layer_only_list(model, x, y):
    return _norms_right_keras_loss(model, x, y)[-1:]


def _norms_tensors(model, x, y):
    """The norms as scalar tf.Tensor values (what tf.norm returns), without float(...)."""
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    return [tf.norm(g) for g in tape.gradient(loss, _kernels(model))]


def _norms_sum_loss_tensors(model, x, y):
    tf, keras = _tf()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(keras.losses.binary_crossentropy(y.reshape(-1, 1), model(x)))
    return [tf.norm(g) for g in tape.gradient(loss, _kernels(model))]


def _norms_one_tensor(model, x, y):
    """All norms in one tensor of shape (3,): len() and float() of its entries work, as on a list of floats."""
    tf, _ = _tf()
    return tf.stack(_norms_tensors(model, x, y))


def _norms_raises(model, x, y):
    raise ValueError("No gradients provided for any variable")


def _norms_modifies_x(model, x, y):
    norms = _norms_right_keras_loss(model, x, y)
    x -= x.mean(axis=0)
    return norms


def _norms_pops_a_layer(model, x, y):
    norms = _norms_right_keras_loss(model, x, y)
    model.pop()
    return norms


CASES["gradient_norms"] = Cases(
    wrong={
        "includes-bias-gradients": _norms_with_biases,
        "norms-of-weights": _norms_of_weights,
        "sum-loss": _norms_sum_loss,
        "last-layer-first": _norms_reversed,
        "broadcast-(m,m)": _norms_broadcast_bug,
        "mse-loss": _norms_mse,
        "one-sample": _norms_first_sample,
        "l1-norm": _norms_l1,
        "mean-abs": _norms_mean_abs,
        "applies-an-update": _norms_applies_a_step,
        "output-layer-only": _norms_last_layer_only_list,
        "sum-loss-as-tensors": _norms_sum_loss_tensors,
        "returns-None": lambda m, x, y: None,
        "returns-a-number": lambda m, x, y: sum(_norms_right_keras_loss(m, x, y)),
        "returns-a-dict": lambda m, x, y: dict(enumerate(_norms_right_keras_loss(m, x, y))),
        "returns-strings": lambda m, x, y: [f"{v:.6f}" for v in _norms_right_keras_loss(m, x, y)],
        "list-with-a-none": lambda m, x, y: [*_norms_right_keras_loss(m, x, y)[:-1], None],
        "list-of-1-element-arrays": lambda m, x, y: [np.array([v]) for v in _norms_right_keras_loss(m, x, y)],
        "raises": _norms_raises,
        "modifies-x": _norms_modifies_x,
        "pops-a-layer": _norms_pops_a_layer,
        # tricks
        "trick: lying np.float64 around the sum loss": lambda m, x, y: [
            LyingFloat64(v) for v in _norms_sum_loss(m, x, y)
        ],
        "trick: lying floats around the sum loss": lambda m, x, y: [
            LyingFloat(v) for v in _norms_sum_loss(m, x, y)
        ],
        "trick: lying ndarray subclass around the weights' norms": lambda m, x, y: np.array(
            _norms_of_weights(m, x, y)
        ).view(AlwaysEqual),
        "trick: right only on the first read": lambda m, x, y: [
            RightOnce(v, 0.0) for v in _norms_right_keras_loss(m, x, y)
        ],
        "trick: objects posing as tensors": lambda m, x, y: [
            EagerTensor(v) for v in _norms_right_keras_loss(m, x, y)
        ],
    },
    right={
        "BinaryCrossentropy-object": _norms_right_keras_loss,
        "manual-formula-same-shapes": _norms_right_manual_formula,
        "trainable-weights-numpy-floats": _norms_right_trainable_weights,
        "scalar-tensors": _norms_tensors,
        "one-tensor-of-shape-(3,)": _norms_one_tensor,
        "numpy-array": lambda m, x, y: np.array(_norms_right_keras_loss(m, x, y)),
        "tuple": lambda m, x, y: tuple(_norms_right_keras_loss(m, x, y)),
    },
)


def _judge_functions(grade_id: str) -> dict[str, object]:
    """The fixtures of a test cell and the functions its judge defines, run here (no report needed)."""
    test = judging.split(cells.autograded_cell_sources(AID)[grade_id])
    namespace: dict[str, object] = {}
    exec(compile(test.fixtures, f"<{grade_id} fixtures>", "exec"), namespace)
    tree = ast.parse(test.judge)
    definitions = ast.Module(
        [node for node in tree.body if isinstance(node, ast.FunctionDef)], type_ignores=[]
    )
    exec(compile(definitions, f"<{grade_id} judge functions>", "exec"), namespace)
    return namespace


def _tf_gradient_norms(weights, activations, x, y):
    """The norms by TensorFlow: a Keras model with these weights, GradientTape, Keras' binary cross-entropy."""
    tf, keras = _tf()
    model = keras.Sequential(
        [keras.Input((x.shape[1],))]
        + [
            keras.layers.Dense(w.shape[1], activation=a)
            for w, a in zip(weights[::2], activations, strict=True)
        ]
    )
    model.set_weights(weights)
    with tf.GradientTape() as tape:
        p = model(tf.constant(x, dtype=tf.float32))
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(tf.constant(y.reshape(-1, 1), tf.float32), p))
    return [float(tf.norm(g)) for g in tape.gradient(loss, _kernels(model))]


def _random_network(seed, sizes, activations, m=7):
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights += [
            rng.normal(0, 0.8, (n_in, n_out)).astype(np.float32),
            rng.normal(0, 0.3, n_out).astype(np.float32),
        ]
    return weights, activations, rng.normal(size=(m, sizes[0])), (rng.random(m) < 0.5).astype(float)


@pytest.mark.parametrize(
    "network",
    ["fixtures", "sigmoid-tanh-relu", "one-layer", "deep-relu"],
)
def test_numpy_reference_of_gradient_norms_matches_tensorflow(network: str) -> None:
    """The judge's hand-derived back-propagation agrees with GradientTape on the cell's network and others."""
    judge = _judge_functions("test_gradient_norms")
    reference = judge["_np_gradient_norms"]
    if network == "fixtures":
        setup = judge["_weights"], judge["_activations"], judge["_x"], judge["_y"]
    elif network == "sigmoid-tanh-relu":
        setup = _random_network(1, [4, 5, 3, 2, 1], ["sigmoid", "tanh", "relu", "sigmoid"])
    elif network == "one-layer":
        setup = _random_network(2, [3, 1], ["sigmoid"])
    else:
        setup = _random_network(3, [2, 6, 6, 6, 6, 1], ["relu"] * 4 + ["sigmoid"], m=20)
    want = _tf_gradient_norms(*setup)
    got = reference(*setup)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-9)
    assert all(v > 0 for v in got), got


@pytest.mark.parametrize("grade_id", sorted(cells.autograded_cell_sources(AID)))
def test_plain_nbgrader_runs_each_whole_cell_with_the_solution(grade_id: str) -> None:
    """Plain nbgrader runs fixtures, probe and judge in the one kernel: the solution passes there too."""
    cells.run_whole_cell(AID, grade_id)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("name", "wrong"),
    [pytest.param(n, w, id=f"{n}-{label}") for n, cases in CASES.items() for label, w in cases.wrong.items()],
)
def test_every_wrong_implementation_gets_a_message_not_a_crash(name: str, wrong) -> None:
    """A judge answers every value with its own message: it never crashes, and never cries tampering."""
    with pytest.raises(AssertionError) as failure:
        cells.run_test_cell(AID, f"test_{name}", **{name: wrong})
    message = str(failure.value)
    assert "could not use what your code returned" not in message, message
    assert "cannot be trusted" not in message, message
    assert name in message or "stopped before" in message, message


MESSAGES = [
    (
        "he_uniform_limit",
        "normal-std-sqrt(2/n)",
        "that is sqrt(2 / fan_in), the He normal standard deviation",
    ),
    ("he_uniform_limit", "returns-array", "expected one floating-point number -- an array of shape (1,)"),
    ("he_uniform_limit", "returns-None", "returned None; is a `return` missing?"),
    ("he_normal_std", "keras-stddev-argument", "the stddev argument Keras passes to its truncated normal"),
    ("glorot_uniform_limit", "fan-in-only-sqrt(6/n)", "the He uniform limit: fan_in only"),
    ("glorot_normal_std", "variance-not-std", "the variance; take its square root"),
    ("activation_stds", "pre-activation-std", "the std of each pre-activation h @ W"),
    ("activation_stds", "per-unit-std-arrays", "not one std per unit"),
    ("activation_stds", "includes-input-layer", "is the std of x itself included?"),
    ("activation_stds", "ddof-1", "the sample std (ddof=1)"),
    ("activation_stds", "modifies-x", "it must leave x and weights unchanged"),
    ("activation_stds", "pops-the-weights-list", "it must leave x and weights unchanged"),
    ("gradient_norms", "includes-bias-gradients", "kernels and biases together"),
    ("gradient_norms", "last-layer-first", "(your list is in reverse order)"),
    ("gradient_norms", "sum-loss", "6 times too large: the loss is the sum over the samples"),
    ("gradient_norms", "norms-of-weights", "the norms of the kernels themselves"),
    ("gradient_norms", "applies-an-update", "changed the model's weights"),
    ("gradient_norms", "modifies-x", "modified x or y"),
    ("gradient_norms", "trick: objects posing as tensors", "expected a Python float"),
]


@pytest.mark.parametrize(("name", "label", "expected"), MESSAGES, ids=[f"{n}-{w}" for n, w, _ in MESSAGES])
def test_messages_name_the_call_and_the_mistake(name: str, label: str, expected: str) -> None:
    """What a student reads for common mistakes: the function, what came back, and what it is."""
    with pytest.raises(AssertionError) as failure:
        cells.run_test_cell(AID, f"test_{name}", **{name: CASES[name].wrong[label]})
    message = str(failure.value)
    assert expected in message, message
    assert name in message, message
