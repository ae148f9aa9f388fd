"""Load the data sets shipped in the repository's data/ folder."""

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (m, 2) as float64 and labels (m,) as int from data/<name>.csv."""
    table = np.loadtxt(DATA_DIR / f"{name}.csv", delimiter=",", skiprows=1)
    return table[:, :2], table[:, 2].astype(int)


def load_circles() -> tuple[np.ndarray, np.ndarray]:
    """The two-circles set of Brownlee's tutorial "How to Fix the Vanishing Gradients Problem Using the ReLU"
    (Machine Learning Mastery): make_circles(n_samples=1000, noise=0.1, random_state=1), label 1 on the inner
    circle."""
    return _load("circles")


def load_circles600() -> tuple[np.ndarray, np.ndarray]:
    """The two-circles set of seed 000, OpenGenus' "ReLU6 in ML": make_circles(n_samples=600, noise=0.1,
    random_state=1), label 1 on the inner circle."""
    return _load("circles600")


def load_xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points with inputs in {0, 1}."""
    return _load("xor")


def scale_to_unit_box(x: np.ndarray) -> np.ndarray:
    """Scale each column to [-1, 1], as the seed's MinMaxScaler(feature_range=(-1, 1)) does."""
    low, high = x.min(axis=0), x.max(axis=0)
    return 2 * (x - low) / (high - low) - 1
