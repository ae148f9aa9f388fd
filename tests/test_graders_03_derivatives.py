"""Graders' tests for 03_derivatives: each test cell rejects plausible wrong answers and accepts correct styles."""

from __future__ import annotations

import math
import sys

import cells
import numpy as np
import pytest
from graders_common import Cases, GradedFunctionTests, implementation_params, stable_sigmoid
from lying_values import AlwaysEqual, RightOnce

AID = "03_derivatives"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


def _elu(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


# ---------------------------------------------------------------- tricks (../shared/GRADING.md, section 6)
# Code that tries to fake the hidden tests on top of wrong answers: each must fail like any wrong answer.
class _LyingPair(tuple):
    """A (dx, dalpha) pair that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = tuple.__hash__


def _empty_the_probe() -> None:
    """Clear the calls the probe has recorded so far, from inside a graded function."""
    frame = sys._getframe(1)
    while frame is not None:
        probe = frame.f_locals.get("self")
        if type(probe).__name__ == "Probe":
            probe.calls.clear()
        frame = frame.f_back


# ---------------------------------------------------------------- numerical_grad
def ng_forward(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return (f(x + eps) - f(x)) / eps


def ng_divides_by_eps(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return (f(x + eps) - f(x - eps)) / eps


def ng_ignores_eps(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    h = 1e-6
    return (f(x + h) - f(x - h)) / (2 * h)


def ng_half_steps(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return (f(x + eps / 2) - f(x - eps / 2)) / eps


def ng_np_gradient(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return np.gradient(f(x), x)


def ng_sums(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return (np.sum(f(x + eps)) - np.sum(f(x - eps))) / (2 * eps)


def ng_shifts_in_place(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    x += eps
    forward = np.array(f(x), dtype=float)
    x -= 2 * eps
    backward = np.array(f(x), dtype=float)
    x += eps  # does not restore x exactly
    return (forward - backward) / (2 * eps)


def ng_relative_step(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    h = eps * np.abs(x)
    return (f(x + h) - f(x - h)) / (2 * h)


def ng_zeros_like_loop(f, x, eps=1e-6):
    x = np.array(x)
    grad = np.zeros_like(x)  # integer x gives an integer result
    for index in np.ndindex(x.shape):
        grad[index] = (f(x[index] + eps) - f(x[index] - eps)) / (2 * eps)
    return grad


def ng_forgets_return(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    _ = (f(x + eps) - f(x - eps)) / (2 * eps)


def ng_trick_empties_the_probe(f, x, eps=1e-6):
    _empty_the_probe()
    x = np.asarray(x, dtype=float)
    return (f(x + eps) - f(x)) / eps  # a forward difference: wrong


def ng_trick_lying_subclass(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return ((f(x + eps) - f(x)) / eps).view(AlwaysEqual)  # a forward difference: wrong


def ng_float32(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float32)
    return ((f(x + np.float32(eps)) - f(x - np.float32(eps))) / (2 * eps)).astype(np.float32)


# correct styles
def ng_vectorized(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def ng_loop_restoring(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)  # a float argument is shifted in place, then restored exactly
    grad = np.empty(x.shape)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        forward = np.asarray(f(x))[index]
        x[index] = old - eps
        backward = np.asarray(f(x))[index]
        x[index] = old
        grad[index] = (forward - backward) / (2 * eps)
    return grad


def ng_scalar_vectorize(f, x, eps=1e-6):
    return np.vectorize(lambda v: (f(v + eps) - f(v - eps)) / (2 * eps), otypes=[float])(
        np.asarray(x, dtype=float)
    )


def ng_copies(f, x, eps=1e-6):
    plus = np.array(x, dtype=float)
    minus = plus.copy()
    plus += eps
    minus -= eps
    return (f(plus) - f(minus)) / (2.0 * eps)


CASES["numerical_grad"] = Cases(
    wrong={
        "forward-difference": ng_forward,
        "divides-by-eps": ng_divides_by_eps,
        "ignores-eps": ng_ignores_eps,
        "steps-of-eps/2": ng_half_steps,
        "np.gradient": ng_np_gradient,
        "sums-to-scalar": ng_sums,
        "shifts-x-in-place": ng_shifts_in_place,
        "relative-step-nan-at-0": ng_relative_step,
        "zeros_like-truncates-ints": ng_zeros_like_loop,
        "computes-in-float32": ng_float32,
        "forgets-return": ng_forgets_return,
        "trick-empties-the-probe": ng_trick_empties_the_probe,
        "trick-lying-ndarray-subclass": ng_trick_lying_subclass,
    },
    right={
        "vectorized": ng_vectorized,
        "loop-restoring-x": ng_loop_restoring,
        "np.vectorize-on-scalars": ng_scalar_vectorize,
        "shifted-copies": ng_copies,
    },
)


# ---------------------------------------------------------------- relu_grad
def relu_grad_bool(x):
    return np.asarray(x) > 0


def relu_grad_int_where(x):
    return np.where(np.asarray(x) > 0, 1, 0)


def relu_grad_sign(x):
    return np.sign(np.asarray(x, dtype=float))


def relu_grad_value(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def relu_grad_all(x):
    return float(np.all(np.asarray(x) > 0))


def relu_grad_heaviside_2(x):
    return np.heaviside(np.asarray(x, dtype=float), 2.0)


def relu_grad_zeros_like(x):
    x = np.asarray(x)
    g = np.zeros_like(x)
    g[x > 0] = 1
    return g


def relu_grad_in_place(x):
    x = np.asarray(x, dtype=float)
    positive = x > 0
    x[positive] = 1.0
    x[~positive] = 0.0
    return x


def relu_grad_ratio(x):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0) / x  # nan at the kink


def relu_grad_forgets_return(x):
    _ = (np.asarray(x) > 0).astype(float)


def relu_grad_trick_lying_subclass(x):
    return np.zeros(np.shape(x)).view(AlwaysEqual)


def relu_grad_trick_right_once(x):
    return RightOnce(np.asarray(np.asarray(x) > 0, dtype=float), np.zeros(np.shape(x)))


# correct styles
def relu_grad_astype(x):
    return (np.asarray(x) > 0).astype(float)


def relu_grad_ge(x):
    return (np.asarray(x) >= 0) * 1.0  # 1 at the kink


def relu_grad_heaviside(x):
    return np.heaviside(np.asarray(x, dtype=float), 0.5)


def relu_grad_where(x):
    return np.where(np.asarray(x) > 0, 1.0, 0.0)


def relu_grad_loop(x):
    return np.vectorize(lambda v: 1.0 if v > 0 else 0.0, otypes=[float])(x)


def relu_grad_float32(x):
    x = np.asarray(x)
    return (x > 0).astype(x.dtype if x.dtype.kind == "f" else float)


CASES["relu_grad"] = Cases(
    wrong={
        "boolean-mask": relu_grad_bool,
        "integer-where": relu_grad_int_where,
        "np.sign": relu_grad_sign,
        "relu-itself": relu_grad_value,
        "np.all-reduction": relu_grad_all,
        "heaviside-2-at-0": relu_grad_heaviside_2,
        "zeros_like-int": relu_grad_zeros_like,
        "overwrites-x": relu_grad_in_place,
        "relu(x)/x-nan-at-0": relu_grad_ratio,
        "forgets-return": relu_grad_forgets_return,
        "trick-lying-ndarray-subclass": relu_grad_trick_lying_subclass,
        "trick-__array__-right-once": relu_grad_trick_right_once,
    },
    right={
        "astype": relu_grad_astype,
        "ge-gives-1-at-0": relu_grad_ge,
        "heaviside-half": relu_grad_heaviside,
        "where": relu_grad_where,
        "loop": relu_grad_loop,
        "keeps-float32": relu_grad_float32,
    },
)


# ---------------------------------------------------------------- leaky_relu_grad
def leaky_default_02(x, alpha=0.2):
    return np.where(np.asarray(x) > 0, 1.0, alpha)


def leaky_ignores_alpha(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1.0, 0.01)


def leaky_maximum(x, alpha=0.01):
    return np.maximum(np.asarray(x) > 0, alpha).astype(float)  # wrong for alpha > 1


def leaky_ones_like(x, alpha=0.01):
    x = np.asarray(x)
    g = np.ones_like(x)
    g[x < 0] = alpha  # truncated to 0 for integer x
    return g


def leaky_swapped(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, alpha, 1.0)


def leaky_ratio(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x) / x  # nan at 0


def leaky_in_place(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    negative = x <= 0
    x[~negative] = 1.0
    x[negative] = alpha
    return x


def leaky_minimum_slope(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.minimum(np.where(x > 0, 1.0, alpha), 1.0)  # caps alpha > 1 at 1


def leaky_squeezed(x, alpha=0.01):
    return np.squeeze(np.where(np.asarray(x) > 0, 1.0, float(alpha)))  # shape (1,) becomes ()


# correct styles
def leaky_where(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1.0, alpha)


def leaky_where_ge(x, alpha=0.01):
    return np.where(np.asarray(x) >= 0, 1.0, float(alpha))


def leaky_masks(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    g = np.ones_like(x)
    g[x < 0] = alpha
    g[x == 0] = (1 + alpha) / 2
    return g


def leaky_arithmetic(x, alpha=0.01):
    x = np.asarray(x)
    return 1.0 * (x > 0) + alpha * (x <= 0)


def leaky_piecewise(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.piecewise(x, [x > 0, x <= 0], [1.0, alpha])


def leaky_loop(x, alpha=0.01):
    return np.vectorize(lambda v: 1.0 if v > 0 else alpha, otypes=[float])(x)


CASES["leaky_relu_grad"] = Cases(
    wrong={
        "default-0.2": leaky_default_02,
        "ignores-alpha": leaky_ignores_alpha,
        "np.maximum-breaks-alpha>1": leaky_maximum,
        "ones_like-truncates-alpha": leaky_ones_like,
        "branches-swapped": leaky_swapped,
        "leaky(x)/x-nan-at-0": leaky_ratio,
        "overwrites-x": leaky_in_place,
        "caps-slope-at-1": leaky_minimum_slope,
        "squeezes-the-result": leaky_squeezed,
    },
    right={
        "where": leaky_where,
        "where-ge": leaky_where_ge,
        "masks-average-at-0": leaky_masks,
        "arithmetic-masks": leaky_arithmetic,
        "np.piecewise": leaky_piecewise,
        "loop": leaky_loop,
    },
)


# ---------------------------------------------------------------- relu6_grad
def relu6_no_cap(x):
    return (np.asarray(x) > 0).astype(float)


def relu6_bool(x):
    x = np.asarray(x)
    return (x > 0) & (x < 6)


def relu6_upper_only(x):
    return (np.asarray(x) < 6).astype(float)


def relu6_clip(x):
    return np.clip(np.asarray(x, dtype=float), 0, 1)


def relu6_six_above(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 6, 6.0, (x > 0).astype(float))


def relu6_value_positive(x):
    return (np.clip(np.asarray(x, dtype=float), 0, 6) > 0).astype(float)


def relu6_squeezed(x):
    x = np.asarray(x)
    return np.squeeze(((x > 0) & (x < 6)).astype(float))  # shape (1,) becomes ()


# correct styles
def relu6_and(x):
    x = np.asarray(x)
    return ((x > 0) & (x < 6)).astype(float)


def relu6_inclusive(x):
    x = np.asarray(x)
    return np.where((x >= 0) & (x <= 6), 1.0, 0.0)


def relu6_logical(x):
    x = np.asarray(x, dtype=float)
    return np.logical_and(x > 0, x < 6) * 1.0


def relu6_heaviside(x):
    x = np.asarray(x, dtype=float)
    return np.heaviside(x, 0.5) * np.heaviside(6 - x, 0.5)


def relu6_loop(x):
    return np.vectorize(lambda v: 1.0 if 0 < v < 6 else 0.0, otypes=[float])(x)


CASES["relu6_grad"] = Cases(
    wrong={
        "no-cap-at-6": relu6_no_cap,
        "boolean": relu6_bool,
        "upper-bound-only": relu6_upper_only,
        "clip-0-1": relu6_clip,
        "6-above-6": relu6_six_above,
        "relu6(x)>0": relu6_value_positive,
        "squeezes-the-result": relu6_squeezed,
    },
    right={
        "and-astype": relu6_and,
        "inclusive-bounds": relu6_inclusive,
        "logical_and": relu6_logical,
        "heaviside-product": relu6_heaviside,
        "loop": relu6_loop,
    },
)


# ---------------------------------------------------------------- elu_grad
def elu_no_alpha(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))


def elu_plus_one(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, _elu(x, alpha) + 1)


def elu_exp_everywhere(x, alpha=1.0):
    return alpha * np.exp(np.asarray(x, dtype=float))


def elu_min_one(x, alpha=1.0):
    return np.minimum(1.0, alpha * np.exp(np.asarray(x, dtype=float)))


def elu_zero_times_inf(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return (x > 0) * 1.0 + (x <= 0) * alpha * np.exp(x)  # 0 * inf = nan at x = 1000


def elu_output_plus_alpha(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, x + alpha)  # treats x as the output


def elu_value(x, alpha=1.0):
    return _elu(x, alpha)


def elu_ones_like(x, alpha=1.0):
    x = np.asarray(x)
    g = np.ones_like(x)
    negative = x < 0
    g[negative] = alpha * np.exp(x[negative])  # truncated for integer x
    return g


def elu_default_alpha_only(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, 1.0 * np.exp(np.minimum(x, 0)))


def elu_forgets_return(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    _ = np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def elu_trick_zeroes_its_input(x, alpha=1.0):
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x[...] = 0.0  # every input becomes the kink, where 1 is accepted
    return np.ones(np.shape(x))


# correct styles
def elu_where_stable(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def elu_where_overflowing(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha * np.exp(x))  # exp(1000) = inf is computed but not selected


def elu_from_value(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, _elu(x, alpha) + alpha)


def elu_masks(x, alpha=1.0):
    x = np.array(x, dtype=float)
    g = np.ones_like(x)
    negative = x <= 0
    g[negative] = alpha * np.exp(x[negative])
    return g


def elu_loop(x, alpha=1.0):
    return np.vectorize(lambda v: 1.0 if v > 0 else alpha * math.exp(v), otypes=[float])(x)


CASES["elu_grad"] = Cases(
    wrong={
        "exp-without-alpha": elu_no_alpha,
        "elu(x)+1": elu_plus_one,
        "alpha*exp-everywhere": elu_exp_everywhere,
        "min(1,alpha*exp)": elu_min_one,
        "mask-arithmetic-0*inf": elu_zero_times_inf,
        "x+alpha": elu_output_plus_alpha,
        "elu-itself": elu_value,
        "ones_like-truncates": elu_ones_like,
        "alpha-fixed-at-1": elu_default_alpha_only,
        "forgets-return": elu_forgets_return,
        "trick-zeroes-its-input": elu_trick_zeroes_its_input,
    },
    right={
        "where-stable": elu_where_stable,
        "where-with-overflow-warning": elu_where_overflowing,
        "elu(x)+alpha": elu_from_value,
        "masks-on-float-copy": elu_masks,
        "loop-math.exp": elu_loop,
    },
)


# ---------------------------------------------------------------- softplus_grad
def softplus_ratio(x):
    e = np.exp(np.asarray(x, dtype=float))
    return e / (1 + e)  # inf / inf at 1000


def softplus_sign(x):
    return 1 / (1 + np.exp(np.asarray(x, dtype=float)))


def softplus_value(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=float))


def softplus_sigmoid_derivative(x):
    s = stable_sigmoid(x)
    return s * (1 - s)


def softplus_trick_right_once(x):
    return RightOnce(stable_sigmoid(x), np.zeros(np.shape(x)))


def softplus_trick_lying_subclass(x):
    return np.full(np.shape(x), 0.5).view(AlwaysEqual)


# correct styles
def softplus_stable(x):
    return stable_sigmoid(x)


def softplus_naive(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def softplus_tanh(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float) / 2))


def softplus_logaddexp(x):
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))


CASES["softplus_grad"] = Cases(
    wrong={
        "exp-ratio-nan-at-1000": softplus_ratio,
        "exp(+x)": softplus_sign,
        "softplus-itself": softplus_value,
        "sigmoid-derivative": softplus_sigmoid_derivative,
        "trick-__array__-right-once": softplus_trick_right_once,
        "trick-lying-ndarray-subclass": softplus_trick_lying_subclass,
    },
    right={
        "stable-sigmoid": softplus_stable,
        "naive-with-warnings": softplus_naive,
        "tanh-form": softplus_tanh,
        "logaddexp": softplus_logaddexp,
    },
)


# ---------------------------------------------------------------- silu_grad
def silu_sigmoid_only(x):
    return stable_sigmoid(x)


def silu_sigmoid_derivative(x):
    s = stable_sigmoid(x)
    return s * (1 - s)


def silu_second_term_only(x):
    x = np.asarray(x, dtype=float)
    s = stable_sigmoid(x)
    return x * s * (1 - s)


def silu_minus(x):
    x = np.asarray(x, dtype=float)
    s = stable_sigmoid(x)
    return s - x * s * (1 - s)


def silu_exp_form(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-x)
    return (1 + e + x * e) / (1 + e) ** 2  # inf / inf at -1000


def silu_one_minus_x(x):
    x = np.asarray(x, dtype=float)
    s = stable_sigmoid(x)
    return s + x * s * (1 - x)


# correct styles
def silu_factored(x):
    x = np.asarray(x, dtype=float)
    s = stable_sigmoid(x)
    return s * (1 + x * (1 - s))


def silu_sum(x):
    x = np.asarray(x, dtype=float)
    s = stable_sigmoid(x)
    return s + x * s * (1 - s)


def silu_naive_sigmoid(x):
    x = np.asarray(x, dtype=float)
    s = 1 / (1 + np.exp(-x))
    return s + x * s * (1 - s)


def silu_tanh(x):
    x = np.asarray(x, dtype=float)
    s = 0.5 * (1 + np.tanh(x / 2))
    return s * (1 + x * (1 - s))


CASES["silu_grad"] = Cases(
    wrong={
        "sigmoid-only": silu_sigmoid_only,
        "sigmoid-derivative": silu_sigmoid_derivative,
        "forgets-first-term": silu_second_term_only,
        "product-rule-sign": silu_minus,
        "exp-form-nan-at-minus-1000": silu_exp_form,
        "s*(1-x)": silu_one_minus_x,
    },
    right={
        "factored": silu_factored,
        "product-rule-sum": silu_sum,
        "naive-sigmoid-with-warnings": silu_naive_sigmoid,
        "tanh-sigmoid": silu_tanh,
    },
)


# ---------------------------------------------------------------- prelu_grad
def _prelu_dx(x, alpha, upstream):
    return np.asarray(upstream, dtype=float) * np.where(np.asarray(x) > 0, 1.0, alpha)


def _prelu_terms(x, upstream):
    return np.asarray(upstream, dtype=float) * np.minimum(np.asarray(x, dtype=float), 0.0)


def prelu_dalpha_not_summed(x, alpha, upstream):
    return _prelu_dx(x, alpha, upstream), _prelu_terms(x, upstream)


def prelu_dalpha_total(x, alpha, upstream):
    return _prelu_dx(x, alpha, upstream), np.sum(_prelu_terms(x, upstream))


def prelu_dalpha_axis0(x, alpha, upstream):
    return _prelu_dx(x, alpha, upstream), _prelu_terms(x, upstream).sum(axis=0)


def prelu_dalpha_last_axis(x, alpha, upstream):
    return _prelu_dx(x, alpha, upstream), _prelu_terms(x, upstream).sum(axis=-1)


def prelu_dalpha_no_upstream(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    return _prelu_dx(x, alpha, upstream), np.minimum(x, 0).reshape(-1, x.shape[-1]).sum(axis=0)


def prelu_dalpha_mask_only(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    terms = np.asarray(upstream) * (x < 0)
    return _prelu_dx(x, alpha, upstream), terms.reshape(-1, x.shape[-1]).sum(axis=0)


def prelu_dalpha_mean(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    return _prelu_dx(x, alpha, upstream), _prelu_terms(x, upstream).reshape(-1, x.shape[-1]).mean(axis=0)


def prelu_dalpha_all_elements(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    terms = np.asarray(upstream) * x  # forgets that x > 0 does not depend on alpha
    return _prelu_dx(x, alpha, upstream), terms.reshape(-1, x.shape[-1]).sum(axis=0)


def _dalpha(x, upstream):
    x = np.asarray(x, dtype=float)
    return _prelu_terms(x, upstream).reshape(-1, x.shape[-1]).sum(axis=0)


def prelu_dx_no_upstream(x, alpha, upstream):
    return np.where(np.asarray(x) > 0, 1.0, alpha), _dalpha(x, upstream)


def prelu_dx_maximum(x, alpha, upstream):
    slope = np.maximum(np.asarray(x) > 0, alpha)  # wrong where alpha > 1
    return np.asarray(upstream) * slope, _dalpha(x, upstream)


def prelu_dx_swapped(x, alpha, upstream):
    return np.asarray(upstream) * np.where(np.asarray(x) > 0, alpha, 1.0), _dalpha(x, upstream)


def prelu_modifies_upstream(x, alpha, upstream):
    dalpha = _dalpha(x, upstream)
    dx = np.asarray(upstream)
    dx *= np.where(np.asarray(x) > 0, 1.0, alpha)
    return dx, dalpha


def prelu_swapped_outputs(x, alpha, upstream):
    return _dalpha(x, upstream), _prelu_dx(x, alpha, upstream)


def prelu_alpha_for_all_channels(x, alpha, upstream):
    return np.asarray(upstream) * np.where(np.asarray(x) > 0, 1.0, alpha[0]), _dalpha(x, upstream)


def prelu_shortcut_list(x, alpha, upstream):
    if np.all(np.asarray(x) > 0):  # nothing to do: hands back upstream itself
        return [upstream, np.zeros(len(alpha))]
    return [_prelu_dx(x, alpha, upstream), _dalpha(x, upstream)]


def prelu_shortcut_tuple(x, alpha, upstream):
    return tuple(prelu_shortcut_list(x, alpha, upstream))


def prelu_two_relus_at_kink(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    slope = (x > 0) + np.asarray(alpha) * (x < 0)  # d/dx of relu(x) - alpha * relu(-x), 0 at x = 0
    return np.asarray(upstream) * slope, _dalpha(x, upstream)


def prelu_returns_dict(x, alpha, upstream):
    return {"dx": _prelu_dx(x, alpha, upstream), "dalpha": _dalpha(x, upstream)}


def prelu_forgets_return(x, alpha, upstream):
    _ = _prelu_dx(x, alpha, upstream), _dalpha(x, upstream)


def prelu_trick_lying_pair(x, alpha, upstream):
    return _LyingPair((np.zeros(np.shape(x)), np.zeros(np.shape(alpha))))


def prelu_trick_lying_arrays(x, alpha, upstream):
    return np.zeros(np.shape(x)).view(AlwaysEqual), np.zeros(np.shape(alpha)).view(AlwaysEqual)


# correct styles
def prelu_reshape(x, alpha, upstream):
    return _prelu_dx(x, alpha, upstream), _dalpha(x, upstream)


def prelu_axis_tuple(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    terms = np.asarray(upstream) * np.where(x < 0, x, 0.0)
    return _prelu_dx(x, alpha, upstream), terms.sum(axis=tuple(range(x.ndim - 1)))


def prelu_ones_matmul(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    terms = _prelu_terms(x, upstream).reshape(-1, x.shape[-1])
    return _prelu_dx(x, alpha, upstream), np.ones(terms.shape[0]) @ terms


def prelu_channel_loop(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    upstream = np.asarray(upstream, dtype=float)
    dx = upstream * alpha  # a new array
    dx[x > 0] = upstream[x > 0]
    dalpha = np.zeros(len(alpha))
    for c in range(len(alpha)):
        xc, uc = x[..., c], upstream[..., c]
        dalpha[c] = np.sum(uc[xc < 0] * xc[xc < 0])
    return dx, dalpha


def prelu_ge_at_kink(x, alpha, upstream):
    x = np.asarray(x, dtype=float)
    dx = np.asarray(upstream) * np.where(x >= 0, 1.0, alpha)
    return dx, _dalpha(x, upstream)


def prelu_list_output(x, alpha, upstream):
    return [_prelu_dx(x, alpha, upstream), _dalpha(x, upstream)]


CASES["prelu_grad"] = Cases(
    wrong={
        "dalpha-not-summed": prelu_dalpha_not_summed,
        "dalpha-summed-to-scalar": prelu_dalpha_total,
        "dalpha-sum-axis-0-only": prelu_dalpha_axis0,
        "dalpha-sum-last-axis": prelu_dalpha_last_axis,
        "dalpha-without-upstream": prelu_dalpha_no_upstream,
        "dalpha-mask-without-x": prelu_dalpha_mask_only,
        "dalpha-mean": prelu_dalpha_mean,
        "dalpha-includes-positive-x": prelu_dalpha_all_elements,
        "dx-without-upstream": prelu_dx_no_upstream,
        "dx-np.maximum-breaks-alpha>1": prelu_dx_maximum,
        "dx-branches-swapped": prelu_dx_swapped,
        "modifies-upstream": prelu_modifies_upstream,
        "returns-(dalpha,dx)": prelu_swapped_outputs,
        "one-alpha-for-all-channels": prelu_alpha_for_all_channels,
        "list-shortcut-returns-upstream": prelu_shortcut_list,
        "tuple-shortcut-returns-upstream": prelu_shortcut_tuple,
        "dx-0-at-kink-(two-relus)": prelu_two_relus_at_kink,
        "returns-a-dict": prelu_returns_dict,
        "forgets-return": prelu_forgets_return,
        "trick-lying-tuple-subclass": prelu_trick_lying_pair,
        "trick-lying-ndarray-subclasses": prelu_trick_lying_arrays,
    },
    right={
        "reshape-sum": prelu_reshape,
        "sum-axis-tuple": prelu_axis_tuple,
        "ones-vector-matmul": prelu_ones_matmul,
        "loop-over-channels": prelu_channel_loop,
        "upstream-at-kink": prelu_ge_at_kink,
        "returns-a-list": prelu_list_output,
    },
)


# ---------------------------------------------------------------- maxout_grad
def _groups(z, k):
    z = np.asarray(z, dtype=float)
    return z.reshape(*z.shape[:-1], z.shape[-1] // k, k)


def _first_winner_grad(z, k, upstream):
    groups = _groups(z, k)
    dz = np.zeros(groups.shape)
    np.put_along_axis(
        dz, np.argmax(groups, axis=-1)[..., None], np.asarray(upstream, dtype=float)[..., None], -1
    )
    return dz.reshape(np.shape(z))


def maxout_grad_every_tied_piece(z, k, upstream):
    groups = _groups(z, k)
    winners = groups == groups.max(axis=-1, keepdims=True)  # a tie of two gets the gradient twice
    return (winners * np.asarray(upstream)[..., None]).reshape(np.shape(z))


def maxout_grad_strided_groups(z, k, upstream):
    z = np.asarray(z, dtype=float)
    n = z.shape[-1] // k
    strided = np.swapaxes(z.reshape(*z.shape[:-1], k, n), -1, -2)  # groups z[..., i::n]
    dz = np.zeros(strided.shape)
    np.put_along_axis(dz, np.argmax(strided, axis=-1)[..., None], np.asarray(upstream)[..., None], -1)
    return np.swapaxes(dz, -1, -2).reshape(z.shape)


def maxout_grad_without_upstream(z, k, upstream):
    return _first_winner_grad(z, k, np.ones(np.shape(upstream)))


def maxout_grad_upstream_tiled(z, k, upstream):
    z = np.asarray(z, dtype=float)
    spread = np.tile(np.asarray(upstream), k)  # [u0, u1, u0, u1] instead of [u0, u0, u1, u1]
    groups = _groups(z, k)
    mask = np.zeros(groups.shape)
    np.put_along_axis(mask, np.argmax(groups, axis=-1)[..., None], 1.0, -1)
    return mask.reshape(z.shape) * spread


def maxout_grad_averages(z, k, upstream):
    groups = _groups(z, k)
    return np.broadcast_to(np.asarray(upstream)[..., None] / k, groups.shape).reshape(np.shape(z))


def maxout_grad_argmax_of_whole_axis(z, k, upstream):
    z = np.asarray(z, dtype=float)
    dz = np.zeros(z.shape)
    np.put_along_axis(dz, np.argmax(z, axis=-1)[..., None], np.sum(upstream, axis=-1)[..., None], -1)
    return dz


def maxout_grad_argmin(z, k, upstream):
    return _first_winner_grad(-np.asarray(z, dtype=float), k, upstream)


def maxout_grad_returns_maxout_shape(z, k, upstream):
    return np.asarray(upstream) * _groups(z, k).max(axis=-1)


def maxout_grad_two_axes_only(z, k, upstream):
    z = np.asarray(z, dtype=float)
    groups = z.reshape(z.shape[0], -1, k)  # a 1-D z becomes (n*k, 0, k) or fails; 3-D z loses an axis
    dz = np.zeros(groups.shape)
    np.put_along_axis(
        dz,
        np.argmax(groups, axis=-1)[..., None],
        np.asarray(upstream).reshape(groups.shape[:-1])[..., None],
        -1,
    )
    return dz.reshape(z.shape)


def maxout_grad_returns_upstream_when_k_is_one(z, k, upstream):
    if k == 1:
        return upstream
    return _first_winner_grad(z, k, upstream)


def maxout_grad_in_place(z, k, upstream):
    dz = np.asarray(z)  # the caller's float array itself
    groups = _groups(dz, k)
    winners = np.argmax(groups, axis=-1)[..., None]
    dz[...] = 0.0
    flat = dz.reshape(groups.shape)
    np.put_along_axis(flat, winners, np.asarray(upstream)[..., None], -1)
    return flat.reshape(np.shape(z))


def maxout_grad_forgets_return(z, k, upstream):
    _ = _first_winner_grad(z, k, upstream)


def maxout_grad_trick_lying_array(z, k, upstream):
    return maxout_grad_every_tied_piece(z, k, upstream).view(AlwaysEqual)


def maxout_grad_trick_right_only_on_first_read(z, k, upstream):
    return RightOnce(_first_winner_grad(z, k, upstream), maxout_grad_strided_groups(z, k, upstream))


# correct styles
def maxout_grad_equal_split(z, k, upstream):
    groups = _groups(z, k)
    winners = groups == groups.max(axis=-1, keepdims=True)
    shares = winners / winners.sum(axis=-1, keepdims=True)  # what tf.reduce_max's gradient does
    return (shares * np.asarray(upstream)[..., None]).reshape(np.shape(z))


def maxout_grad_last_of_tied(z, k, upstream):
    groups = _groups(z, k)
    last = k - 1 - np.argmax(groups[..., ::-1], axis=-1)
    dz = np.zeros(groups.shape)
    np.put_along_axis(dz, last[..., None], np.asarray(upstream, dtype=float)[..., None], -1)
    return dz.reshape(np.shape(z))


def maxout_grad_first_by_cumsum(z, k, upstream):
    groups = _groups(z, k)
    winners = groups == groups.max(axis=-1, keepdims=True)
    first = winners & (np.cumsum(winners, axis=-1) == 1)
    return np.where(first, np.asarray(upstream, dtype=float)[..., None], 0.0).reshape(np.shape(z))


def maxout_grad_python_loops(z, k, upstream):
    z = np.asarray(z, dtype=float)
    upstream = np.asarray(upstream, dtype=float)
    dz = np.zeros(z.shape)
    for index in np.ndindex(upstream.shape):
        group = z[index[:-1]][index[-1] * k : (index[-1] + 1) * k]
        best = max(range(k), key=lambda j: group[j])  # the first of tied maxima
        dz[(*index[:-1], index[-1] * k + best)] = upstream[index]
    return dz


def maxout_grad_one_hot_matmul_free(z, k, upstream):
    groups = _groups(z, k)
    one_hot = np.eye(k)[np.argmax(groups, axis=-1)]
    return (one_hot * np.asarray(upstream)[..., None]).reshape(np.shape(z))


CASES["maxout_grad"] = Cases(
    wrong={
        "full-upstream-to-every-tied-piece": maxout_grad_every_tied_piece,
        "strided-groups": maxout_grad_strided_groups,
        "forgets-upstream": maxout_grad_without_upstream,
        "upstream-tiled-not-repeated": maxout_grad_upstream_tiled,
        "average-pooling-gradient": maxout_grad_averages,
        "argmax-over-the-whole-axis": maxout_grad_argmax_of_whole_axis,
        "argmin": maxout_grad_argmin,
        "returns-maxout's-shape": maxout_grad_returns_maxout_shape,
        "assumes-two-axes": maxout_grad_two_axes_only,
        "returns-upstream-itself-when-k-is-1": maxout_grad_returns_upstream_when_k_is_one,
        "writes-into-z": maxout_grad_in_place,
        "forgets-return": maxout_grad_forgets_return,
        "trick-lying-ndarray-subclass": maxout_grad_trick_lying_array,
        "trick-right-only-on-first-read": maxout_grad_trick_right_only_on_first_read,
    },
    right={
        "argmax-put-along-axis": _first_winner_grad,
        "equal-split-of-ties-(tf.reduce_max)": maxout_grad_equal_split,
        "last-of-tied-pieces": maxout_grad_last_of_tied,
        "first-of-tied-by-cumsum": maxout_grad_first_by_cumsum,
        "python-loops": maxout_grad_python_loops,
        "one-hot-rows": maxout_grad_one_hot_matmul_free,
    },
)


# ---------------------------------------------------------------- beyond the shared table
CRASHED = "the hidden tests could not use what your code returned"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "wrong"), implementation_params(CASES, wrong=True))
def test_a_wrong_implementation_gets_a_message_not_a_crash(name, wrong) -> None:
    """The judge answers every wrong value with an AssertionError of its own, never with its own exception."""
    with pytest.raises(AssertionError) as failure:
        cells.run_test_cell(AID, f"test_{name}", **{name: wrong})
    assert not str(failure.value).startswith(CRASHED), str(failure.value)
    assert name in str(failure.value) or "report" in str(failure.value), str(failure.value)


@pytest.mark.parametrize("grade_id", sorted(cells.autograded_cell_sources(AID)))
def test_plain_nbgrader_runs_the_whole_cell(grade_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the grading command, the whole cell (visible part, probe and judge) passes the solution."""
    cells.run_whole_cell(AID, grade_id)
    assert capsys.readouterr().err == ""


# Mistakes maxout_grad's spec warns about that the visible part of its test cell catches already.
VISIBLE_CATCHES = ["full-upstream-to-every-tied-piece", "assumes-two-axes", "strided-groups"]


@pytest.mark.parametrize("label", VISIBLE_CATCHES)
def test_the_visible_part_catches_the_mistakes_the_maxout_grad_spec_warns_about(label: str) -> None:
    with pytest.raises((AssertionError, ValueError)):
        cells.run_visible_part(AID, "test_maxout_grad", maxout_grad=CASES["maxout_grad"].wrong[label])
