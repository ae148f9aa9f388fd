"""Graders' tests for 02_relu_family: plausible wrong answers fail their test cell, correct styles pass.

Each graded function has a list of wrong implementations a student plausibly writes (each must make the
function's test cell, hidden tests included, fail) and a list of correct implementations in other styles
(each must pass). See ../shared/GRADING.md, section 5. A few wrong answers come wrapped in values that lie
when compared or read (section 6): the judge sees only the data the probe reported, so they fail too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from cells import passes, run_visible_part
from graders_common import Cases, GradedFunctionTests
from lying_values import AlwaysEqual, LyingFloat64, RightOnce

AID = "02_relu_family"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


SELU_SCALE = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772
GELU_C = math.sqrt(2.0 / math.pi)


def nditer_style(scalar: Callable[..., float]) -> Callable[..., np.ndarray]:
    """An elementwise function written as an explicit loop over np.nditer (a correct, slow style)."""

    def elementwise(x, *args, **kwargs):
        x = np.asarray(x, dtype=float)
        out = np.empty_like(x)
        with np.nditer([x, out], op_flags=[["readonly"], ["writeonly"]]) as it:
            for src, dst in it:
                dst[...] = scalar(float(src), *args, **kwargs)
        return out

    return elementwise


def keep_float32(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Wrap a float64 formula so float32 input gives float32 output (allowed by the spec)."""

    def wrapped(x, *args, **kwargs):
        x = np.asarray(x)
        if x.dtype == np.float32:
            return f(x, *args, **kwargs).astype(np.float32)
        return f(x.astype(float), *args, **kwargs)

    return wrapped


def first_element_dtype(scalar: Callable[..., float]) -> Callable[..., np.ndarray]:
    """A loop whose result dtype is the type of the first computed value (int when that value is max(x, 0) = 0)."""

    def elementwise(x, *args, **kwargs):
        x = np.asarray(x, dtype=float)
        values = [scalar(v, *args, **kwargs) for v in x.ravel().tolist()]
        return np.array(values, dtype=type(values[0])).reshape(x.shape)

    return elementwise


# ---------------------------------------------------------------------------------------------- relu
def relu_in_place(x):
    x = np.asarray(x, dtype=float)
    x[x < 0] = 0.0
    return x


def relu_returns_x_when_all_positive(x):
    x = np.asarray(x, dtype=float)
    if np.all(x >= 0):
        return x
    return np.maximum(x, 0.0)


def relu_keeps_int_dtype(x):
    return np.maximum(np.asarray(x), 0)


def relu_scales_by_np_all(x):
    x = np.asarray(x, dtype=float)
    return float(np.all(x > 0)) * x


def relu_where_on_np_any(x):
    x = np.asarray(x, dtype=float)
    return np.where(np.any(x > 0), x, 0.0)


def relu_reduces_to_max(x):
    return np.maximum(np.max(np.asarray(x, dtype=float)), 0.0)


def relu_returns_bool_mask(x):
    return np.asarray(x) > 0


def relu_copy_of_int(x):
    y = np.array(x)
    y[y < 0] = 0
    return y


def relu_abs_of_x(x):
    return np.abs(np.asarray(x, dtype=float))


def relu_forgets_return(x):
    np.maximum(np.asarray(x, dtype=float), 0.0)


def relu_trick_lying_array_of_zeros(x):
    return np.zeros(np.shape(x)).view(AlwaysEqual)


def relu_trick_lying_float_for_numbers(x):
    x = np.asarray(x, dtype=float)
    return LyingFloat64(0.0) if x.ndim == 0 else np.maximum(x, 0.0)  # right for arrays, 0 for numbers


def relu_trick_right_only_on_first_read(x):
    x = np.asarray(x, dtype=float)
    return RightOnce(np.maximum(x, 0.0), np.abs(x))


# correct styles
def relu_where_positive_copy(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, 0.0)


def relu_mask_on_copy(x):
    y = np.array(x, dtype=float)
    y[y < 0] = 0.0
    return y


def relu_times_mask(x):
    x = np.asarray(x, dtype=float)
    return x * (x > 0)  # -0.0 for negative x: allowed


def relu_clip(x):
    return np.clip(np.asarray(x, dtype=float), 0.0, None)


def relu_abs_formula(x):
    x = np.asarray(x, dtype=float)
    return (x + np.abs(x)) / 2


def relu_list_comprehension(x):
    x = np.asarray(x, dtype=float)
    return np.array([v if v > 0 else 0.0 for v in x.ravel().tolist()], dtype=float).reshape(x.shape)


