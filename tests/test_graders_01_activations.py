"""Graders' tests for 01_activations: each test cell rejects plausible wrong answers and accepts correct styles."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from cells import passes

AID = "01_activations"


def _sig(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _stable_scalar_sigmoid(v):
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    e = math.exp(v)
    return e / (1 + e)


# ---------------------------------------------------------------- sigmoid
def sigmoid_exp_ratio(x):
    x = np.asarray(x, dtype=float)
    return np.exp(x) / (1 + np.exp(x))  # inf / inf = nan at x = 1000


def sigmoid_math_exp(x):
    return np.vectorize(lambda v: 1 / (1 + math.exp(-v)), otypes=[float])(x)  # OverflowError at -1000


def sigmoid_zeros_like(x):
    x = np.asarray(x)
    out = np.zeros_like(x)  # integer input stays integer
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    out[~pos] = np.exp(x[~pos]) / (1 + np.exp(x[~pos]))
    return out


def sigmoid_in_place(x):
    x = np.asarray(x, dtype=float)
    x *= -1  # modifies a float argument
    return 1 / (1 + np.exp(x))


def sigmoid_returns_argument(x):
    out = np.asarray(x, dtype=float)
    out[...] = 1 / (1 + np.exp(-out))
    return out


def sigmoid_wrong_sign(x):
    return 1 / (1 + np.exp(np.asarray(x, dtype=float)))


def sigmoid_tanh_without_half(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float)))


def sigmoid_flat_loop(x):
    return np.array([_stable_scalar_sigmoid(v) for v in np.ravel(x)])  # loses the shape


def sigmoid_list_loop(x):
    return np.array([_stable_scalar_sigmoid(v) for v in x])  # fails on 0-d input and 2-d rows


def sigmoid_mean(x):
    return float(np.mean(_sig(x)))


SIGMOID_WRONG = [
    pytest.param(sigmoid_exp_ratio, id="exp-ratio-nan-at-1000"),
    pytest.param(sigmoid_math_exp, id="math.exp-overflow-error"),
    pytest.param(sigmoid_zeros_like, id="zeros_like-truncates-ints"),
    pytest.param(sigmoid_in_place, id="modifies-argument"),
    pytest.param(sigmoid_returns_argument, id="returns-argument"),
    pytest.param(sigmoid_wrong_sign, id="exp(+x)"),
    pytest.param(sigmoid_tanh_without_half, id="tanh-without-x/2"),
    pytest.param(sigmoid_flat_loop, id="loop-loses-shape"),
    pytest.param(sigmoid_list_loop, id="loop-over-first-axis"),
    pytest.param(sigmoid_mean, id="reduces-to-scalar"),
]


def sigmoid_naive(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))  # overflow warning at -1000, value 0: allowed


def sigmoid_tanh(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float) / 2))


def sigmoid_logaddexp(x):
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))


def sigmoid_masks(x):
    x = np.array(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out


def sigmoid_vectorized_loop(x):
    return np.vectorize(_stable_scalar_sigmoid, otypes=[float])(x)


def sigmoid_float32_passthrough(x):
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return (1 / (1 + np.exp(-x.astype(dtype)))).astype(dtype)


SIGMOID_RIGHT = [
    pytest.param(sigmoid_naive, id="naive-with-warnings"),
    pytest.param(sigmoid_tanh, id="tanh-form"),
    pytest.param(sigmoid_logaddexp, id="logaddexp"),
    pytest.param(sigmoid_masks, id="masks-on-new-array"),
    pytest.param(sigmoid_vectorized_loop, id="scalar-loop"),
    pytest.param(sigmoid_float32_passthrough, id="keeps-float32"),
]


@pytest.mark.parametrize("impl", SIGMOID_WRONG)
def test_sigmoid_rejects(impl) -> None:
    assert not passes(AID, "test_sigmoid", sigmoid=impl)


@pytest.mark.parametrize("impl", SIGMOID_RIGHT)
def test_sigmoid_accepts(impl) -> None:
    assert passes(AID, "test_sigmoid", sigmoid=impl)


# ---------------------------------------------------------------- sigmoid_grad
def sigmoid_grad_one_minus_x(x):
    return _sig(x) * (1 - np.asarray(x, dtype=float))


def sigmoid_grad_on_output(x):
    x = np.asarray(x, dtype=float)
    return x * (1 - x)


def sigmoid_grad_exp_form(x):
    e = np.exp(-np.asarray(x, dtype=float))
    return e / (1 + e) ** 2  # inf / inf = nan at -1000


def sigmoid_grad_plus(x):
    return _sig(x) * (1 + _sig(x))


def sigmoid_grad_is_sigmoid(x):
    return _sig(x)


def sigmoid_grad_squared(x):
    return _sig(x) ** 2


SIGMOID_GRAD_WRONG = [
    pytest.param(sigmoid_grad_one_minus_x, id="sigmoid(x)*(1-x)"),
    pytest.param(sigmoid_grad_on_output, id="x*(1-x)"),
    pytest.param(sigmoid_grad_exp_form, id="exp-form-nan-at-minus-1000"),
    pytest.param(sigmoid_grad_plus, id="s*(1+s)"),
    pytest.param(sigmoid_grad_is_sigmoid, id="returns-sigmoid"),
    pytest.param(sigmoid_grad_squared, id="s**2"),
]


def sigmoid_grad_product(x):
    s = _sig(x)
    return s * (1 - s)


def sigmoid_grad_symmetric_exp(x):
    e = np.exp(-np.abs(np.asarray(x, dtype=float)))
    return e / (1 + e) ** 2


def sigmoid_grad_tanh(x):
    return 0.25 * (1 - np.tanh(np.asarray(x, dtype=float) / 2) ** 2)


def sigmoid_grad_cosh_like(x):
    x = np.asarray(x, dtype=float)
    return 1 / (2 + np.exp(x) + np.exp(-x))  # 1 / inf = 0 at +-1000, with a warning


def sigmoid_grad_naive(x):
    s = 1 / (1 + np.exp(-np.asarray(x, dtype=float)))
    return s * (1 - s)


SIGMOID_GRAD_RIGHT = [
    pytest.param(sigmoid_grad_product, id="s*(1-s)"),
    pytest.param(sigmoid_grad_symmetric_exp, id="exp(-|x|)-form"),
    pytest.param(sigmoid_grad_tanh, id="tanh-form"),
    pytest.param(sigmoid_grad_cosh_like, id="1/(2+e^x+e^-x)"),
    pytest.param(sigmoid_grad_naive, id="naive-sigmoid-with-warnings"),
]


@pytest.mark.parametrize("impl", SIGMOID_GRAD_WRONG)
def test_sigmoid_grad_rejects(impl) -> None:
    assert not passes(AID, "test_sigmoid_grad", sigmoid_grad=impl)


@pytest.mark.parametrize("impl", SIGMOID_GRAD_RIGHT)
def test_sigmoid_grad_accepts(impl) -> None:
    assert passes(AID, "test_sigmoid_grad", sigmoid_grad=impl)


# ---------------------------------------------------------------- tanh_grad
def tanh_grad_no_square(x):
    return 1 - np.tanh(np.asarray(x, dtype=float))


def tanh_grad_on_output(x):
    x = np.asarray(x, dtype=float)
    return 1 - x**2


def tanh_grad_sigmoid_pattern(x):
    t = np.tanh(np.asarray(x, dtype=float))
    return t * (1 - t)


def tanh_grad_sech(x):
    return 1 / np.cosh(np.asarray(x, dtype=float))


def tanh_grad_is_sigmoid_grad(x):
    s = _sig(x)
    return s * (1 - s)


def tanh_grad_empty_like(x):
    x = np.asarray(x)
    out = np.empty_like(x)  # integer input stays integer
    out[...] = 1 - np.tanh(x) ** 2
    return out


TANH_GRAD_WRONG = [
    pytest.param(tanh_grad_no_square, id="1-tanh(x)"),
    pytest.param(tanh_grad_on_output, id="1-x**2"),
    pytest.param(tanh_grad_sigmoid_pattern, id="t*(1-t)"),
    pytest.param(tanh_grad_sech, id="sech-not-squared"),
    pytest.param(tanh_grad_is_sigmoid_grad, id="sigmoid-derivative"),
    pytest.param(tanh_grad_empty_like, id="empty_like-truncates-ints"),
]


def tanh_grad_square(x):
    return 1 - np.tanh(np.asarray(x, dtype=float)) ** 2


def tanh_grad_sech_squared(x):
    return 1 / np.cosh(np.asarray(x, dtype=float)) ** 2  # cosh overflows to inf at 1000: 1/inf = 0


def tanh_grad_via_sigmoid(x):
    s = _sig(2 * np.asarray(x, dtype=float))
    return 4 * s * (1 - s)


def tanh_grad_factored(x):
    t = np.tanh(np.asarray(x, dtype=float))
    return (1 - t) * (1 + t)


def tanh_grad_math_loop(x):
    return np.vectorize(lambda v: 1 - math.tanh(v) ** 2, otypes=[float])(x)


TANH_GRAD_RIGHT = [
    pytest.param(tanh_grad_square, id="1-tanh**2"),
    pytest.param(tanh_grad_sech_squared, id="sech**2-with-warnings"),
    pytest.param(tanh_grad_via_sigmoid, id="4*sigmoid'(2x)"),
    pytest.param(tanh_grad_factored, id="(1-t)(1+t)"),
    pytest.param(tanh_grad_math_loop, id="math-loop"),
]


@pytest.mark.parametrize("impl", TANH_GRAD_WRONG)
def test_tanh_grad_rejects(impl) -> None:
    assert not passes(AID, "test_tanh_grad", tanh_grad=impl)


@pytest.mark.parametrize("impl", TANH_GRAD_RIGHT)
def test_tanh_grad_accepts(impl) -> None:
    assert passes(AID, "test_tanh_grad", tanh_grad=impl)


# ---------------------------------------------------------------- collapse_linear
def collapse_reverse_order(weights, biases):
    W = weights[-1]
    for W_i in reversed(weights[:-1]):
        W = W @ W_i  # W_L @ ... @ W_1
    b = biases[0]
    for W_i, b_i in zip(weights[1:], biases[1:], strict=True):
        b = b @ W_i + b_i
    return W, b


def collapse_transposed(weights, biases):
    W, b = collapse_right(weights, biases)
    return W.T, b


def collapse_sum_of_biases(weights, biases):
    W = functools.reduce(np.matmul, weights)
    return W, sum(biases)


def collapse_last_bias(weights, biases):
    return functools.reduce(np.matmul, weights), biases[-1]


def collapse_first_bias_only_propagated(weights, biases):
    W = functools.reduce(np.matmul, weights)
    b = biases[0]
    for W_i in weights[1:]:
        b = b @ W_i
    if len(biases) > 1:
        b = b + biases[-1]  # the middle biases are forgotten
    return W, b


def collapse_pops(weights, biases):
    W, b = weights.pop(0), biases.pop(0)
    while weights:
        W_i, b_i = weights.pop(0), biases.pop(0)
        W, b = W @ W_i, b @ W_i + b_i
    return W, b


def collapse_reverses_list(weights, biases):
    weights.reverse()  # to multiply from the right; forgets to restore
    W = functools.reduce(lambda acc, W_i: W_i @ acc, weights)
    weights_in_order = weights[::-1]
    b = biases[0]
    for W_i, b_i in zip(weights_in_order[1:], biases[1:], strict=True):
        b = b @ W_i + b_i
    return W, b


def collapse_row_bias(weights, biases):
    W, b = collapse_right(weights, biases)
    return W, b.reshape(1, -1)


def collapse_bias_left_multiply(weights, biases):
    W = functools.reduce(np.matmul, weights)
    b = biases[0]
    for W_i, b_i in zip(weights[1:], biases[1:], strict=True):
        b = W_i @ b + b_i if W_i.shape[0] == W_i.shape[1] else b @ W_i + b_i
    return W, b


COLLAPSE_WRONG = [
    pytest.param(collapse_reverse_order, id="reverse-matrix-order"),
    pytest.param(collapse_transposed, id="returns-W-transposed"),
    pytest.param(collapse_sum_of_biases, id="sum-of-biases"),
    pytest.param(collapse_last_bias, id="last-bias-only"),
    pytest.param(collapse_first_bias_only_propagated, id="middle-biases-forgotten"),
    pytest.param(collapse_pops, id="pops-from-input-lists"),
    pytest.param(collapse_reverses_list, id="reverses-input-list"),
    pytest.param(collapse_row_bias, id="bias-shape-(1,n)"),
    pytest.param(collapse_bias_left_multiply, id="W@b-instead-of-b@W"),
]


def collapse_right(weights, biases):
    W, b = weights[0], biases[0]
    for W_i, b_i in zip(weights[1:], biases[1:], strict=True):
        W, b = W @ W_i, b @ W_i + b_i
    return W, b


def collapse_reduce(weights, biases):
    W = functools.reduce(np.matmul, weights)
    b = functools.reduce(
        lambda acc, layer: acc @ layer[0] + layer[1], zip(weights[1:], biases[1:], strict=True), biases[0]
    )
    return W, b


def collapse_probe(weights, biases):
    def forward(h):
        for W_i, b_i in zip(weights, biases, strict=True):
            h = h @ W_i + b_i
        return h

    n_in = weights[0].shape[0]
    b = forward(np.zeros(n_in))
    return forward(np.eye(n_in)) - b, b


def collapse_homogeneous(weights, biases):
    def augment(W_i, b_i):
        top = np.hstack([W_i, np.zeros((W_i.shape[0], 1))])
        bottom = np.append(b_i, 1.0)[None, :]
        return np.vstack([top, bottom])

    M = functools.reduce(np.matmul, [augment(W_i, b_i) for W_i, b_i in zip(weights, biases, strict=True)])
    return M[:-1, :-1], M[-1, :-1]


def collapse_zero_start(weights, biases):
    W = np.eye(weights[0].shape[0])
    b = np.zeros(weights[0].shape[0])
    for W_i, b_i in zip(weights, biases, strict=True):
        W = W @ W_i
        b = b @ W_i + b_i
    return W, b


def collapse_multi_dot(weights, biases):
    W = weights[0].copy() if len(weights) == 1 else np.linalg.multi_dot(weights)
    b = biases[-1].astype(float)
    for i in range(len(biases) - 1):
        tail = weights[i + 1 :]
        b = b + (biases[i] @ (tail[0] if len(tail) == 1 else np.linalg.multi_dot(tail)))
    return W, b


COLLAPSE_RIGHT = [
    pytest.param(collapse_right, id="loop"),
    pytest.param(collapse_reduce, id="functools.reduce"),
    pytest.param(collapse_probe, id="probe-with-identity"),
    pytest.param(collapse_homogeneous, id="homogeneous-coordinates"),
    pytest.param(collapse_zero_start, id="start-from-identity"),
    pytest.param(collapse_multi_dot, id="multi_dot-sum-of-terms"),
]


@pytest.mark.parametrize("impl", COLLAPSE_WRONG)
def test_collapse_linear_rejects(impl) -> None:
    assert not passes(AID, "test_collapse_linear", collapse_linear=impl)


@pytest.mark.parametrize("impl", COLLAPSE_RIGHT)
def test_collapse_linear_accepts(impl) -> None:
    assert passes(AID, "test_collapse_linear", collapse_linear=impl)


def test_the_solution_passes_every_test_cell() -> None:
    for grade_id in ("test_collapse_linear", "test_sigmoid", "test_sigmoid_grad", "test_tanh_grad"):
        assert passes(AID, grade_id), grade_id
