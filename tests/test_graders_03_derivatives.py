"""Graders' tests for 03_derivatives: each test cell rejects plausible wrong answers and accepts correct styles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cells import passes

AID = "03_derivatives"


def _sig(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _elu(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _check(grade_id: str, name: str, impl, ok: bool) -> None:
    assert passes(AID, grade_id, **{name: impl}) is ok


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


def ng_float32(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float32)
    return ((f(x + np.float32(eps)) - f(x - np.float32(eps))) / (2 * eps)).astype(np.float32)


NUMERICAL_GRAD_WRONG = [
    pytest.param(ng_forward, id="forward-difference"),
    pytest.param(ng_divides_by_eps, id="divides-by-eps"),
    pytest.param(ng_ignores_eps, id="ignores-eps"),
    pytest.param(ng_half_steps, id="steps-of-eps/2"),
    pytest.param(ng_np_gradient, id="np.gradient"),
    pytest.param(ng_sums, id="sums-to-scalar"),
    pytest.param(ng_shifts_in_place, id="shifts-x-in-place"),
    pytest.param(ng_relative_step, id="relative-step-nan-at-0"),
    pytest.param(ng_zeros_like_loop, id="zeros_like-truncates-ints"),
    pytest.param(ng_float32, id="computes-in-float32"),
]


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


NUMERICAL_GRAD_RIGHT = [
    pytest.param(ng_vectorized, id="vectorized"),
    pytest.param(ng_loop_restoring, id="loop-restoring-x"),
    pytest.param(ng_scalar_vectorize, id="np.vectorize-on-scalars"),
    pytest.param(ng_copies, id="shifted-copies"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("impl", NUMERICAL_GRAD_WRONG)
def test_numerical_grad_rejects(impl) -> None:
    _check("test_numerical_grad", "numerical_grad", impl, False)


@pytest.mark.parametrize("impl", NUMERICAL_GRAD_RIGHT)
def test_numerical_grad_accepts(impl) -> None:
    _check("test_numerical_grad", "numerical_grad", impl, True)


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


RELU_GRAD_WRONG = [
    pytest.param(relu_grad_bool, id="boolean-mask"),
    pytest.param(relu_grad_int_where, id="integer-where"),
    pytest.param(relu_grad_sign, id="np.sign"),
    pytest.param(relu_grad_value, id="relu-itself"),
    pytest.param(relu_grad_all, id="np.all-reduction"),
    pytest.param(relu_grad_heaviside_2, id="heaviside-2-at-0"),
    pytest.param(relu_grad_zeros_like, id="zeros_like-int"),
    pytest.param(relu_grad_in_place, id="overwrites-x"),
    pytest.param(relu_grad_ratio, id="relu(x)/x-nan-at-0"),
]


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


RELU_GRAD_RIGHT = [
    pytest.param(relu_grad_astype, id="astype"),
    pytest.param(relu_grad_ge, id="ge-gives-1-at-0"),
    pytest.param(relu_grad_heaviside, id="heaviside-half"),
    pytest.param(relu_grad_where, id="where"),
    pytest.param(relu_grad_loop, id="loop"),
    pytest.param(relu_grad_float32, id="keeps-float32"),
]


@pytest.mark.parametrize("impl", RELU_GRAD_WRONG)
def test_relu_grad_rejects(impl) -> None:
    _check("test_relu_grad", "relu_grad", impl, False)


@pytest.mark.parametrize("impl", RELU_GRAD_RIGHT)
def test_relu_grad_accepts(impl) -> None:
    _check("test_relu_grad", "relu_grad", impl, True)


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


LEAKY_RELU_GRAD_WRONG = [
    pytest.param(leaky_default_02, id="default-0.2"),
    pytest.param(leaky_ignores_alpha, id="ignores-alpha"),
    pytest.param(leaky_maximum, id="np.maximum-breaks-alpha>1"),
    pytest.param(leaky_ones_like, id="ones_like-truncates-alpha"),
    pytest.param(leaky_swapped, id="branches-swapped"),
    pytest.param(leaky_ratio, id="leaky(x)/x-nan-at-0"),
    pytest.param(leaky_in_place, id="overwrites-x"),
    pytest.param(leaky_minimum_slope, id="caps-slope-at-1"),
]


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


LEAKY_RELU_GRAD_RIGHT = [
    pytest.param(leaky_where, id="where"),
    pytest.param(leaky_where_ge, id="where-ge"),
    pytest.param(leaky_masks, id="masks-average-at-0"),
    pytest.param(leaky_arithmetic, id="arithmetic-masks"),
    pytest.param(leaky_piecewise, id="np.piecewise"),
    pytest.param(leaky_loop, id="loop"),
]


@pytest.mark.parametrize("impl", LEAKY_RELU_GRAD_WRONG)
def test_leaky_relu_grad_rejects(impl) -> None:
    _check("test_leaky_relu_grad", "leaky_relu_grad", impl, False)


@pytest.mark.parametrize("impl", LEAKY_RELU_GRAD_RIGHT)
def test_leaky_relu_grad_accepts(impl) -> None:
    _check("test_leaky_relu_grad", "leaky_relu_grad", impl, True)


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


RELU6_GRAD_WRONG = [
    pytest.param(relu6_no_cap, id="no-cap-at-6"),
    pytest.param(relu6_bool, id="boolean"),
    pytest.param(relu6_upper_only, id="upper-bound-only"),
    pytest.param(relu6_clip, id="clip-0-1"),
    pytest.param(relu6_six_above, id="6-above-6"),
    pytest.param(relu6_value_positive, id="relu6(x)>0"),
]


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


RELU6_GRAD_RIGHT = [
    pytest.param(relu6_and, id="and-astype"),
    pytest.param(relu6_inclusive, id="inclusive-bounds"),
    pytest.param(relu6_logical, id="logical_and"),
    pytest.param(relu6_heaviside, id="heaviside-product"),
    pytest.param(relu6_loop, id="loop"),
]


@pytest.mark.parametrize("impl", RELU6_GRAD_WRONG)
def test_relu6_grad_rejects(impl) -> None:
    _check("test_relu6_grad", "relu6_grad", impl, False)


@pytest.mark.parametrize("impl", RELU6_GRAD_RIGHT)
def test_relu6_grad_accepts(impl) -> None:
    _check("test_relu6_grad", "relu6_grad", impl, True)


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


ELU_GRAD_WRONG = [
    pytest.param(elu_no_alpha, id="exp-without-alpha"),
    pytest.param(elu_plus_one, id="elu(x)+1"),
    pytest.param(elu_exp_everywhere, id="alpha*exp-everywhere"),
    pytest.param(elu_min_one, id="min(1,alpha*exp)"),
    pytest.param(elu_zero_times_inf, id="mask-arithmetic-0*inf"),
    pytest.param(elu_output_plus_alpha, id="x+alpha"),
    pytest.param(elu_value, id="elu-itself"),
    pytest.param(elu_ones_like, id="ones_like-truncates"),
    pytest.param(elu_default_alpha_only, id="alpha-fixed-at-1"),
]


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


ELU_GRAD_RIGHT = [
    pytest.param(elu_where_stable, id="where-stable"),
    pytest.param(elu_where_overflowing, id="where-with-overflow-warning"),
    pytest.param(elu_from_value, id="elu(x)+alpha"),
    pytest.param(elu_masks, id="masks-on-float-copy"),
    pytest.param(elu_loop, id="loop-math.exp"),
]


@pytest.mark.parametrize("impl", ELU_GRAD_WRONG)
def test_elu_grad_rejects(impl) -> None:
    _check("test_elu_grad", "elu_grad", impl, False)


@pytest.mark.parametrize("impl", ELU_GRAD_RIGHT)
def test_elu_grad_accepts(impl) -> None:
    _check("test_elu_grad", "elu_grad", impl, True)


# ---------------------------------------------------------------- softplus_grad
def softplus_ratio(x):
    e = np.exp(np.asarray(x, dtype=float))
    return e / (1 + e)  # inf / inf at 1000


def softplus_sign(x):
    return 1 / (1 + np.exp(np.asarray(x, dtype=float)))


def softplus_value(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=float))


def softplus_sigmoid_derivative(x):
    s = _sig(x)
    return s * (1 - s)


SOFTPLUS_GRAD_WRONG = [
    pytest.param(softplus_ratio, id="exp-ratio-nan-at-1000"),
    pytest.param(softplus_sign, id="exp(+x)"),
    pytest.param(softplus_value, id="softplus-itself"),
    pytest.param(softplus_sigmoid_derivative, id="sigmoid-derivative"),
]


def softplus_stable(x):
    return _sig(x)


def softplus_naive(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def softplus_tanh(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float) / 2))


def softplus_logaddexp(x):
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))


SOFTPLUS_GRAD_RIGHT = [
    pytest.param(softplus_stable, id="stable-sigmoid"),
    pytest.param(softplus_naive, id="naive-with-warnings"),
    pytest.param(softplus_tanh, id="tanh-form"),
    pytest.param(softplus_logaddexp, id="logaddexp"),
]


@pytest.mark.parametrize("impl", SOFTPLUS_GRAD_WRONG)
def test_softplus_grad_rejects(impl) -> None:
    _check("test_softplus_grad", "softplus_grad", impl, False)


@pytest.mark.parametrize("impl", SOFTPLUS_GRAD_RIGHT)
def test_softplus_grad_accepts(impl) -> None:
    _check("test_softplus_grad", "softplus_grad", impl, True)


# ---------------------------------------------------------------- silu_grad
def silu_sigmoid_only(x):
    return _sig(x)


def silu_sigmoid_derivative(x):
    s = _sig(x)
    return s * (1 - s)


def silu_second_term_only(x):
    x = np.asarray(x, dtype=float)
    s = _sig(x)
    return x * s * (1 - s)


def silu_minus(x):
    x = np.asarray(x, dtype=float)
    s = _sig(x)
    return s - x * s * (1 - s)


def silu_exp_form(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-x)
    return (1 + e + x * e) / (1 + e) ** 2  # inf / inf at -1000


def silu_one_minus_x(x):
    x = np.asarray(x, dtype=float)
    s = _sig(x)
    return s + x * s * (1 - x)


SILU_GRAD_WRONG = [
    pytest.param(silu_sigmoid_only, id="sigmoid-only"),
    pytest.param(silu_sigmoid_derivative, id="sigmoid-derivative"),
    pytest.param(silu_second_term_only, id="forgets-first-term"),
    pytest.param(silu_minus, id="product-rule-sign"),
    pytest.param(silu_exp_form, id="exp-form-nan-at-minus-1000"),
    pytest.param(silu_one_minus_x, id="s*(1-x)"),
]


def silu_factored(x):
    x = np.asarray(x, dtype=float)
    s = _sig(x)
    return s * (1 + x * (1 - s))


def silu_sum(x):
    x = np.asarray(x, dtype=float)
    s = _sig(x)
    return s + x * s * (1 - s)


def silu_naive_sigmoid(x):
    x = np.asarray(x, dtype=float)
    s = 1 / (1 + np.exp(-x))
    return s + x * s * (1 - s)


def silu_tanh(x):
    x = np.asarray(x, dtype=float)
    s = 0.5 * (1 + np.tanh(x / 2))
    return s * (1 + x * (1 - s))


SILU_GRAD_RIGHT = [
    pytest.param(silu_factored, id="factored"),
    pytest.param(silu_sum, id="product-rule-sum"),
    pytest.param(silu_naive_sigmoid, id="naive-sigmoid-with-warnings"),
    pytest.param(silu_tanh, id="tanh-sigmoid"),
]


@pytest.mark.parametrize("impl", SILU_GRAD_WRONG)
def test_silu_grad_rejects(impl) -> None:
    _check("test_silu_grad", "silu_grad", impl, False)


@pytest.mark.parametrize("impl", SILU_GRAD_RIGHT)
def test_silu_grad_accepts(impl) -> None:
    _check("test_silu_grad", "silu_grad", impl, True)


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


PRELU_GRAD_WRONG = [
    pytest.param(prelu_dalpha_not_summed, id="dalpha-not-summed"),
    pytest.param(prelu_dalpha_total, id="dalpha-summed-to-scalar"),
    pytest.param(prelu_dalpha_axis0, id="dalpha-sum-axis-0-only"),
    pytest.param(prelu_dalpha_last_axis, id="dalpha-sum-last-axis"),
    pytest.param(prelu_dalpha_no_upstream, id="dalpha-without-upstream"),
    pytest.param(prelu_dalpha_mask_only, id="dalpha-mask-without-x"),
    pytest.param(prelu_dalpha_mean, id="dalpha-mean"),
    pytest.param(prelu_dalpha_all_elements, id="dalpha-includes-positive-x"),
    pytest.param(prelu_dx_no_upstream, id="dx-without-upstream"),
    pytest.param(prelu_dx_maximum, id="dx-np.maximum-breaks-alpha>1"),
    pytest.param(prelu_dx_swapped, id="dx-branches-swapped"),
    pytest.param(prelu_modifies_upstream, id="modifies-upstream"),
    pytest.param(prelu_swapped_outputs, id="returns-(dalpha,dx)"),
    pytest.param(prelu_alpha_for_all_channels, id="one-alpha-for-all-channels"),
]


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


PRELU_GRAD_RIGHT = [
    pytest.param(prelu_reshape, id="reshape-sum"),
    pytest.param(prelu_axis_tuple, id="sum-axis-tuple"),
    pytest.param(prelu_ones_matmul, id="ones-vector-matmul"),
    pytest.param(prelu_channel_loop, id="loop-over-channels"),
    pytest.param(prelu_ge_at_kink, id="upstream-at-kink"),
    pytest.param(prelu_list_output, id="returns-a-list"),
]


@pytest.mark.parametrize("impl", PRELU_GRAD_WRONG)
def test_prelu_grad_rejects(impl) -> None:
    _check("test_prelu_grad", "prelu_grad", impl, False)


@pytest.mark.parametrize("impl", PRELU_GRAD_RIGHT)
def test_prelu_grad_accepts(impl) -> None:
    _check("test_prelu_grad", "prelu_grad", impl, True)


GRADED = [
    "test_numerical_grad",
    "test_relu_grad",
    "test_leaky_relu_grad",
    "test_relu6_grad",
    "test_elu_grad",
    "test_softplus_grad",
    "test_silu_grad",
    "test_prelu_grad",
]


@pytest.mark.parametrize("grade_id", GRADED)
def test_the_solution_passes(grade_id: str) -> None:
    assert passes(AID, grade_id)
