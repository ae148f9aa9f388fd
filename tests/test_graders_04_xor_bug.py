"""Graders' tests for 04_xor_bug: wrong implementations must fail their test cell, correct styles must pass.

Every implementation below is written the way a student plausibly would. The wrong ones each break one thing
the specification asks for; the correct ones differ from the reference solution in style only
(../shared/GRADING.md, section 5).
"""

from __future__ import annotations

import copy
import time
import types

import cells
import numpy as np
import pytest
from cells import passes, run_test_cell, run_visible_part, solution_namespace
from graders_common import Cases, GradedFunctionTests
from lying_values import AlwaysEqual, LyingFloat, LyingFloat64, RightOnce

from autograder import judging
from rectified import harness

AID = "04_xor_bug"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


SOLUTION = solution_namespace(AID)
leaky_relu = SOLUTION["leaky_relu"]
sigmoid = SOLUTION["sigmoid"]
forward = SOLUTION["forward"]
bce_loss = SOLUTION["bce_loss"]
backward = SOLUTION["backward"]
sgd_step = SOLUTION["sgd_step"]
init_params = SOLUTION["init_params"]


@pytest.fixture(autouse=True)
def _seeded_global_numpy_random() -> None:
    """Seed np.random before each test, so a wrong init_params that draws from it fails reproducibly."""
    np.random.seed(0)


# --------------------------------------------------------------------------- tricks
# Wrong answers wrapped in values that lie (tests/lying_values.py): each must still fail.


def _lying(values):
    return np.asarray(values, dtype=float).view(AlwaysEqual)


def _verdict(namespace: dict, grade_id: str) -> judging.Verdict:
    """Probe a test cell in this namespace, then judge, as tests/cells.py does (for functions rebound to it)."""
    test = judging.split(cells.autograded_cell_sources(AID)[grade_id])
    harness.INBOX.pop(grade_id, None)
    exec(compile(test.kernel_source, f"<{AID}:{grade_id} probe>", "exec"), namespace)
    report = harness.INBOX.pop(grade_id, None)
    return judging.decide(test, grade_id, [report] if report is not None else [], None)


def _rebound(function: types.FunctionType, namespace: dict) -> types.FunctionType:
    """The same function, looking up its globals (forward, backward, ...) in namespace, as in a notebook."""
    return types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__)


# --------------------------------------------------------------------------- the harness itself


def test_backward_cell_restores_the_students_derivative() -> None:
    namespace = dict(solution_namespace(AID))
    own = namespace["leaky_relu_prime"]
    source = cells.autograded_cell_sources(AID)["test_backward"]
    exec(compile(source, "<test_backward>", "exec"), namespace)
    assert namespace["leaky_relu_prime"] is own


def test_backward_fixture_has_pre_activations_between_zero_and_epsilon() -> None:
    X = np.array(
        [[-1.2, -0.8, 0.9], [0.2, -1.2, -0.2], [-0.1, -1.0, 0.7], [-1.2, -0.3, 0.1], [-0.2, 0.3, 0.7]]
    )
    W1 = np.array([[0.9, -0.4, 0.3, 0.4], [-0.4, -1.0, 0.9, -0.4], [-0.4, 0.8, 0.2, -0.1]])
    z1 = X @ W1 + np.array([0.16, -0.28, 0.12, -0.08])
    assert np.abs(z1).min() >= 0.05
    assert ((z1 > 0) & (z1 < 0.1)).any() and ((z1 > 0.1) & (z1 < 0.25)).sum() >= 2
    assert (z1 < 0).sum() >= 6


# --------------------------------------------------------------------------- leaky_relu_prime


def prime_question(z, epsilon=0.1):
    if np.all(z > epsilon):
        return 1.0
    return epsilon


def prime_question_edit(z, epsilon=0.1):
    gradients = 1.0 * (np.asarray(z) > epsilon)
    gradients[gradients == 0] = epsilon
    return gradients


def prime_relu_only(z, epsilon=0.1):
    return np.where(np.asarray(z) > 0, 1.0, 0.0)


def prime_swapped(z, epsilon=0.1):
    return np.where(np.asarray(z) > 0, epsilon, 1.0)


def prime_in_place(z, epsilon=0.1):
    z = np.asarray(z, dtype=float)
    positive = z > 0
    z[positive] = 1.0
    z[~positive] = epsilon
    return z


def prime_ones_like(z, epsilon=0.1):
    g = np.ones_like(z)
    g[np.asarray(z) <= 0] = epsilon
    return g


def prime_zero_at_kink(z, epsilon=0.1):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, np.where(z < 0, epsilon, 0.0))


def prime_returns_activation(z, epsilon=0.1):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, epsilon * z)


def prime_fixed_slope(z, epsilon=0.1):
    return np.where(np.asarray(z) > 0, 1.0, 0.1)


def prime_boolean(z, epsilon=0.1):
    return np.asarray(z) > 0


def prime_flattens(z, epsilon=0.1):
    return np.where(np.ravel(z) > 0, 1.0, epsilon)


# correct styles
def prime_copy_then_assign(z, epsilon=0.1):
    g = np.array(z, dtype=float, copy=True)
    positive = g > 0
    g[positive] = 1.0
    g[~positive] = epsilon
    return g