CASES["relu"] = Cases(
    wrong=[
        relu_in_place,
        relu_returns_x_when_all_positive,
        relu_keeps_int_dtype,
        relu_scales_by_np_all,
        relu_where_on_np_any,
        relu_reduces_to_max,
        relu_returns_bool_mask,
        relu_copy_of_int,
        relu_abs_of_x,
        relu_forgets_return,
        first_element_dtype(lambda v: max(v, 0)),
        relu_trick_lying_array_of_zeros,
        relu_trick_lying_float_for_numbers,
        relu_trick_right_only_on_first_read,
    ],
    right=[
        relu_where_positive_copy,
        relu_mask_on_copy,
        relu_times_mask,
        relu_clip,
        relu_abs_formula,
        relu_list_comprehension,
        nditer_style(lambda v: v if v > 0 else 0.0),
        keep_float32(lambda x: np.maximum(x, x.dtype.type(0))),
    ],
)


# ---------------------------------------------------------------------------------------------- leaky_relu
def leaky_maximum(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, alpha * x)


def leaky_default_tf(x, alpha=0.2):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_default_keras_layer(x, alpha=0.3):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_int_copy_truncates(x, alpha=0.01):
    y = np.array(x)
    negative = y < 0
    y[negative] = alpha * y[negative]
    return y


