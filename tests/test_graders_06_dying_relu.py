"""Graders' tests for 06_dying_relu: wrong implementations fail their test cell, correct styles pass."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from cells import solution_namespace
from graders_common import Cases, GradedFunctionTests
from lying_values import AlwaysEqual, LyingFloat, LyingFloat64, RightOnce

AID = "06_dying_relu"
CASES: dict[str, Cases] = {}  # each section below adds its function's wrong and correct implementations


class TestGradedFunctions(GradedFunctionTests):
    assignment = AID
    cases = CASES


# ---------------------------------------------------------------------------------------------- dead_unit_mask
def _mask_that_modifies(h):
    h[h == 0] = 0.0
    h += 0.0
    h[h > 0] = 1.0
    return np.all(h == 0, axis=0)


def _mask_normalises_negative_zero(h):
    h[h == 0] = 0.0  # turns -0.0 into 0.0: equal under ==, but h is no longer what the caller passed
    return np.all(h == 0, axis=0)


def _mask_raises(h):
    raise ValueError("operands could not be broadcast together")


# correct styles
def _mask_loop(h):
    return np.array([all(v == 0 for v in h[:, j]) for j in range(h.shape[1])], dtype=bool)


CASES["dead_unit_mask"] = Cases(
    wrong={
        "per-sample (axis=1)": lambda h: np.all(h == 0, axis=1),
        "per-element": lambda h: h == 0,
        "any zero in the column": lambda h: np.any(h == 0, axis=0),
        "first example only": lambda h: h[0] == 0,
        "last example only": lambda h: h[-1] == 0,
        "strict h < 0": lambda h: np.all(h < 0, axis=0),
        "np.isclose tolerance": lambda h: np.all(np.isclose(h, 0), axis=0),
        "h <= 1e-6 tolerance": lambda h: np.all(h <= 1e-6, axis=0),
        "mean below a threshold": lambda h: h.mean(axis=0) < 1e-9,
        "majority of zeros": lambda h: np.mean(h == 0, axis=0) > 0.5,
        "indices instead of a mask": lambda h: np.flatnonzero(np.all(h == 0, axis=0)),
        "list of bools": lambda h: [bool(v) for v in np.all(h == 0, axis=0)],
        "int 0/1 mask": lambda h: np.all(h == 0, axis=0).astype(int),
        "count of dead units": lambda h: int(np.all(h == 0, axis=0).sum()),
        "alive mask (negated)": lambda h: np.any(h != 0, axis=0),
        "signbit treats -0.0 as nonzero": lambda h: np.all((h == 0) & ~np.signbit(h), axis=0),
        "modifies h": _mask_that_modifies,
        "normalises -0.0 in h": _mask_normalises_negative_zero,
        "returns None (print instead of return)": lambda h: print(np.all(h == 0, axis=0)),
        "raises": _mask_raises,
        "dict of unit -> dead": lambda h: {j: bool(v) for j, v in enumerate(np.all(h == 0, axis=0))},
        "string": lambda h: str(np.all(h == 0, axis=0)),
        "hard-codes the visible answer": lambda h: np.array([True, False, False]),
        # tricks
        "trick: lying ndarray subclass, all False": lambda h: np.zeros(h.shape[1], bool).view(AlwaysEqual),
        "trick: lying ndarray subclass, per-sample": lambda h: np.all(h == 0, axis=1).view(AlwaysEqual),
        "trick: right only on the first read": lambda h: RightOnce(
            np.all(h == 0, axis=0), np.zeros(h.shape[1], bool)
        ),
    },
    right={
        "np.all(h == 0, axis=0)": lambda h: np.all(h == 0, axis=0),
        "~h.any(axis=0)": lambda h: ~h.any(axis=0),
        "count_nonzero == 0": lambda h: np.count_nonzero(h, axis=0) == 0,
        "max == 0 (h >= 0)": lambda h: h.max(axis=0) == 0,
        "all(h <= 0) (h >= 0)": lambda h: np.all(h <= 0, axis=0),
        "abs sum == 0": lambda h: np.abs(h).sum(axis=0) == 0,
        "python loop over columns": _mask_loop,
        "on the transpose": lambda h: np.array([not row.any() for row in np.asarray(h).T]),
    },
)


def test_fixtures_tell_the_mask_rules_apart() -> None:
    """The hand-built matrix of the hidden tests gives a different answer under each wrong rule."""
    tricky = np.array(
        [
            [0.0, 0.0, 0.0, 1.0, -0.0, 1e-12, 0.7],
            [0.0, 0.0, 2.5, 0.5, 0.0, 1e-12, 0.0],
            [0.0, 0.0, 0.0, 0.0, -0.0, 0.0, 0.0],
            [0.0, 1e-12, 0.0, 0.2, 0.0, 1e-12, 0.0],
        ]
    )
    right = np.all(tricky == 0, axis=0).tolist()
    wrong_masks = CASES["dead_unit_mask"].wrong
    for name in (
        "any zero in the column",
        "first example only",
        "last example only",
        "strict h < 0",
        "np.isclose tolerance",
        "majority of zeros",
    ):
        assert wrong_masks[name](tricky.copy()).tolist() != right, name


# ---------------------------------------------------------------------------------------------- dead_fraction
def _mask(h):
    return np.all(np.asarray(h) == 0, axis=0)


def _fraction_that_modifies(h):
    h[h > 0] = 1.0
    return float(np.mean(np.all(h == 0, axis=0)))


# correct styles
def _fraction_via_global(h):
    return float(np.mean(solution_namespace(AID)["dead_unit_mask"](h)))


CASES["dead_fraction"] = Cases(
    wrong={
        "fraction of zero entries (sparsity)": lambda h: float(np.mean(h == 0)),
        "fraction of all-zero examples": lambda h: float(np.mean(np.all(h == 0, axis=1))),
        "count instead of fraction": lambda h: int(_mask(h).sum()),
        "count as float": lambda h: float(_mask(h).sum()),
        "percentage": lambda h: 100.0 * float(_mask(h).mean()),
        "alive fraction": lambda h: 1.0 - float(_mask(h).mean()),
        "divides by the number of examples": lambda h: float(_mask(h).sum() / h.shape[0]),
        "integer division": lambda h: _mask(h).sum() // h.shape[1],
        "returns the mask": lambda h: _mask(h),
        "1-element array": lambda h: np.array([_mask(h).mean()]),
        "fraction of units with any zero": lambda h: float(np.mean(np.any(h == 0, axis=0))),
        "np.isclose tolerance": lambda h: float(np.mean(np.all(np.isclose(h, 0), axis=0))),
        "bool: any unit dead": lambda h: bool(_mask(h).any()),
        "modifies h": _fraction_that_modifies,
        "returns None": lambda h: None,
        "returns a string": lambda h: f"{float(_mask(h).mean()):.3f}",
        "Fraction": lambda h: Fraction(int(_mask(h).sum()), h.shape[1]),
        "hard-codes the visible answer": lambda h: 1 / 3,
        # tricks
        "trick: lying np.float64 subclass around the sparsity": lambda h: LyingFloat64(np.mean(h == 0)),
        "trick: lying float subclass around the sparsity": lambda h: LyingFloat(np.mean(h == 0)),
        "trick: right only on the first read": lambda h: RightOnce(float(_mask(h).mean()), 0.0),
    },
    right={
        "float(np.mean(mask))": lambda h: float(np.mean(_mask(h))),
        "np.mean of the mask (np.float64)": lambda h: np.mean(_mask(h)),
        "sum / n_units": lambda h: _mask(h).sum() / h.shape[1],
        "via the notebook's dead_unit_mask": _fraction_via_global,
        "np.float32 result": lambda h: np.float32(_mask(h).sum()) / np.float32(h.shape[1]),
        "count_nonzero": lambda h: np.count_nonzero(np.count_nonzero(h, axis=0) == 0) / h.shape[1],
    },
)


# -------------------------------------------------------------------------------------- born_dead_probability
def _monte_carlo(width, depth):
    rng = np.random.default_rng(0)
    return float(np.mean(rng.binomial(depth, 0.5**width, 20000) > 0))


def _born_dead_overflows(width, depth):
    return 1 - (1 - 1 / 2.0 ** (2**width)) ** depth if width > 30 else 1 - (1 - 2.0**-width) ** depth


def _born_dead_nan_for_wide(width, depth):
    return float("nan") if width > 30 else 1 - (1 - 2.0**-width) ** depth


_VISIBLE = {(2, 5): 0.7626953125, (1, 1): 0.5}


# correct styles
def _loop_product(width, depth):
    survive = 1.0
    for _ in range(depth):
        survive *= 1 - 0.5**width
    return 1 - survive


def _first_dead_layer_sum(width, depth):
    p = 2.0**-width
    return sum(p * (1 - p) ** k for k in range(depth))


CASES["born_dead_probability"] = Cases(
    wrong={
        "2.0**-width**depth (precedence)": lambda w, d: 2.0 ** -(w**d),
        "every layer dead: (2**-w)**d": lambda w, d: (2.0**-w) ** d,
        "depth - 1 exponent": lambda w, d: 1 - (1 - 2.0**-w) ** (d - 1),
        "no complement: (1 - 2**-w)**d": lambda w, d: (1 - 2.0**-w) ** d,
        "0.5 * width": lambda w, d: 0.5 * w,
        "ignores depth: 0.5**width": lambda w, d: 0.5**w,
        "union bound depth * 2**-w": lambda w, d: d * 2.0**-w,
        "width - 1 in the exponent": lambda w, d: 1 - (1 - 2.0 ** -(w - 1)) ** d,
        "one unit per layer: 1 - 0.5**d": lambda w, d: 1 - 0.5**d,
        "all units independent: 1 - 0.5**(w*d)": lambda w, d: 1 - 0.5 ** (w * d),
        "linear in depth: 1 - (1 - 2**-w) * d": lambda w, d: 1 - (1 - 2.0**-w) * d,
        "1 / width": lambda w, d: 1 - (1 - 1 / 2 / w) ** d,
        "Monte Carlo estimate": _monte_carlo,
        "float32 arithmetic": lambda w, d: (
            np.float32(1) - (np.float32(1) - np.float32(2.0**-w)) ** np.float32(d)
        ),
        "returns a 1-element array": lambda w, d: np.array([1 - (1 - 2.0**-w) ** d]),
        "returns a Fraction": lambda w, d: 1 - (1 - Fraction(1, 2**w)) ** d,
        "returns None": lambda w, d: None,
        "raises OverflowError for wide layers": _born_dead_overflows,
        "NaN for wide layers": _born_dead_nan_for_wide,
        "clipped complement for wide layers": lambda w, d: -0.5 if w > 50 else 1 - (1 - 2.0**-w) ** d,
        "increases with width": lambda w, d: 1 - (1 - 2.0**-w) ** d if w <= 12 or d < 50 else 0.9,
        "hard-codes the visible answers": lambda w, d: _VISIBLE.get((w, d), 0.5),
        # tricks
        "trick: lying np.float64 subclass, ignores depth": lambda w, d: LyingFloat64(0.5**w),
        "trick: lying float subclass, ignores depth": lambda w, d: LyingFloat(0.5**w),
        "trick: right only on the first read": lambda w, d: RightOnce(1 - (1 - 2.0**-w) ** d, 0.5),
    },
    right={
        "plain float formula": lambda w, d: 1 - (1 - 2.0**-w) ** d,
        "expm1/log1p": lambda w, d: float(-np.expm1(d * np.log1p(-(2.0**-w)))),
        "np.float64 result": lambda w, d: np.float64(1) - (1 - np.float64(0.5) ** w) ** d,
        "exact Fraction then float": lambda w, d: float(1 - (1 - Fraction(1, 2**w)) ** d),
        "loop product": _loop_product,
        "sum over the first dead layer": _first_dead_layer_sum,
        "math.pow and ldexp": lambda w, d: 1 - math.pow(1 - math.ldexp(1, -w), d),
        "exp of log": lambda w, d: 1 - math.exp(d * math.log(1 - 2**-w)),
    },
)