CASES["leaky_relu_prime"] = Cases(
    wrong={
        "question_np_all_scalar": prime_question,
        "question_edit_compares_with_epsilon": prime_question_edit,
        "plain_relu_ignores_epsilon": prime_relu_only,
        "slopes_swapped": prime_swapped,
        "writes_into_z": prime_in_place,
        "ones_like_keeps_int_dtype": prime_ones_like,
        "zero_at_kink_outside_allowed_set": prime_zero_at_kink,
        "returns_the_activation": prime_returns_activation,
        "epsilon_hard_coded": prime_fixed_slope,
        "boolean_mask": prime_boolean,
        "flattens": prime_flattens,
        "mask_from_the_first_element": lambda z, epsilon=0.1: np.full(
            np.shape(z), 1.0 if np.ravel(z)[0] > 0 else epsilon
        ),
        # tricks
        "trick: lying ndarray subclass around z > epsilon": lambda z, epsilon=0.1: _lying(
            np.where(np.asarray(z) > epsilon, 1.0, epsilon)
        ),
        "trick: right only on the first read, then ReLU's derivative": lambda z, epsilon=0.1: RightOnce(
            np.where(np.asarray(z) > 0, 1.0, epsilon), np.where(np.asarray(z) > 0, 1.0, 0.0)
        ),
    },
    right={
        "where_ge_one_at_kink": lambda z, epsilon=0.1: np.where(np.asarray(z) >= 0, 1.0, epsilon),
        "boolean_arithmetic": lambda z, epsilon=0.1: (np.asarray(z) > 0) + epsilon * (np.asarray(z) <= 0),
        "python_arithmetic": lambda z, epsilon=0.1: (z > 0) + epsilon * (z <= 0),
        "affine_in_mask": lambda z, epsilon=0.1: epsilon + (1 - epsilon) * (np.asarray(z) > 0),
        "average_at_kink": lambda z, epsilon=0.1: np.where(
            np.asarray(z) > 0, 1.0, np.where(np.asarray(z) < 0, epsilon, (1 + epsilon) / 2)
        ),
        "heaviside": lambda z, epsilon=0.1: epsilon + (1 - epsilon) * np.heaviside(z, 0.5),
        "copy_then_assign": prime_copy_then_assign,
    },
)


# --------------------------------------------------------------------------- init_params


def he_init(w1_std, w2_std, b1=0.1, b2_shape=(1,), transpose_w1=False, w2_flat=False):
    """A family of initialisers that differ in one rule each."""

    def init(n_in, n_hidden, rng):
        shape1 = (n_hidden, n_in) if transpose_w1 else (n_in, n_hidden)
        return {
            "W1": rng.standard_normal(shape1) * w1_std(n_in, n_hidden),
            "b1": b1(n_hidden, rng) if callable(b1) else np.full(n_hidden, b1),
            "W2": rng.standard_normal(n_hidden if w2_flat else (n_hidden, 1)) * w2_std(n_in, n_hidden),
            "b2": np.zeros(b2_shape),
        }

    return init


def he(n):
    return np.sqrt(2.0 / n)


def init_global_random(n_in, n_hidden, rng):
    return {
        "W1": np.random.randn(n_in, n_hidden) * he(n_in),
        "b1": np.full(n_hidden, 0.1),
        "W2": np.random.randn(n_hidden, 1) * he(n_hidden),
        "b2": np.zeros(1),
    }


def init_reseeded(n_in, n_hidden, rng):
    return init_params(n_in, n_hidden, np.random.default_rng(0))


def init_float32(n_in, n_hidden, rng):
    return {
        "W1": rng.standard_normal((n_in, n_hidden), dtype=np.float32) * np.float32(he(n_in)),
        "b1": np.full(n_hidden, 0.1),
        "W2": rng.standard_normal((n_hidden, 1), dtype=np.float32) * np.float32(he(n_hidden)),
        "b2": np.zeros(1),
    }


def init_uniform_two_over_root_n(n_in, n_hidden, rng):
    return {
        "W1": rng.uniform(-2 / np.sqrt(n_in), 2 / np.sqrt(n_in), (n_in, n_hidden)),
        "b1": np.full(n_hidden, 0.1),
        "W2": rng.uniform(-2 / np.sqrt(n_hidden), 2 / np.sqrt(n_hidden), (n_hidden, 1)),
        "b2": np.zeros(1),
    }