def leaky_in_place(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    x[x < 0] *= alpha
    return x


def leaky_alpha_on_positive_side(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, alpha * x, x)


def leaky_constant_alpha(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha)


def leaky_returns_x_when_positive(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    if np.all(x > 0):
        return x
    return np.where(x > 0, x, alpha * x)


# correct styles
def leaky_where(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_max_plus_min(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + alpha * np.minimum(x, 0.0)


def leaky_mask_on_float_copy(x, alpha=0.01):
    y = np.array(x, dtype=float)
    negative = y < 0
    y[negative] = alpha * y[negative]
    return y


def leaky_two_masks(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return x * (x > 0) + alpha * x * (x <= 0)


CASES["leaky_relu"] = Cases(
    wrong=[
        leaky_maximum,
        leaky_default_tf,
        leaky_default_keras_layer,
        leaky_int_copy_truncates,
        leaky_in_place,
        leaky_alpha_on_positive_side,
        leaky_constant_alpha,
        leaky_returns_x_when_positive,
    ],
    right=[
        leaky_where,
        leaky_max_plus_min,
        leaky_mask_on_float_copy,
        leaky_two_masks,
        nditer_style(lambda v, alpha=0.01: v if v > 0 else alpha * v),
        keep_float32(lambda x, alpha=0.01: np.where(x > 0, x, x.dtype.type(alpha) * x)),
    ],
)


# ---------------------------------------------------------------------------------------------- relu6
def relu6_no_upper_clip(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def relu6_no_lower_clip(x):
    return np.minimum(np.asarray(x, dtype=float), 6.0)


def relu6_clip_in_place(x):
    x = np.asarray(x, dtype=float)
    return np.clip(x, 0.0, 6.0, out=x)


def relu6_int_stays_int(x):
    return np.clip(np.asarray(x), 0, 6)


def relu6_caps_at_one(x):
    return np.clip(np.asarray(x, dtype=float), 0.0, 1.0)


# correct styles
def relu6_min_max(x):
    return np.minimum(np.maximum(np.asarray(x, dtype=float), 0.0), 6.0)


def relu6_clip(x):
    return np.clip(np.asarray(x, dtype=float), 0, 6)


def relu6_nested_where(x):
    x = np.asarray(x, dtype=float)
    return np.where(x < 0, 0.0, np.where(x > 6, 6.0, x))


def relu6_masks_on_copy(x):
    y = np.array(x, dtype=float)
    y[y < 0] = 0.0
    y[y > 6] = 6.0
    return y


CASES["relu6"] = Cases(
    wrong=[
        relu6_no_upper_clip,
        relu6_no_lower_clip,
        relu6_clip_in_place,
        relu6_int_stays_int,
        relu6_caps_at_one,
    ],
    right=[
        relu6_min_max,
        relu6_clip,
        relu6_nested_where,
        relu6_masks_on_copy,
        nditer_style(lambda v: min(max(v, 0.0), 6.0)),
        keep_float32(lambda x: np.clip(x, 0, 6)),
    ],
)


# ---------------------------------------------------------------------------------------------- elu
def elu_alpha_on_positive_branch(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, alpha * x, np.exp(x) - 1)


def elu_branches_swapped(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, alpha * (np.exp(x) - 1), x)


def elu_alpha_exp_minus_one(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.exp(x) - 1)


def elu_exp_alpha_x(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, np.exp(alpha * x) - 1)


def elu_alpha_outside(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return alpha * np.where(x > 0, x, np.exp(x) - 1)


def elu_ignores_alpha(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, np.exp(x) - 1)


def elu_masks_times_exp(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return (x > 0) * x + (x <= 0) * alpha * (np.exp(x) - 1)


def elu_in_place(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    negative = x <= 0
    x[negative] = alpha * np.expm1(x[negative])
    return x


# correct styles
def elu_where_exp(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(
        x > 0, x, alpha * (np.exp(x) - 1)
    )  # exp(1000) overflows, with a warning, and is discarded


def elu_expm1_of_minimum(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_mask_on_copy(x, alpha=1.0):
    y = np.array(x, dtype=float)
    negative = y <= 0
    y[negative] = alpha * (np.exp(y[negative]) - 1)
    return y


def elu_max_plus_min(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + alpha * (np.exp(np.minimum(x, 0.0)) - 1)


CASES["elu"] = Cases(
    wrong=[
        elu_alpha_on_positive_branch,
        elu_branches_swapped,
        elu_alpha_exp_minus_one,
        elu_exp_alpha_x,
        elu_alpha_outside,
        elu_ignores_alpha,
        elu_masks_times_exp,
        elu_in_place,
    ],
    right=[
        elu_where_exp,
        elu_expm1_of_minimum,
        elu_mask_on_copy,
        elu_max_plus_min,
        nditer_style(lambda v, alpha=1.0: v if v > 0 else alpha * math.expm1(v)),
        keep_float32(
            lambda x, alpha=1.0: np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))
        ),
    ],
)


# ---------------------------------------------------------------------------------------------- selu
def _selu_with(scale: float, alpha: float) -> Callable[[np.ndarray], np.ndarray]:
    def selu(x):
        x = np.asarray(x, dtype=float)
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))

    return selu


def selu_scale_only_on_positive_branch(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, SELU_SCALE * x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def selu_scaled_elu_alpha_one(x):
    x = np.asarray(x, dtype=float)
    return SELU_SCALE * np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def selu_scale_alpha_product_on_both(x):
    x = np.asarray(x, dtype=float)
    return SELU_SCALE * SELU_ALPHA * np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def selu_masks_times_exp(x):
    x = np.asarray(x, dtype=float)
    return SELU_SCALE * ((x > 0) * x + (x <= 0) * SELU_ALPHA * (np.exp(x) - 1))


# correct styles
def selu_precomputed_product(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0507009873554805 * x, 1.7580993408473766 * np.expm1(np.minimum(x, 0.0)))


def selu_where_exp(x):
    x = np.asarray(x, dtype=float)
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))


CASES["selu"] = Cases(
    wrong=[
        _selu_with(SELU_ALPHA, SELU_SCALE),  # constants swapped
        _selu_with(1.05, 1.67),  # rounded
        _selu_with(1.0507, 1.6733),  # rounded to 5 digits: the spec asks for rtol 1e-5
        _selu_with(1.0, SELU_ALPHA),  # scale forgotten
        selu_scale_only_on_positive_branch,
        selu_scaled_elu_alpha_one,
        selu_scale_alpha_product_on_both,
        selu_masks_times_exp,
    ],
    right=[
        _selu_with(SELU_SCALE, SELU_ALPHA),
        _selu_with(1.0507009873554804934193349852946, 1.6732632423543772848170429916717),
        _selu_with(1.050701, 1.673263),  # 7 significant digits
        selu_precomputed_product,
        selu_where_exp,
        nditer_style(lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v))),
        keep_float32(
            lambda x: np.where(x > 0, x.dtype.type(SELU_SCALE) * x, x.dtype.type(1.7580993) * np.expm1(x))
        ),
    ],
)


# ---------------------------------------------------------------------------------------------- softplus
def softplus_naive(x):
    x = np.asarray(x, dtype=float)
    return np.log(1 + np.exp(x))


def softplus_log1p_exp(x):
    x = np.asarray(x, dtype=float)
    return np.log1p(np.exp(x))  # accurate for negative x, inf at 1000


def softplus_threshold_with_log(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 20, x, np.log(1 + np.exp(x)))  # 0 at -40


def softplus_stable_but_log(x):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log(1 + np.exp(-np.abs(x)))  # 0 at -40


def softplus_is_relu(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def softplus_log_of_exp_plus_one_in_place(x):
    x = np.asarray(x, dtype=float)
    np.logaddexp(0.0, x, out=x)
    return x


def softplus_trick_lying_naive(x):
    return softplus_naive(x).view(AlwaysEqual)  # inf at 1000, 0 at -40, and claims to equal anything


def softplus_trick_right_only_on_first_read(x):
    x = np.asarray(x, dtype=float)
    return RightOnce(np.logaddexp(0.0, x), softplus_naive(x))


# correct styles
def softplus_logaddexp(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=float))


def softplus_stable_log1p(x):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def softplus_threshold_log1p(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 30, x, np.log1p(np.exp(x)))  # exp(1000) overflows, with a warning, and is discarded


def softplus_two_branches(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x + np.log1p(np.exp(-x)), np.log1p(np.exp(x)))


CASES["softplus"] = Cases(
    wrong=[
        softplus_naive,
        softplus_log1p_exp,
        softplus_threshold_with_log,
        softplus_stable_but_log,
        softplus_is_relu,
        softplus_log_of_exp_plus_one_in_place,
        softplus_trick_lying_naive,
        softplus_trick_right_only_on_first_read,
    ],
    right=[
        softplus_logaddexp,
        softplus_stable_log1p,
        softplus_threshold_log1p,
        softplus_two_branches,
        nditer_style(lambda v: v if v > 30 else math.log1p(math.exp(v))),
        keep_float32(lambda x: np.logaddexp(x.dtype.type(0), x)),
    ],
)


# ---------------------------------------------------------------------------------------------- silu
def silu_sigmoid_of_minus_x(x):
    x = np.asarray(x, dtype=float)
    return x / (1.0 + np.exp(x))


def silu_exp_ratio(x):
    x = np.asarray(x, dtype=float)
    return x * np.exp(x) / (1.0 + np.exp(x))  # inf / inf = nan at 1000


def silu_sigmoid_only(x):
    x = np.asarray(x, dtype=float)
    return 1.0 / (1.0 + np.exp(-x))


def silu_in_place(x):
    x = np.asarray(x, dtype=float)
    x *= 1.0 / (1.0 + np.exp(-x))
    return x


def silu_tanh_of_x(x):
    x = np.asarray(x, dtype=float)
    return x * 0.5 * (1.0 + np.tanh(x))


# correct styles
def silu_divide(x):
    x = np.asarray(x, dtype=float)
    return x / (1.0 + np.exp(-x))  # exp(1000) overflows for x = -1000: -1000 / inf = -0.0, correct


def silu_tanh_identity(x):
    x = np.asarray(x, dtype=float)
    return x * 0.5 * (1.0 + np.tanh(0.5 * x))


def silu_logaddexp(x):
    x = np.asarray(x, dtype=float)
    return x * np.exp(-np.logaddexp(0.0, -x))


def silu_stable_where(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return x * np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


CASES["silu"] = Cases(
    wrong=[silu_sigmoid_of_minus_x, silu_exp_ratio, silu_sigmoid_only, silu_in_place, silu_tanh_of_x],
    right=[
        silu_divide,
        silu_tanh_identity,
        silu_logaddexp,
        silu_stable_where,
        nditer_style(lambda v: v / (1.0 + math.exp(-v)) if v > -700 else 0.0),
        keep_float32(lambda x: x / (x.dtype.type(1) + np.exp(-x))),
    ],
)


# ---------------------------------------------------------------------------------------------- gelu
def gelu_exact_erf(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.vectorize(math.erf, otypes=[float])(x / math.sqrt(2.0)))


def gelu_no_cubic_term(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.tanh(GELU_C * x))


def gelu_sigmoid_approximation(x):
    x = np.asarray(x, dtype=float)
    return x / (1.0 + np.exp(-1.702 * x))


def gelu_sqrt_pi_over_two(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(math.pi / 2) * (x + 0.044715 * x**3)))


def gelu_no_half(x):
    x = np.asarray(x, dtype=float)
    return x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x**3)))


def gelu_square_not_cube(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x**2)))


