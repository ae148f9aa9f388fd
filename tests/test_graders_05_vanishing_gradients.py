"""Graders' tests for 05_vanishing_gradients: wrong implementations fail, correct styles pass."""

from __future__ import annotations

import math

import numpy as np
from graders_common import Cases, GradedFunctionTests

AID = "05_vanishing_gradients"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


# ---------------------------------------------------------------------------------------------------------
# the four initialisation formulas


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
    },
    right={
        "math": lambda n: math.sqrt(6 / n),
        "numpy": lambda n: np.sqrt(6.0 / n),
        "via-variance": lambda n: np.sqrt(3 * (2 / n)),
        "power": lambda n: (6 / n) ** 0.5,
        "float32": lambda n: np.float32(np.sqrt(6 / n)),
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
    },
    right={
        "loop-array": _stds_right_loop,
        "list-of-floats": _stds_right_list,
        "ravel-dot": _stds_right_ravel,
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
    },
    right={
        "BinaryCrossentropy-object": _norms_right_keras_loss,
        "manual-formula-same-shapes": _norms_right_manual_formula,
        "trainable-weights-numpy-floats": _norms_right_trainable_weights,
    },
)