# correct styles
def init_uniform(n_in, n_hidden, rng):
    return {
        "W1": rng.uniform(-np.sqrt(6 / n_in), np.sqrt(6 / n_in), size=(n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.uniform(-np.sqrt(6 / n_hidden), np.sqrt(6 / n_hidden), size=(n_hidden, 1)),
        "b2": np.zeros(1),
    }


def init_w2_first(n_in, n_hidden, rng):
    w2 = rng.normal(0.0, np.sqrt(2 / n_hidden), size=(n_hidden, 1))
    w1 = rng.normal(0.0, np.sqrt(2 / n_in), size=(n_in, n_hidden))
    return {"b2": np.array([0.0]), "W2": w2, "b1": 0.01 * np.ones(n_hidden), "W1": w1}


def truncated_he(rng, shape, fan_in):
    """Keras-style truncated normal: redraw beyond 2 std, rescale so the std stays sqrt(2 / fan_in)."""
    w = rng.standard_normal(shape)
    outside = np.abs(w) > 2
    while outside.any():
        w[outside] = rng.standard_normal(outside.sum())
        outside = np.abs(w) > 2
    return w / 0.87962566103423978 * np.sqrt(2 / fan_in)


def init_truncated(n_in, n_hidden, rng):
    return {
        "W1": truncated_he(rng, (n_in, n_hidden), n_in),
        "b1": np.full(n_hidden, 0.1),
        "W2": truncated_he(rng, (n_hidden, 1), n_hidden),
        "b2": np.zeros(1),
    }


CASES["init_params"] = Cases(
    wrong={
        "W1_fan_out": he_init(lambda i, h: he(h), lambda i, h: he(h)),
        "W1_glorot_normal": he_init(lambda i, h: np.sqrt(2 / (i + h)), lambda i, h: he(h)),
        "W1_fan_average": he_init(lambda i, h: he((i + h) / 2), lambda i, h: he(h)),
        "lecun_normal": he_init(lambda i, h: np.sqrt(1 / i), lambda i, h: np.sqrt(1 / h)),
        "normal_std_two_over_root_n": he_init(lambda i, h: 2 / np.sqrt(i), lambda i, h: 2 / np.sqrt(h)),
        "uniform_two_over_root_n": init_uniform_two_over_root_n,
        "W2_uses_n_in": he_init(lambda i, h: he(i), lambda i, h: he(i)),
        "W2_uses_fan_out_1": he_init(lambda i, h: he(i), lambda i, h: he(1)),
        "unscaled_standard_normal": he_init(lambda i, h: 1.0, lambda i, h: 1.0),
        "W1_transposed": he_init(lambda i, h: he(i), lambda i, h: he(h), transpose_w1=True),
        "W2_flat": he_init(lambda i, h: he(i), lambda i, h: he(h), w2_flat=True),
        "b1_row_vector": he_init(
            lambda i, h: he(i), lambda i, h: he(h), b1=lambda h, rng: np.full((1, h), 0.1)
        ),
        "b1_random": he_init(lambda i, h: he(i), lambda i, h: he(h), b1=lambda h, rng: rng.normal(0, 0.1, h)),
        "b1_negative": he_init(lambda i, h: he(i), lambda i, h: he(h), b1=-0.1),
        "b1_large": he_init(lambda i, h: he(i), lambda i, h: he(h), b1=1.0),
        "b2_scalar": he_init(lambda i, h: he(i), lambda i, h: he(h), b2_shape=()),
        "global_np_random": init_global_random,
        "reseeded_inside": init_reseeded,
        "float32": init_float32,
        "returns_a_tuple": lambda n_in, n_hidden, rng: tuple(init_params(n_in, n_hidden, rng).values()),
        # tricks
        "trick: lying ndarray subclasses, unscaled weights": lambda n_in, n_hidden, rng: {
            key: _lying(value)
            for key, value in he_init(lambda i, h: 1.0, lambda i, h: 1.0)(n_in, n_hidden, rng).items()
        },
        "trick: right only on the first read, then fan-out": lambda n_in, n_hidden, rng: {
            key: RightOnce(right, wrong)
            for (key, right), wrong in zip(
                init_params(n_in, n_hidden, rng).items(),
                he_init(lambda i, h: he(h), lambda i, h: he(h))(n_in, n_hidden, rng).values(),
                strict=True,
            )
        },
    },
    right={
        "he_uniform_zero_bias": init_uniform,
        "w2_drawn_first_bias_0_01": init_w2_first,
        "truncated_normal_rescaled": init_truncated,
        "he_normal_zero_bias": he_init(lambda i, h: he(i), lambda i, h: he(h), b1=0.0),
    },
)


# --------------------------------------------------------------------------- forward


def forward_with(hidden=None, output=sigmoid, use_b1=True, use_b2=True, after_bias=False, flat=False):
    def fwd(X, params, epsilon=0.1):
        z1 = X @ params["W1"] + (params["b1"] if use_b1 and not after_bias else 0)
        a1 = leaky_relu(z1, epsilon) if hidden is None else hidden(z1, epsilon)
        if after_bias:
            a1 = a1 + params["b1"]
        z2 = a1 @ params["W2"] + (params["b2"] if use_b2 else 0)
        y_hat = output(z2)
        if flat:
            y_hat = y_hat.ravel()
        return y_hat, {"z1": z1, "a1": a1, "y_hat": y_hat}

    return fwd


def forward_stores_cache_in_params(X, params, epsilon=0.1):
    params["z1"] = X @ params["W1"] + params["b1"]
    a1 = leaky_relu(params["z1"], epsilon)
    y_hat = sigmoid(a1 @ params["W2"] + params["b2"])
    return y_hat, {"z1": params["z1"], "a1": a1, "y_hat": y_hat}


# correct styles
def forward_tuple_cache(X, params, epsilon=0.1):
    z1 = np.dot(X, params["W1"]) + params["b1"]
    a1 = np.maximum(epsilon * z1, z1)
    z2 = np.dot(a1, params["W2"]) + params["b2"]
    y_hat = 1.0 / (1.0 + np.exp(-z2))
    return y_hat, (z1, a1, z2, y_hat)


def forward_einsum(X, params, epsilon=0.1):
    z1 = np.einsum("mi,ih->mh", X, params["W1"]) + params["b1"][None, :]
    a1 = np.where(z1 >= 0, z1, epsilon * z1)
    return 1 / (1 + np.exp(-(np.einsum("mh,ho->mo", a1, params["W2"]) + params["b2"]))), None


CASES["forward"] = Cases(
    wrong={
        "no_hidden_activation": forward_with(hidden=lambda z, e: z),
        "relu_ignores_epsilon": forward_with(hidden=lambda z, e: np.maximum(z, 0)),
        "epsilon_hard_coded": forward_with(hidden=lambda z, e: leaky_relu(z, 0.1)),
        "sigmoid_hidden_layer": forward_with(hidden=lambda z, e: sigmoid(z)),
        "tanh_output": forward_with(output=np.tanh),
        "no_output_activation": forward_with(output=lambda z: z),
        "missing_b1": forward_with(use_b1=False),
        "missing_b2": forward_with(use_b2=False),
        "b1_added_after_activation": forward_with(after_bias=True),
        "y_hat_flattened": forward_with(flat=True),
        "stores_cache_in_params": forward_stores_cache_in_params,
        "returns_y_hat_only": lambda X, params, epsilon=0.1: forward(X, params, epsilon)[0],
        "returns_cache_then_y_hat": lambda X, params, epsilon=0.1: forward(X, params, epsilon)[::-1],
        # tricks
        "trick: lying ndarray subclass, b2 left out": lambda X, params, epsilon=0.1: (
            _lying(forward_with(use_b2=False)(X, params, epsilon)[0]),
            None,
        ),
        "trick: right only on the first read, then no sigmoid": lambda X, params, epsilon=0.1: (
            RightOnce(
                forward(X, params, epsilon)[0], forward_with(output=lambda z: z)(X, params, epsilon)[0]
            ),
            None,
        ),
    },
    right={
        "maximum_and_tuple_cache": forward_tuple_cache,
        "einsum_no_cache": forward_einsum,
    },
)


# --------------------------------------------------------------------------- bce_loss


def bce_clipped(delta):
    def loss(y_hat, y):
        p = np.clip(y_hat, delta, 1 - delta)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    return loss


def bce_sum(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bce_unclipped(y_hat, y):
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def bce_nan_to_num(y_hat, y):
    return float(np.nan_to_num(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))))


def bce_no_minus(y_hat, y):
    return -bce_clipped(1e-12)(y_hat, y)


def bce_labels_swapped(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean((1 - y) * np.log(p) + y * np.log(1 - p)))


def bce_clips_in_place(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12, out=y_hat)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bce_matrix_shaped(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return -(y.T @ np.log(p) + (1 - y).T @ np.log(1 - p)) / len(y)


# correct styles
def bce_add_delta(y_hat, y):
    return -np.mean(y * np.log(y_hat + 1e-9) + (1 - y) * np.log(1 - y_hat + 1e-9))


def bce_where(y_hat, y):
    p = np.clip(y_hat, 1e-15, 1 - 1e-15)
    return np.mean(np.where(y == 1, -np.log(p), -np.log(1 - p)))


def bce_two_means(y_hat, y):
    p = np.clip(y_hat, 1e-10, 1 - 1e-10)
    return -(np.mean(y * np.log(p)) + np.mean((1 - y) * np.log(1 - p)))


def bce_delta_inside_logs(y_hat, y):
    return -np.mean(y * np.log(y_hat + 1e-7) + (1 - y) * np.log(1 - y_hat + 1e-7))


CASES["bce_loss"] = Cases(
    wrong={
        "sum_not_mean": bce_sum,
        "no_clipping": bce_unclipped,
        "nan_to_num_of_infinite_loss": bce_nan_to_num,
        "clip_too_wide_1e-3": bce_clipped(1e-3),
        "clip_too_narrow_1e-17": bce_clipped(1e-17),
        "sign_flipped": bce_no_minus,
        "labels_swapped": bce_labels_swapped,
        "clips_y_hat_in_place": bce_clips_in_place,
        "returns_1x1_matrix": bce_matrix_shaped,
        "returns_one_element_list": lambda y_hat, y: [bce_loss(y_hat, y)],
        # tricks
        "trick: lying np.float64 subclass around the sum": lambda y_hat, y: LyingFloat64(bce_sum(y_hat, y)),
        "trick: lying float subclass around the unclipped loss": lambda y_hat, y: LyingFloat(
            bce_unclipped(y_hat, y)
        ),
        "trick: right only on the first read, then the sum": lambda y_hat, y: RightOnce(
            bce_loss(y_hat, y), bce_sum(y_hat, y)
        ),
    },
    right={
        "keras_delta_1e-7": bce_clipped(1e-7),
        "delta_1e-7_added_inside_logs": bce_delta_inside_logs,
        "delta_1e-15": bce_clipped(1e-15),
        "delta_added_inside_logs": bce_add_delta,
        "where_on_labels": bce_where,
        "two_means": bce_two_means,
    },
)


# --------------------------------------------------------------------------- backward


def backward_with(
    mask=lambda cache, epsilon: np.where(cache["z1"] > 0, 1.0, epsilon),
    scale=lambda m: 1 / m,
    sum_b1=lambda dz1: dz1.sum(axis=0),
    sum_b2=lambda dz2: dz2.sum(axis=0),
    output_factor=False,
    dw2_from="a1",
    sign=1.0,
):
    """A family of backward passes that differ from the correct one in one rule each."""

    def bwd(X, y, params, cache, epsilon=0.1):
        dz2 = sign * (cache["y_hat"] - y) * scale(X.shape[0])
        if output_factor:
            dz2 = dz2 * cache["y_hat"] * (1 - cache["y_hat"])
        dz1 = dz2 @ params["W2"].T
        if mask is not None:
            dz1 = dz1 * mask(cache, epsilon)
        return {"W1": X.T @ dz1, "b1": sum_b1(dz1), "W2": cache[dw2_from].T @ dz2, "b2": sum_b2(dz2)}

    return bwd


def backward_transposed_dw1(X, y, params, cache, epsilon=0.1):
    grads = backward(X, y, params, cache, epsilon)
    dz2 = (cache["y_hat"] - y) / len(X)
    dz1 = (dz2 @ params["W2"].T) * np.where(cache["z1"] > 0, 1.0, epsilon)
    grads["W1"] = dz1.T @ X
    return grads


def backward_mean_after_one_over_m(X, y, params, cache, epsilon=0.1):
    grads = backward(X, y, params, cache, epsilon)
    m = len(X)
    grads["b1"] = grads["b1"] / m
    grads["b2"] = grads["b2"] / m
    return grads


def backward_writes_grads_into_params(X, y, params, cache, epsilon=0.1):
    grads = backward(X, y, params, cache, epsilon)
    params.update({f"d{key}": value for key, value in grads.items()})
    return grads


# correct styles
def backward_recomputes(X, y, params, cache, epsilon=0.1):
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.maximum(epsilon * z1, z1)
    y_hat = 1 / (1 + np.exp(-(a1 @ params["W2"] + params["b2"])))
    dz2 = (y_hat - y) / X.shape[0]
    dz1 = np.outer(dz2, params["W2"]) * ((z1 > 0) + epsilon * (z1 <= 0))
    return {
        "W1": np.einsum("mi,mh->ih", X, dz1),
        "b1": np.ones(X.shape[0]) @ dz1,
        "W2": np.einsum("mh,mo->ho", a1, dz2),
        "b2": np.array([dz2.sum()]),
    }


def backward_tuple_cache(X, y, params, cache, epsilon=0.1):
    z1, a1, _, y_hat = cache
    m = len(y)
    dz2 = y_hat - y
    dz1 = dz2 @ params["W2"].T * np.where(z1 > 0, 1, epsilon)
    return {"W1": X.T @ dz1 / m, "b1": np.mean(dz1, axis=0), "W2": a1.T @ dz2 / m, "b2": np.mean(dz2, axis=0)}


def backward_mask_from_a1(X, y, params, cache, epsilon=0.1):
    """a1 has the sign of z1 when epsilon > 0, and a1 = 0 is a kink value when epsilon = 0: both allowed."""
    dz2 = (cache["y_hat"] - y) / len(X)
    dz1 = dz2 @ params["W2"].T * np.where(cache["a1"] > 0, 1.0, epsilon)
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": cache["a1"].T @ dz2, "b2": dz2.sum(0)}


CASES["backward"] = Cases(
    wrong={
        "missing_activation_derivative": backward_with(mask=None),
        "mask_a1_greater_than_epsilon": backward_with(mask=lambda c, e: np.where(c["a1"] > e, 1.0, e)),
        "mask_a1_at_least_zero": backward_with(mask=lambda c, e: np.where(c["a1"] >= 0, 1.0, e)),
        "question_edit_z1_greater_than_epsilon": backward_with(
            mask=lambda c, e: np.where(c["z1"] > e, 1.0, e)
        ),
        "question_np_all_scalar": backward_with(mask=lambda c, e: 1.0 if np.all(c["z1"] > e) else e),
        "relu_mask_ignores_epsilon": backward_with(mask=lambda c, e: (c["z1"] > 0).astype(float)),
        "epsilon_ignored": backward_with(mask=lambda c, e: np.where(c["z1"] > 0, 1.0, 0.1)),
        "activation_instead_of_derivative": backward_with(mask=lambda c, e: c["a1"]),
        "missing_one_over_m": backward_with(scale=lambda m: 1.0),
        "bias_grads_divided_twice": backward_mean_after_one_over_m,
        "b1_summed_over_units": backward_with(sum_b1=lambda d: d.sum(axis=1)),
        "b1_not_summed": backward_with(sum_b1=lambda d: d),
        "b1_keepdims": backward_with(sum_b1=lambda d: d.sum(axis=0, keepdims=True)),
        "b1_from_first_sample_only": backward_with(sum_b1=lambda d: d[0]),
        "b2_scalar": backward_with(sum_b2=lambda d: d.sum()),
        "b2_summed_over_wrong_axis": backward_with(sum_b2=lambda d: d.sum(axis=1)),
        "extra_sigmoid_derivative": backward_with(output_factor=True),
        "dW2_from_z1": backward_with(dw2_from="z1"),
        "sign_flipped": backward_with(sign=-1.0),
        "dW1_transposed": backward_transposed_dw1,
        "writes_grads_into_params": backward_writes_grads_into_params,
        # the cache is a dict with z1, a1 and y_hat (spec of forward and backward), not a tuple
        "reads_a_tuple_cache": backward_tuple_cache,
        "returns_a_tuple_of_grads": lambda X, y, params, cache, epsilon=0.1: tuple(
            backward(X, y, params, cache, epsilon).values()
        ),
        # tricks
        "trick: lying ndarray subclasses, 1/m missing": lambda X, y, params, cache, epsilon=0.1: {
            key: _lying(value)
            for key, value in backward_with(scale=lambda m: 1.0)(X, y, params, cache, epsilon).items()
        },
        "trick: right only on the first read, then the sign flipped": lambda X, y, params, cache, epsilon=0.1: {
            key: RightOnce(value, -value) for key, value in backward(X, y, params, cache, epsilon).items()
        },
    },
    right={
        "recomputes_without_cache": backward_recomputes,
        "mask_from_a1_with_threshold_zero": backward_mask_from_a1,
    },
)


def test_backward_reading_its_own_forwards_extra_keys_passes() -> None:
    """Keys of the cache beyond z1, a1 and y_hat come from the student's forward, and are kept."""

    def forward_with_z2(X, params, epsilon=0.1):
        z1 = X @ params["W1"] + params["b1"]
        a1 = leaky_relu(z1, epsilon)
        z2 = a1 @ params["W2"] + params["b2"]
        return sigmoid(z2), {"z1": z1, "a1": a1, "z2": z2, "y_hat": sigmoid(z2), "m": len(X)}

    def backward_with_z2(X, y, params, cache, epsilon=0.1):
        dz2 = (sigmoid(cache["z2"]) - y) / cache["m"]
        dz1 = dz2 @ params["W2"].T * np.where(cache["z1"] > 0, 1.0, epsilon)
        return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": cache["a1"].T @ dz2, "b2": dz2.sum(0)}

    assert passes(AID, "test_backward", forward=forward_with_z2, backward=backward_with_z2)


def test_a_tuple_cache_is_outside_the_spec() -> None:
    """The spec asks for a dict cache: backward is called with one, whatever the student's forward returns."""
    assert passes(AID, "test_forward", forward=forward_tuple_cache)  # forward's cache is not graded itself
    assert not passes(AID, "test_backward", forward=forward_tuple_cache, backward=backward_tuple_cache)


@pytest.mark.parametrize(("label", "wrong_forward"), list(CASES["forward"].wrong.items()))
def test_a_wrong_forward_is_not_charged_to_backward(label: str, wrong_forward) -> None:
    """The hidden tests call backward with a cache whose z1, a1 and y_hat are correct, whatever forward did."""
    assert not passes(AID, "test_forward", forward=wrong_forward)
    assert passes(AID, "test_backward", forward=wrong_forward), (
        f"a wrong forward ({label}) fails test_backward"
    )


def test_a_wrong_forward_would_have_been_charged_to_backward_without_the_givens() -> None:
    """The forward above are really wrong for backward too: with their own caches, backward's gradients differ."""
    X = np.array([[-1.2, -0.8, 0.9], [0.2, -1.2, -0.2], [-0.1, -1.0, 0.7]])
    y = np.array([[1.0], [0.0], [1.0]])
    params = {
        "W1": np.array([[0.9, -0.4], [-0.4, -1.0], [-0.4, 0.8]]),
        "b1": np.array([0.16, -0.28]),
        "W2": np.array([[-1.2], [0.5]]),
        "b2": np.array([0.2]),
    }
    right = backward(X, y, params, forward(X, params)[1])
    wrong = backward(X, y, params, forward_with(use_b1=False)(X, params)[1])
    assert not all(np.allclose(right[key], wrong[key]) for key in right)


def test_a_wrong_forward_and_derivative_are_not_charged_to_a_backward_that_calls_them_by_name() -> None:
    namespace = dict(solution_namespace(AID))
    namespace["forward"] = forward_with(use_b2=False)
    namespace["leaky_relu_prime"] = prime_question_edit
    namespace["backward"] = _rebound(backward, namespace)
    verdict = _verdict(namespace, "test_backward")
    assert verdict.passed, verdict.message
    assert namespace["leaky_relu_prime"] is prime_question_edit


def test_backward_calling_a_broken_leaky_relu_prime_is_graded_on_its_own() -> None:
    """The hidden part gives backward a correct derivative, so a mistake in Exercise 1 is not charged twice."""

    def backward_by_name(X, y, params, cache, epsilon=0.1):
        namespace = backward_by_name.namespace
        dz2 = (cache["y_hat"] - y) / len(X)
        dz1 = dz2 @ params["W2"].T * namespace["leaky_relu_prime"](cache["z1"], epsilon)
        return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": cache["a1"].T @ dz2, "b2": dz2.sum(0)}

    namespace = dict(solution_namespace(AID))
    namespace["leaky_relu_prime"] = prime_question_edit
    namespace["backward"] = backward_by_name
    backward_by_name.namespace = namespace
    exec(compile(cells.autograded_cell_sources(AID)["test_backward"], "<test_backward>", "exec"), namespace)
    assert namespace["leaky_relu_prime"] is prime_question_edit


# --------------------------------------------------------------------------- sgd_step


def sgd_in_place(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]
    return params


def sgd_shallow_copy(params, grads, lr):
    new = dict(params)
    for key in new:
        new[key] -= lr * grads[key]
    return new


def sgd_copy_copy(params, grads, lr):
    new = copy.copy(params)
    for key in ("W1", "b1", "W2", "b2"):
        new[key] -= lr * grads[key]
    return new


def sgd_rebinds_keys(params, grads, lr):
    for key in params:
        params[key] = params[key] - lr * grads[key]
    return params


# correct styles
def sgd_deepcopy(params, grads, lr):
    new = copy.deepcopy(params)
    for key in new:
        new[key] -= lr * grads[key]
    return new


def sgd_loop(params, grads, lr):
    new = {}
    for key, value in params.items():
        new[key] = np.subtract(value, lr * grads[key])
    return new


CASES["sgd_step"] = Cases(
    wrong={
        "updates_in_place": sgd_in_place,
        "shallow_dict_copy_then_minus_equals": sgd_shallow_copy,
        "copy_copy_then_minus_equals": sgd_copy_copy,
        "plus_instead_of_minus": lambda p, g, lr: {k: p[k] + lr * g[k] for k in p},
        "ignores_lr": lambda p, g, lr: {k: p[k] - g[k] for k in p},
        "weights_only": lambda p, g, lr: {k: (p[k] - lr * g[k] if k.startswith("W") else p[k]) for k in p},
        "drops_biases": lambda p, g, lr: {k: p[k] - lr * g[k] for k in ("W1", "W2")},
        "returns_old_params": lambda p, g, lr: p,
        "b2_made_scalar": lambda p, g, lr: {
            k: p[k] - lr * g[k] if k != "b2" else float(p[k][0] - lr * g[k][0]) for k in p
        },
        "rebinds_the_keys_of_the_given_dict": sgd_rebinds_keys,
        # tricks
        "trick: lying ndarray subclasses, plus instead of minus": lambda p, g, lr: {
            k: _lying(p[k] + lr * g[k]) for k in p
        },
        "trick: right only on the first read, then the old params": lambda p, g, lr: {
            k: RightOnce(p[k] - lr * g[k], p[k]) for k in p
        },
    },
    right={
        "deepcopy_then_minus_equals": sgd_deepcopy,
        "loop_with_subtract": sgd_loop,
        "items_comprehension": lambda p, g, lr: {k: v - lr * g[k] for k, v in p.items()},
    },
)


# --------------------------------------------------------------------------- train


def train_with(
    start=lambda X, params: params,
    record_after=False,
    pass_epsilon=True,
    fixed_lr=None,
    n_steps=lambda epochs: epochs,
    final_loss=False,
    step=sgd_step,
    every=1,
):
    def trn(X, y, params, lr, epochs, epsilon=0.1):
        params = start(X, params)
        eps = epsilon if pass_epsilon else 0.1
        rate = lr if fixed_lr is None else fixed_lr
        losses = []
        for epoch in range(n_steps(epochs)):
            y_hat, cache = forward(X, params, eps)
            if not record_after and epoch % every == 0:
                losses.append(bce_loss(y_hat, y))
            params = step(params, backward(X, y, params, cache, eps), rate)
            if record_after:
                losses.append(bce_loss(forward(X, params, eps)[0], y))
        if final_loss:
            losses.append(bce_loss(forward(X, params, eps)[0], y))
        return params, losses

    return trn


def train_forgets_to_reassign(X, y, params, lr, epochs, epsilon=0.1):
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params, epsilon)
        losses.append(bce_loss(y_hat, y))
        sgd_step(params, backward(X, y, params, cache, epsilon), lr)
    return params, losses


# correct styles
def train_array_losses_deepcopy(X, y, params, lr, epochs, epsilon=0.1):
    params = copy.deepcopy(params)
    losses = np.zeros(epochs)
    epoch = 0
    while epoch < epochs:
        z1 = X @ params["W1"] + params["b1"]
        a1 = np.maximum(epsilon * z1, z1)
        y_hat = 1 / (1 + np.exp(-(a1 @ params["W2"] + params["b2"])))
        losses[epoch] = -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
        grads = backward(X, y, params, {"z1": z1, "a1": a1, "y_hat": y_hat}, epsilon)
        for key in params:
            params[key] -= lr * grads[key]
        epoch += 1
    return params, losses


def train_own_loss(X, y, params, lr, epochs, epsilon=0.1):
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params, epsilon)
        losses.append(bce_delta_inside_logs(y_hat, y))
        params = sgd_step(params, backward(X, y, params, cache, epsilon), lr)
    return params, losses


