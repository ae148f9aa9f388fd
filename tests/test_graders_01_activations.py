"""Graders' tests for 01_activations: each test cell rejects plausible wrong answers and accepts correct styles."""

from __future__ import annotations

import functools
import math

import numpy as np
from graders_common import Cases, GradedFunctionTests, stable_sigmoid

AID = "01_activations"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


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
    return float(np.mean(stable_sigmoid(x)))


# correct styles
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


CASES["sigmoid"] = Cases(
    wrong={
        "exp-ratio-nan-at-1000": sigmoid_exp_ratio,
        "math.exp-overflow-error": sigmoid_math_exp,
        "zeros_like-truncates-ints": sigmoid_zeros_like,
        "modifies-argument": sigmoid_in_place,
        "returns-argument": sigmoid_returns_argument,
        "exp(+x)": sigmoid_wrong_sign,
        "tanh-without-x/2": sigmoid_tanh_without_half,
        "loop-loses-shape": sigmoid_flat_loop,
        "loop-over-first-axis": sigmoid_list_loop,
        "reduces-to-scalar": sigmoid_mean,
    },
    right={
        "naive-with-warnings": sigmoid_naive,
        "tanh-form": sigmoid_tanh,
        "logaddexp": sigmoid_logaddexp,
        "masks-on-new-array": sigmoid_masks,
        "scalar-loop": sigmoid_vectorized_loop,
        "keeps-float32": sigmoid_float32_passthrough,
    },
)


# ---------------------------------------------------------------- sigmoid_grad
def sigmoid_grad_one_minus_x(x):
    return stable_sigmoid(x) * (1 - np.asarray(x, dtype=float))


def sigmoid_grad_on_output(x):
    x = np.asarray(x, dtype=float)
    return x * (1 - x)


def sigmoid_grad_exp_form(x):
    e = np.exp(-np.asarray(x, dtype=float))
    return e / (1 + e) ** 2  # inf / inf = nan at -1000


def sigmoid_grad_plus(x):
    return stable_sigmoid(x) * (1 + stable_sigmoid(x))


def sigmoid_grad_is_sigmoid(x):
    return stable_sigmoid(x)


def sigmoid_grad_squared(x):
    return stable_sigmoid(x) ** 2


# correct styles
def sigmoid_grad_product(x):
    s = stable_sigmoid(x)
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


CASES["sigmoid_grad"] = Cases(
    wrong={
        "sigmoid(x)*(1-x)": sigmoid_grad_one_minus_x,
        "x*(1-x)": sigmoid_grad_on_output,
        "exp-form-nan-at-minus-1000": sigmoid_grad_exp_form,
        "s*(1+s)": sigmoid_grad_plus,
        "returns-sigmoid": sigmoid_grad_is_sigmoid,
        "s**2": sigmoid_grad_squared,
    },
    right={
        "s*(1-s)": sigmoid_grad_product,
        "exp(-|x|)-form": sigmoid_grad_symmetric_exp,
        "tanh-form": sigmoid_grad_tanh,
        "1/(2+e^x+e^-x)": sigmoid_grad_cosh_like,
        "naive-sigmoid-with-warnings": sigmoid_grad_naive,
    },
)


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
    s = stable_sigmoid(x)
    return s * (1 - s)


def tanh_grad_empty_like(x):
    x = np.asarray(x)
    out = np.empty_like(x)  # integer input stays integer
    out[...] = 1 - np.tanh(x) ** 2
    return out


# correct styles
def tanh_grad_square(x):
    return 1 - np.tanh(np.asarray(x, dtype=float)) ** 2


def tanh_grad_sech_squared(x):
    return 1 / np.cosh(np.asarray(x, dtype=float)) ** 2  # cosh overflows to inf at 1000: 1/inf = 0


def tanh_grad_via_sigmoid(x):
    s = stable_sigmoid(2 * np.asarray(x, dtype=float))
    return 4 * s * (1 - s)


def tanh_grad_factored(x):
    t = np.tanh(np.asarray(x, dtype=float))
    return (1 - t) * (1 + t)


def tanh_grad_math_loop(x):
    return np.vectorize(lambda v: 1 - math.tanh(v) ** 2, otypes=[float])(x)


CASES["tanh_grad"] = Cases(
    wrong={
        "1-tanh(x)": tanh_grad_no_square,
        "1-x**2": tanh_grad_on_output,
        "t*(1-t)": tanh_grad_sigmoid_pattern,
        "sech-not-squared": tanh_grad_sech,
        "sigmoid-derivative": tanh_grad_is_sigmoid_grad,
        "empty_like-truncates-ints": tanh_grad_empty_like,
    },
    right={
        "1-tanh**2": tanh_grad_square,
        "sech**2-with-warnings": tanh_grad_sech_squared,
        "4*sigmoid'(2x)": tanh_grad_via_sigmoid,
        "(1-t)(1+t)": tanh_grad_factored,
        "math-loop": tanh_grad_math_loop,
    },
)


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


# correct styles
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


CASES["collapse_linear"] = Cases(
    wrong={
        "reverse-matrix-order": collapse_reverse_order,
        "returns-W-transposed": collapse_transposed,
        "sum-of-biases": collapse_sum_of_biases,
        "last-bias-only": collapse_last_bias,
        "middle-biases-forgotten": collapse_first_bias_only_propagated,
        "pops-from-input-lists": collapse_pops,
        "reverses-input-list": collapse_reverses_list,
        "bias-shape-(1,n)": collapse_row_bias,
        "W@b-instead-of-b@W": collapse_bias_left_multiply,
    },
    right={
        "loop": collapse_right,
        "functools.reduce": collapse_reduce,
        "probe-with-identity": collapse_probe,
        "homogeneous-coordinates": collapse_homogeneous,
        "start-from-identity": collapse_zero_start,
        "multi_dot-sum-of-terms": collapse_multi_dot,
    },
)
