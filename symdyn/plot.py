"""matplotlib figures, imported only where a figure is drawn."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_trajectory(
    t: np.ndarray, xs: np.ndarray, names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """Each state over time (left) and the phase portrait of the first two or three (right), to `path`."""
    plt = _pyplot()
    shown = min(len(names), 6)
    fig = plt.figure(figsize=(11, max(3.0, 1.6 * shown)), constrained_layout=True)
    grid = fig.add_gridspec(shown, 2, width_ratios=(1.4, 1))
    for i in range(shown):
        ax = fig.add_subplot(grid[i, 0])
        ax.plot(t, xs[:, i], lw=1.0, color=f"C{i}")
        ax.set_ylabel(names[i])
        ax.grid(alpha=0.3)
        if i < shown - 1:
            ax.tick_params(labelbottom=False)
    ax.set_xlabel("t")
    if len(names) >= 3:
        phase = fig.add_subplot(grid[:, 1], projection="3d")
        phase.plot(xs[:, 0], xs[:, 1], xs[:, 2], lw=0.6)
        phase.set_xlabel(names[0])
        phase.set_ylabel(names[1])
        phase.set_zlabel(names[2])
    elif len(names) == 2:
        phase = fig.add_subplot(grid[:, 1])
        phase.plot(xs[:, 0], xs[:, 1], lw=0.8)
        phase.set_xlabel(names[0])
        phase.set_ylabel(names[1])
        phase.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