CASES["train"] = Cases(
    wrong={
        "re_initialises_params": train_with(
            start=lambda X, p: init_params(X.shape[1], p["W1"].shape[1], np.random.default_rng(0))
        ),
        "loss_recorded_after_update": train_with(record_after=True),
        "extra_final_loss": train_with(final_loss=True),
        "one_epoch_short": train_with(n_steps=lambda e: e - 1),
        "loss_every_tenth_epoch": train_with(every=10),
        "epsilon_not_passed_on": train_with(pass_epsilon=False),
        "lr_ignored": train_with(fixed_lr=0.1),
        "updates_given_params_in_place": train_with(step=sgd_in_place),
        "forgets_to_reassign_params": train_forgets_to_reassign,
        "returns_losses_then_params": lambda X, y, params, lr, epochs, epsilon=0.1: train_with()(
            X, y, params, lr, epochs, epsilon
        )[::-1],
        # tricks
        "trick: lying ndarray subclasses, loss recorded after the update": lambda *args: (
            lambda trained: ({k: _lying(v) for k, v in trained[0].items()}, _lying(trained[1]))
        )(train_with(record_after=True)(*args)),
        "trick: right only on the first read, then one epoch short": lambda X, y, params, lr, epochs, epsilon=0.1: (
            (
                lambda right, wrong: (
                    {k: RightOnce(right[0][k], wrong[0][k]) for k in right[0]},
                    RightOnce(right[1], wrong[1]),
                )
            )(
                train_with()(X, y, params, lr, epochs, epsilon),
                train_with(n_steps=lambda e: e - 1, final_loss=True)(X, y, params, lr, epochs, epsilon),
            )
        ),
    },
    right={
        "loss_with_delta_1e-7_inside_logs": train_own_loss,
        "array_losses_inline_forward_in_place_on_deepcopy": train_array_losses_deepcopy,
        "keyword_arguments": lambda X, y, params, lr, epochs, epsilon=0.1: train_with()(
            X, y, params, lr=lr, epochs=epochs, epsilon=epsilon
        ),
    },
)


