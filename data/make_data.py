"""Make the course's data sets: `python data/make_data.py` rewrites data/*.csv byte for byte.

Both circles files reproduce scikit-learn's make_circles exactly (same algorithm, same RandomState
stream), so the course needs no scikit-learn:

* circles.csv is make_circles(n_samples=1000, noise=0.1, random_state=1), the data set of Jason
  Brownlee's Machine Learning Mastery tutorial "How to Fix the Vanishing Gradients Problem Using the
  ReLU", which notebooks 05 and 06 reproduce (first 500 points train, last 500 test);
* circles600.csv is make_circles(n_samples=600, noise=0.1, random_state=1), the data set of the
  OpenGenus article "ReLU6 in ML" (seed 000), which notebook 05 also reruns (first 500 train, last 100
  test).

xor.csv is the XOR truth table.
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CIRCLES_SEED = 1


def make_circles(n_samples: int, noise: float | None, seed: int, factor: float = 0.8):
    """Two concentric circles, label 1 for the inner one, as scikit-learn draws them."""
    rng = np.random.RandomState(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    angle_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    angle_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    x = np.vstack(
        [
            np.append(np.cos(angle_outer), factor * np.cos(angle_inner)),
            np.append(np.sin(angle_outer), factor * np.sin(angle_inner)),
        ]
    ).T
    y = np.hstack([np.zeros(n_outer, dtype=int), np.ones(n_inner, dtype=int)])
    order = np.arange(n_samples)
    rng.shuffle(order)  # scikit-learn shuffles first, then adds noise, from one stream
    x, y = x[order], y[order]
    if noise is not None:
        x = x + rng.normal(scale=noise, size=x.shape)
    return x, y


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write features and labels with every float's shortest exact repr."""
    lines = ["x1,x2,y"]
    lines += [f"{a!r},{b!r},{int(label)}" for (a, b), label in zip(x.tolist(), y, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    """Write circles.csv, circles600.csv and xor.csv beside this script."""
    for name, n_samples in (("circles", 1000), ("circles600", 600)):
        x, y = make_circles(n_samples, noise=0.1, seed=CIRCLES_SEED)
        write_csv(HERE / f"{name}.csv", x, y)
    xor_x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    write_csv(HERE / "xor.csv", xor_x, np.array([0, 1, 1, 0]))


if __name__ == "__main__":
    main()
