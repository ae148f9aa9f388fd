"""Plotting helpers that give every course figure a title, labelled axes and a legend."""

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_functions(
    functions: dict[str, Callable[[np.ndarray], np.ndarray]],
    title: str,
    x: np.ndarray | None = None,
    ylabel: str = "f(x)",
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Plot several functions of one variable on shared axes."""
    x = np.linspace(-4, 4, 401) if x is None else x
    ax = ax or plt.figure(figsize=(6, 3.5)).gca()
    for label, f in functions.items():
        ax.plot(x, f(x), label=label)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    return label_axes(ax, title, "x", ylabel)


def label_axes(ax: plt.Axes, title: str, xlabel: str, ylabel: str) -> plt.Axes:
    """Set the title, both axis labels and a legend."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return ax


def plot_curves(
    curves: dict[str, Sequence[float]], title: str, xlabel: str, ylabel: str, logy: bool = False
) -> plt.Axes:
    """Plot named series against their index (loss curves, per-layer norms)."""
    ax = plt.figure(figsize=(6, 3.5)).gca()
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=label)
    if logy:
        ax.set_yscale("log")
    return label_axes(ax, title, xlabel, ylabel)
