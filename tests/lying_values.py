"""Values that lie when compared, or look right only the first time they are read (GRADING.md, section 6).

The graders' tests wrap wrong answers in them: each must still fail, since the judge sees only the data the
kernel reported. tests/tricks.py holds the tricks that act on the kernel itself.
"""

from __future__ import annotations

import numpy as np


class AlwaysEqual(np.ndarray):
    """An array that claims to equal anything, and for which every NumPy function and ufunc answers True."""

    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(self), dtype=bool)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True


class LyingFloat64(np.float64):
    """An np.float64 that claims to equal, to be close to, and to be on either side of anything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = np.float64.__hash__

    def __lt__(self, other):
        return True

    def __le__(self, other):
        return True

    def __gt__(self, other):
        return True

    def __ge__(self, other):
        return True

    def __sub__(self, other):
        return np.float64(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return np.float64(0.0)


class LyingFloat(float):
    """A float that equals anything and whose differences are all zero."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__


class RightOnce:
    """Reads as `right` the first time NumPy or float() reads it, and as `wrong` from then on."""

    def __init__(self, right, wrong):
        self.right, self.wrong, self.reads = right, wrong, 0
        self.shape, self.dtype = np.shape(right), np.asarray(right).dtype

    def _next(self):
        self.reads += 1
        return self.right if self.reads == 1 else self.wrong

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._next(), dtype=dtype)

    def __float__(self):
        return float(self._next())

    def __len__(self):
        return len(np.atleast_1d(self.right))

    def __eq__(self, other):
        return True