OTHER_EXERCISES = ("leaky_relu_prime", "forward", "bce_loss", "backward", "sgd_step")


@pytest.mark.parametrize(
    ("name", "label"), [(name, label) for name in OTHER_EXERCISES for label in CASES[name].wrong]
)
def test_other_exercises_mistakes_are_not_charged_to_train(name: str, label: str) -> None:
    """The hidden tests swap correct givens in for the functions train calls by name."""
    namespace = dict(solution_namespace(AID))
    namespace[name] = CASES[name].wrong[label]
    namespace["train"] = _rebound(SOLUTION["train"], namespace)
    verdict = _verdict(namespace, "test_train")
    assert verdict.passed, f"a wrong {name} ({label}) fails test_train: {verdict.message}"
    assert namespace[name] is CASES[name].wrong[label]  # the givens are gone after the cell


def test_other_exercises_mistakes_would_have_been_charged_to_train_without_the_givens() -> None:
    namespace = dict(solution_namespace(AID))
    namespace["forward"] = forward_with(use_b1=False)
    train = _rebound(SOLUTION["train"], namespace)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    start = init_params(2, 3, np.random.default_rng(1))
    assert not np.allclose(train(X, y, start, 1.0, 3)[1], SOLUTION["train"](X, y, start, 1.0, 3)[1])


