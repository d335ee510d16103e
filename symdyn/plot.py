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


def plot_stability_regions(
    methods: Sequence,
    path: str | os.PathLike,
    window: tuple[float, float, float, float] = (-5.0, 3.0, -4.0, 4.0),
    marks: dict[str, np.ndarray] | None = None,
    title: str = "Stability regions |ζ(z)| ≤ 1",
) -> None:
    """The stability regions of several integrators on one figure, the imaginary axis marked.

    `marks` maps labels to arrays of z to plot on top (h·λ̂ of an audit, preimages).
    """
    from .stability import Characteristic, region_summary

    plt = _pyplot()
    x0, x1, y0, y1 = window
    x, y = np.meshgrid(np.linspace(x0, x1, 601), np.linspace(y0, y1, 601))
    fig, ax = plt.subplots(figsize=(7, 6.5), constrained_layout=True)
    handles = []
    for i, method in enumerate(methods):
        characteristic = Characteristic(method)
        color = f"C{i}"
        amplification = characteristic.amplification(x + 1j * y)
        ax.contourf(x, y, amplification, levels=[0, 1], colors=[color], alpha=0.18)
        locus = characteristic.boundary_locus(8192)
        locus = locus[(locus.real >= x0) & (locus.real <= x1) & (locus.imag >= y0) & (locus.imag <= y1)]
        summary = region_summary(method)
        reach = "∞" if np.isinf(summary.reach) else f"{summary.reach:.3f}"
        (handle,) = ax.plot(
            locus.real,
            locus.imag,
            ".",
            ms=1.6,
            color=color,
            zorder=4,
            label=f"{summary.method} (reaches Re z = {reach})",
        )
        handles.append(handle)
    for j, (label, z) in enumerate((marks or {}).items()):
        z = np.asarray(z).ravel()
        handles.append(
            ax.scatter(z.real, z.imag, marker="x", s=60, color=f"C{len(handles) + j}", label=label, zorder=5)
        )
    ax.axvline(0, color="black", lw=0.8, ls="--", zorder=3)
    ax.axhline(0, color="black", lw=0.4)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("Re z = Re hλ")
    ax.set_ylabel("Im z")
    ax.legend(handles=handles, loc="lower left", fontsize=8, markerscale=6)
    ax.set_title(title)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_audit(report, names: Sequence[str], path: str | os.PathLike) -> None:
    """An audit: h·λ̂ over the method's stability region, and the coarse and fine trajectories."""
    from .stability import Characteristic

    plt = _pyplot()
    z = report.h * report.eigenvalues.ravel()
    extent = max(4.0, 1.2 * float(np.abs(z).max()))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    x, y = np.meshgrid(np.linspace(-extent, extent, 501), np.linspace(-extent, extent, 501))
    amplification = Characteristic(report.method).amplification(x + 1j * y)
    left.contourf(x, y, amplification, levels=[0, 1], colors=["C0"], alpha=0.2)
    left.contour(x, y, amplification, levels=[1], colors=["C0"], linewidths=1)
    flags = (report.hidden_instability | report.made_unstable).ravel()
    left.scatter(z[~flags].real, z[~flags].imag, c="green", marker="o", label="consistent", zorder=3)
    left.scatter(z[flags].real, z[flags].imag, c="red", marker="x", s=70, label="artifact", zorder=3)
    left.axvline(0, color="black", lw=1)
    left.set_aspect("equal")
    left.set_xlabel("Re hλ̂")
    left.set_ylabel("Im hλ̂")
    left.set_title(f"{report.method} at h = {report.h:g}: h·λ̂ over the stability region")
    left.legend(loc="lower left")
    steps = np.arange(report.coarse.shape[1]) * report.h
    for i, name in enumerate(names):
        right.plot(steps, report.coarse[0, :, i], "o-", ms=3, color=f"C{i}", label=f"{name}, step h")
        right.plot(steps, report.fine[0, :, i], "--", color=f"C{i}", label=f"{name}, step h/refine")
    right.set_xlabel("t − t₀")
    right.set_title(f"from point 0: relative gap {report.gap[0]:.2e}")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_discovery(
    t: np.ndarray,
    data: np.ndarray,
    simulated: np.ndarray,
    names: Sequence[str],
    losses: np.ndarray,
    path: str | os.PathLike,
    title: str = "",
) -> None:
    """The data against the discovered model run from the same start (left) and the loss per Adam step (right)."""
    plt = _pyplot()
    shown = min(len(names), 6)
    fig = plt.figure(figsize=(11 if losses.size else 8, max(3.0, 1.6 * shown)), constrained_layout=True)
    grid = fig.add_gridspec(shown, 2 if losses.size else 1, width_ratios=(1.4, 1) if losses.size else None)
    for i in range(shown):
        ax = fig.add_subplot(grid[i, 0])
        ax.plot(t, data[:, i], lw=1.6, color="0.7", label="data")
        ax.plot(t, simulated[:, i], lw=0.9, color=f"C{i}", label="discovered model")
        ax.set_ylabel(names[i])
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(loc="upper right", fontsize="small")
        if i < shown - 1:
            ax.tick_params(labelbottom=False)
    ax.set_xlabel("t")
    if losses.size:
        ax = fig.add_subplot(grid[:, 1])
        ax.semilogy(np.arange(1, losses.size + 1), losses, lw=0.8)
        window = max(1, losses.size // 50)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.semilogy(np.arange(window, losses.size + 1), smooth, lw=1.6, color="C3", label=f"mean of {window}")
        ax.set_xlabel("Adam step")
        ax.set_ylabel("trajectory loss (scaled)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
