"""The shipped data sets are exactly what data/make_data.py makes, and match scikit-learn's algorithm."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import numpy as np

from rectified import data

REPO = Path(__file__).resolve().parent.parent


def test_make_data_rewrites_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    shutil.copy2(REPO / "data" / "make_data.py", tmp_path / "make_data.py")
    runpy.run_path(str(tmp_path / "make_data.py"), run_name="__main__")
    for name in ("circles.csv", "xor.csv"):
        assert (tmp_path / name).read_bytes() == (REPO / "data" / name).read_bytes(), name


def test_circles_match_scikit_learns_published_values() -> None:
    # make_circles(n_samples=1000, noise=0.1, random_state=1), values from research/facts.md §4.1
    x, y = data.load_circles()
    assert x.shape == (1000, 2) and y.shape == (1000,)
    np.testing.assert_allclose(
        x[:3], [[0.927877, -0.045217], [-0.543032, -0.754447], [0.924653, -0.714925]], atol=1e-6
    )
    assert y[:10].tolist() == [1, 1, 0, 0, 0, 1, 0, 1, 0, 0]
    assert y.sum() == 500


def test_xor_is_the_truth_table() -> None:
    x, y = data.load_xor()
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]


def test_scaling_maps_each_column_onto_minus_one_to_one() -> None:
    x, _ = data.load_circles()
    scaled = data.scale_to_unit_box(x)
    np.testing.assert_allclose(scaled.min(axis=0), [-1, -1])
    np.testing.assert_allclose(scaled.max(axis=0), [1, 1])