# --------------------------------------------------------------------------- the judges never crash

ODD_VALUES = {
    "None": None,
    "a string": "0.5",
    "a dict without the keys": {"w": 1.0},
    "a ragged list": [[1.0], [1.0, 2.0]],
    "an object": object(),
    "a pair of strings": ("a", "b"),
    "an empty tuple": (),
    "a 0-d array": np.array(0.5),
    "a complex array": np.ones((5, 1), dtype=complex),
    "a nested dict": {"W1": {"W1": 1.0}, "b1": [1, [2]], "W2": None, "b2": "x"},
}


def _raises(*args, **kwargs):
    raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("kind", [*ODD_VALUES, "raises"])
def test_judges_answer_odd_values_with_a_message(name: str, kind: str) -> None:
    """Whatever comes back, the judge fails it with its own message: it neither crashes nor cries tampering."""
    impl = _raises if kind == "raises" else (lambda *args, **kwargs: ODD_VALUES[kind])
    with pytest.raises(AssertionError) as failure:
        run_test_cell(AID, f"test_{name}", **{name: impl})
    message = str(failure.value)
    assert "could not use what your code returned" not in message, message
    assert "cannot be trusted" not in message, message
    assert name in message, message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "label"), [(name, label) for name in CASES for label in CASES[name].wrong])
