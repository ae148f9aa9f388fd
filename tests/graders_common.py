"""What the graders' tests of every notebook share: a table of implementations, and the tests run on it.

Each tests/test_graders_<assignment>.py fills a table CASES: for each graded function, the wrong
implementations a student plausibly writes (each must make the function's test cell, hidden tests included,
fail) and correct implementations in other styles (each must pass), keyed by what each one gets wrong or how
it is written (../shared/GRADING.md, section 5). Its class TestGradedFunctions, a GradedFunctionTests with
that assignment and table, runs the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt
import pytest
from cells import autograded_cell_sources, passes, run_whole_cell

Implementation = Callable[..., object]
Implementations = Mapping[str, Implementation] | Sequence[Implementation]


class Cases(NamedTuple):
    """The wrong implementations of one graded function, and its correct ones in other styles."""

    wrong: Implementations
    right: Implementations


Table = Mapping[str, Cases]
"""Graded function name -> its cases; the function's test cell is named test_<name>."""


def stable_sigmoid(x: npt.ArrayLike) -> np.ndarray:
    """The logistic function without overflow: exp(-|x|) on both sides of zero."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def labelled(implementations: Implementations) -> list[tuple[str, Implementation]]:
    """(label, implementation) pairs: a mapping's keys, or else position and the defining function's name."""
    if isinstance(implementations, Mapping):
        return list(implementations.items())
    return [
        (f"{index}-{impl.__qualname__.split('.')[0]}", impl) for index, impl in enumerate(implementations)
    ]


def implementation_params(table: Table, wrong: bool) -> list:
    """One pytest.param(name, implementation) per wrong (or correct) implementation, with id name-label."""
    return [
        pytest.param(name, impl, id=f"{name}-{label}")
        for name, cases in table.items()
        for label, impl in labelled(cases.wrong if wrong else cases.right)
    ]


class GradedFunctionTests:
    """The tests every notebook's table gets; a subclass named Test... sets assignment and cases."""

    assignment: ClassVar[str]
    cases: ClassVar[Table]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize each test below (pytest calls this per test) by function name and implementation."""
        for kind in ("wrong", "right"):
            if kind in metafunc.fixturenames:
                metafunc.parametrize(("name", kind), implementation_params(self.cases, wrong=kind == "wrong"))
                return
        if "name" in metafunc.fixturenames:
            metafunc.parametrize("name", list(self.cases))

    @pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a wrong one may warn (0/0, overflow) as it fails
    def test_wrong_implementation_fails(self, name: str, wrong: Implementation) -> None:
        """Each wrong implementation makes its function's test cell fail."""
        assert not passes(self.assignment, f"test_{name}", **{name: wrong}), (
            f"test_{name} passes a wrong {name}"
        )

    def test_correct_style_passes(self, name: str, right: Implementation) -> None:
        """Each correct implementation in another style passes its function's test cell."""
        assert passes(self.assignment, f"test_{name}", **{name: right}), (
            f"test_{name} rejects a correct {name}"
        )

    def test_solution_passes_its_own_test_cell(self, name: str) -> None:
        """The reference solution passes the test cell of each graded function."""
        assert passes(self.assignment, f"test_{name}"), f"the solution's {name} fails test_{name}"

    def test_plain_nbgrader_runs_the_whole_cell_with_the_solution(self, name: str) -> None:
        """Probe and judge in one namespace, as plain nbgrader runs the cell: the solution passes there too."""
        run_whole_cell(self.assignment, f"test_{name}")

    def test_every_graded_function_has_a_test_cell(self) -> None:
        """The table names exactly the functions that have an autograded test cell."""
        assert sorted(autograded_cell_sources(self.assignment)) == sorted(
            f"test_{name}" for name in self.cases
        )