def gelu_constant_rounded_to_4_digits(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.tanh(0.7979 * (x + 0.044715 * x**3)))


# correct styles
def gelu_x_times_x_times_x(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x * x * x)))


def gelu_seven_digits(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.tanh(0.7978846 * (x + 0.044715 * np.power(x, 3))))


def gelu_sigmoid_identity(x):
    x = np.asarray(x, dtype=float)
    return x / (1.0 + np.exp(-2.0 * GELU_C * (x + 0.044715 * x**3)))  # 0.5 (1 + tanh u) = sigmoid(2u)


CASES["gelu"] = Cases(
    wrong=[
        gelu_exact_erf,
        gelu_no_cubic_term,
        gelu_sigmoid_approximation,
        gelu_sqrt_pi_over_two,
        gelu_no_half,
        gelu_square_not_cube,
        gelu_constant_rounded_to_4_digits,
    ],
    right=[
        gelu_x_times_x_times_x,
        gelu_seven_digits,
        gelu_sigmoid_identity,
        nditer_style(lambda v: 0.5 * v * (1.0 + math.tanh(GELU_C * (v + 0.044715 * v**3)))),
        keep_float32(
            lambda x: x.dtype.type(0.5) * x * (1 + np.tanh(x.dtype.type(GELU_C) * (x + 0.044715 * x**3)))
        ),
    ],
)