def test_every_wrong_implementation_gets_a_message_that_names_its_function(name: str, label: str) -> None:
    with pytest.raises(AssertionError) as failure:
        run_test_cell(AID, f"test_{name}", **{name: CASES[name].wrong[label]})
    message = str(failure.value)
    assert "could not use what your code returned" not in message, message
    assert "cannot be trusted" not in message, message
    assert message.startswith(name) or f" {name}" in message or f"{name}(" in message, message


# --------------------------------------------------------------------------- the visible parts

# Mistakes the specs warn about that the visible part of the test cell catches already, at no cost.
VISIBLE_CATCHES = {
    "init_params": ["global_np_random", "reseeded_inside"],
    "forward": [
        "no_hidden_activation",
        "relu_ignores_epsilon",
        "epsilon_hard_coded",
        "sigmoid_hidden_layer",
        "missing_b1",
        "missing_b2",
        "b1_added_after_activation",
        "tanh_output",
        "no_output_activation",
    ],
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("name", "label"), [(name, label) for name, labels in VISIBLE_CATCHES.items() for label in labels]
)
def test_the_visible_part_catches_the_mistakes_its_spec_warns_about(name: str, label: str) -> None:
    with pytest.raises(AssertionError):
        run_visible_part(AID, f"test_{name}", **{name: CASES[name].wrong[label]})


@pytest.mark.parametrize("name", list(VISIBLE_CATCHES))
def test_the_visible_part_passes_the_correct_styles(name: str) -> None:
    for right in CASES[name].right.values():
        run_visible_part(AID, f"test_{name}", **{name: right})


# --------------------------------------------------------------------------- cost and stubs


@pytest.mark.parametrize("name", list(CASES))
def test_test_cells_are_cheap(name: str) -> None:
    start = time.perf_counter()
    run_test_cell(AID, f"test_{name}")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("name", list(CASES))
def test_a_stub_fails_every_cell(name: str) -> None:
    def stub(*args, **kwargs):
        raise NotImplementedError

    assert not passes(AID, f"test_{name}", **{name: stub})