# ---------------------------------------------------------------------------------------------- prelu
def prelu_alpha_on_first_axis(x, alpha):
    x = np.asarray(x, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    slopes = alpha.reshape((-1,) + (1,) * (x.ndim - 1)) if x.ndim > 1 else alpha
    return np.where(x > 0, x, slopes * x)


def prelu_alpha_column(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, np.asarray(alpha)[:, None] * x) if x.ndim > 1 else np.where(x > 0, x, alpha * x)


def prelu_maximum(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, alpha * x)


def prelu_modifies_alpha(x, alpha):
    x = np.asarray(x, dtype=float)
    alpha -= 1.0  # reuses alpha for "slope minus one"
    return x + alpha * np.minimum(x, 0.0)


def prelu_in_place(x, alpha):
    x = np.asarray(x, dtype=float)
    np.multiply(x, alpha, out=x, where=x < 0)
    return x


def prelu_first_slope_only(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha[0] * x)


def prelu_int_copy_truncates(x, alpha):
    y = np.array(x)
    negative = y < 0
    y[negative] = (alpha * y)[negative]
    return y


def prelu_returns_x_when_positive(x, alpha):
    x = np.asarray(x, dtype=float)
    if np.all(x > 0):
        return x
    return np.where(x > 0, x, alpha * x)


# correct styles
def prelu_where(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def prelu_keras_form(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) - alpha * np.maximum(-x, 0.0)


def prelu_loop_over_channels(x, alpha):
    y = np.array(x, dtype=float)
    for c, slope in enumerate(alpha):
        channel = y[..., c]
        channel[channel < 0] *= slope
    return y


def prelu_broadcast_mask(x, alpha):
    y = np.array(x, dtype=float)
    slopes = np.broadcast_to(alpha, y.shape)
    negative = y < 0
    y[negative] = slopes[negative] * y[negative]
    return y


CASES["prelu"] = Cases(
    wrong=[
        prelu_alpha_on_first_axis,
        prelu_alpha_column,
        prelu_maximum,
        prelu_modifies_alpha,
        prelu_in_place,
        prelu_first_slope_only,
        prelu_int_copy_truncates,
        prelu_returns_x_when_positive,
    ],
    right=[prelu_where, prelu_keras_form, prelu_loop_over_channels, prelu_broadcast_mask],
)


# ---------------------------------------------------------------------------------------------- maxout
def maxout_strided_groups(z, k):
    z = np.asarray(z)
    n = z.shape[-1] // k
    return z.reshape(*z.shape[:-1], k, n).max(axis=-2)


def maxout_blocks_of_n(z, k):
    z = np.asarray(z)
    n = z.shape[-1] // k
    return np.maximum.reduce([z[..., j * n : (j + 1) * n] for j in range(k)])  # groups z[..., i::n]: strided


def maxout_max_over_wrong_axis(z, k):
    z = np.asarray(z)
    n = z.shape[-1] // k
    return z.reshape(*z.shape[:-1], n, k).max(axis=-2)


def maxout_flattens_leading_axes(z, k):
    return np.asarray(z).reshape(-1, k).max(axis=1)


def maxout_keepdims(z, k):
    z = np.asarray(z)
    n = z.shape[-1] // k
    return z.reshape(*z.shape[:-1], n, k).max(axis=-1, keepdims=True)


def maxout_first_of_each_group(z, k):
    return np.array(np.asarray(z)[..., ::k])


def maxout_over_axis_zero(z, k):
    z = np.asarray(z)
    n = z.shape[-1] // k
    return z.reshape(*z.shape[:-1], n, k).max(axis=0)


def maxout_returns_z_when_k_is_one(z, k):
    z = np.asarray(z)
    if k == 1:
        return z
    n = z.shape[-1] // k
    return z.reshape(*z.shape[:-1], n, k).max(axis=-1)


def maxout_assumes_a_batch_axis(z, k):
    z = np.asarray(z)
    return z.reshape(z.shape[0], -1, k).max(axis=-1)  # a 1-D z (one sample) cannot be reshaped so


def maxout_trick_lying_strided_groups(z, k):
    return maxout_strided_groups(z, k).view(AlwaysEqual)


def maxout_trick_right_only_on_first_read(z, k):
    z = np.asarray(z)
    right = z.reshape(*z.shape[:-1], z.shape[-1] // k, k).max(axis=-1)
    return RightOnce(right, maxout_strided_groups(z, k))


# correct styles
def maxout_reshape(z, k):
    z = np.asarray(z)
    return z.reshape(z.shape[:-1] + (-1, k)).max(axis=-1)


def maxout_strided_maximum_reduce(z, k):
    z = np.asarray(z)
    return np.maximum.reduce([z[..., j::k] for j in range(k)])  # element j of every group: consecutive groups


def maxout_loop_over_groups(z, k):
    z = np.asarray(z, dtype=float)
    n = z.shape[-1] // k
    out = np.empty(z.shape[:-1] + (n,))
    for i in range(n):
        out[..., i] = np.max(z[..., i * k : (i + 1) * k], axis=-1)
    return out


def maxout_python_loops(z, k):
    z = np.asarray(z, dtype=float)
    flat = z.reshape(-1, z.shape[-1])
    rows = [[max(row[i : i + k]) for i in range(0, len(row), k)] for row in flat.tolist()]
    return np.array(rows).reshape(z.shape[:-1] + (z.shape[-1] // k,))


CASES["maxout"] = Cases(
    wrong=[
        maxout_strided_groups,
        maxout_blocks_of_n,
        maxout_max_over_wrong_axis,
        maxout_flattens_leading_axes,
        maxout_keepdims,
        maxout_first_of_each_group,
        maxout_over_axis_zero,
        maxout_returns_z_when_k_is_one,
        maxout_assumes_a_batch_axis,
        maxout_trick_lying_strided_groups,
        maxout_trick_right_only_on_first_read,
    ],
    right=[maxout_reshape, maxout_strided_maximum_reduce, maxout_loop_over_groups, maxout_python_loops],
)


# ---------------------------------------------------------------------------------------------- visible part


# Wrong answers that the visible part of the test cell lets through: the hidden tests are what catch them.
VISIBLE_ONLY_MISSES = [
    ("relu", relu_in_place),
    ("relu", relu_keeps_int_dtype),
    ("leaky_relu", leaky_int_copy_truncates),
    ("relu6", relu6_clip_in_place),
    ("elu", elu_masks_times_exp),
    ("selu", selu_masks_times_exp),
    ("softplus", softplus_threshold_with_log),
    ("silu", silu_exp_ratio),
    ("prelu", prelu_modifies_alpha),
    ("maxout", maxout_returns_z_when_k_is_one),
]


# Mistakes the specs warn about that the visible part catches already, at no cost.
VISIBLE_CATCHES = [("maxout", maxout_assumes_a_batch_axis)]


@pytest.mark.parametrize(
    ("fname", "impl"), [pytest.param(f, i, id=f"{f}-{i.__name__}") for f, i in VISIBLE_ONLY_MISSES]
)
def test_hidden_tests_catch_what_the_visible_part_misses(fname: str, impl: Callable) -> None:
    run_visible_part(AID, f"test_{fname}", **{fname: impl})  # passes the visible part...
    assert not passes(AID, f"test_{fname}", **{fname: impl})  # ...but not the whole cell


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("fname", "impl"), [pytest.param(f, i, id=f"{f}-{i.__name__}") for f, i in VISIBLE_CATCHES]
)
def test_the_visible_part_catches_the_mistakes_its_spec_warns_about(fname: str, impl: Callable) -> None:
    with pytest.raises((AssertionError, ValueError)):
        run_visible_part(AID, f"test_{fname}", **{fname: impl})
