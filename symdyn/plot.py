"""matplotlib figures, imported only where a figure is drawn."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def pyplot():
    """matplotlib's pyplot on its file-writing backend (no screen needed), for figures of one's own."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_trajectory(
    t: np.ndarray, xs: np.ndarray, names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """Each state over time (left) and the phase portrait of the first two or three (right), to `path`.

    `xs` is one trajectory (T, n) or several (M, T, n), drawn over each other (the first five).
    """
    plt = pyplot()
    several = xs.ndim == 3
    xs = xs[:5] if several else xs[None]
    shown = min(len(names), 6)
    fig = plt.figure(figsize=(11, max(3.0, 1.6 * shown)), constrained_layout=True)
    grid = fig.add_gridspec(shown, 2, width_ratios=(1.4, 1))
    for i in range(shown):
        ax = fig.add_subplot(grid[i, 0])
        for m, x in enumerate(xs):
            ax.plot(t, x[:, i], lw=1.0, color=f"C{m if several else i}", label=f"trajectory {m}" if i == 0 else None)
        ax.set_ylabel(names[i])
        if several and i == 0:
            ax.legend(fontsize=7, loc="upper right")
        ax.grid(alpha=0.3)
        if i < shown - 1:
            ax.tick_params(labelbottom=False)
    ax.set_xlabel("t")
    if len(names) >= 3:
        phase = fig.add_subplot(grid[:, 1], projection="3d")
        for x in xs:
            phase.plot(x[:, 0], x[:, 1], x[:, 2], lw=0.6)
        phase.set_xlabel(names[0])
        phase.set_ylabel(names[1])
        phase.set_zlabel(names[2])
    elif len(names) == 2:
        phase = fig.add_subplot(grid[:, 1])
        for x in xs:
            phase.plot(x[:, 0], x[:, 1], lw=0.8)
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

    plt = pyplot()
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

    plt = pyplot()
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
    plt = pyplot()
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


def plot_pareto(found, path: str | os.PathLike) -> None:
    """Error against number of terms for each equation (the Pareto front of `threshold="auto"`), training and
    held-out, with the chosen model circled."""
    plt = pyplot()
    equations = list(dict.fromkeys(point.group for point in found.pareto))
    fig, axes = plt.subplots(1, len(equations), figsize=(3.6 * len(equations), 3.2), squeeze=False)
    for ax, group in zip(axes[0], equations):
        points = sorted((p for p in found.pareto if p.group == group), key=lambda p: p.terms)
        terms = [p.terms for p in points]
        ax.semilogy(terms, [p.held_out_error for p in points], "o-", ms=3, label="held out")
        ax.semilogy(terms, [p.training_error for p in points], "s--", ms=3, lw=0.8, label="training")
        for p in points:
            if p.chosen:
                ax.plot(p.terms, p.held_out_error, "o", ms=11, mfc="none", color="C3", label="chosen")
        ax.set_title(found.terms[group].split(":")[0])
        ax.set_xlabel("terms")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("residual rms (scaled)")
    axes[0, 0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_rollouts(
    evaluations: dict, truth: np.ndarray, names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """The seed's Figure 1 row: one test trajectory against each network's rollout (its first two states; left out
    for fields on a grid, which `plot_space_time` draws), the mean relative error R_e(θ, t) over time, and the
    distribution of R_e at the final time."""
    plt = pyplot()
    on_grid = truth.ndim > 2
    fig, axes = plt.subplots(1, 2 if on_grid else 3, figsize=(10 if on_grid else 15, 4.2), constrained_layout=True)
    curve, final = axes[-2:]
    if not on_grid:
        orbit, j = axes[0], 1 if truth.shape[-1] > 1 else 0
        orbit.plot(truth[:, 0], truth[:, j], color="black", lw=2.0, label="truth")
        span = np.ptp(truth[:, [0, j]], axis=0).max()
        low, high = truth[:, [0, j]].min() - span, truth[:, [0, j]].max() + span
        for i, (label, evaluation) in enumerate(evaluations.items()):
            xs = np.clip(evaluation.predicted[0], low, high)
            orbit.plot(xs[:, 0], xs[:, j], color=f"C{i}", lw=0.7, alpha=0.8, label=label)
        orbit.set(xlabel=names[0], ylabel=names[j], xlim=(low, high), ylim=(low, high), title="a test trajectory")
        orbit.legend(fontsize=8)
    for i, (label, evaluation) in enumerate(evaluations.items()):
        with np.errstate(all="ignore"):
            mean = np.mean(evaluation.relative_error, axis=0)
        curve.plot(evaluation.t, np.where(np.isfinite(mean), mean, np.nan), color=f"C{i}", label=label)
    curve.set(yscale="log", xlabel="t", ylabel="mean R_e(θ, t)", title="relative error over time")
    curve.grid(alpha=0.3, which="both")
    if on_grid:
        curve.legend(fontsize=8)
    finals = [np.clip(e.final_error, 1e-8, 1e30) for e in evaluations.values()]
    final.boxplot(finals, showfliers=True)
    final.set_xticks(range(1, len(finals) + 1), list(evaluations), rotation=20, fontsize=8)
    final.set(yscale="log", ylabel="R_e(θ, T_test)", title="final relative error (overflow at 1e30)")
    final.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_space_time(
    evaluations: dict,
    truth: np.ndarray,
    coordinate: np.ndarray,
    coordinate_name: str,
    path: str | os.PathLike,
    title: str = "",
) -> None:
    """The seed's Figure 1, bottom row: the first test trajectory's first field `truth` (T, n_fields, points) on a
    1-D grid as a space-time image, each network's rollout of it above its error, on one colour scale."""
    plt = pyplot()
    t = next(iter(evaluations.values())).t
    limit = float(np.max(np.abs(truth[:, 0])))
    columns = 1 + len(evaluations)
    fig, axes = plt.subplots(2, columns, figsize=(3.4 * columns, 6.4), squeeze=False, constrained_layout=True)
    panels = {(0, 0): ("truth", truth[:, 0])}
    for k, (label, evaluation) in enumerate(evaluations.items(), start=1):
        with np.errstate(all="ignore"):
            model = np.clip(evaluation.predicted[0, :, 0], -10 * limit, 10 * limit)
        panels[0, k], panels[1, k] = (label, model), (f"{label}: error", model - truth[:, 0])
    axes[1, 0].axis("off")
    for (row, column), (name, values) in panels.items():
        ax = axes[row, column]
        image = ax.pcolormesh(coordinate, t, values, shading="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set(xlabel=coordinate_name, ylabel="t", title=name)
    fig.colorbar(image, ax=axes[:, -1].tolist(), shrink=0.8)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_conserved_errors(evaluations: dict, path: str | os.PathLike, title: str = "") -> None:
    """The seed's Figure 3 (Appendix C for KS mass): the mean error of each conserved quantity over time, and its
    final distribution; relative, or absolute for a quantity whose true value is zero."""
    plt = pyplot()
    names = next(iter(evaluations.values())).conserved_names
    fig, axes = plt.subplots(len(names), 2, figsize=(11, 3.4 * len(names)), squeeze=False, constrained_layout=True)
    for row, name in enumerate(names):
        curve, final = axes[row]
        for i, (label, evaluation) in enumerate(evaluations.items()):
            with np.errstate(all="ignore"):
                mean = np.mean(evaluation.conserved_error[..., row], axis=0)
            curve.plot(evaluation.t, np.where(np.isfinite(mean), mean, np.nan), color=f"C{i}", label=label)
        kind = "relative" if next(iter(evaluations.values())).conserved_relative[row] else "absolute"
        curve.set(yscale="log", xlabel="t", ylabel=f"mean {kind} error of {name}")
        curve.grid(alpha=0.3, which="both")
        curve.legend(fontsize=8)
        finals = [np.clip(e.conserved_error[:, -1, row], 1e-12, 1e30) for e in evaluations.values()]
        final.boxplot(finals)
        final.set_xticks(range(1, len(finals) + 1), list(evaluations), rotation=20, fontsize=8)
        final.set(yscale="log", ylabel=f"final {kind} error of {name}")
        final.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_training(history: np.ndarray, columns: Sequence[str], path: str | os.PathLike, title: str = "") -> None:
    """Each loss of a training (rows are epochs) on a log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    epochs = np.arange(1, history.shape[0] + 1)
    for i, name in enumerate(columns):
        values = history[:, i]
        if np.any(np.isfinite(values) & (values > 0)):
            ax.plot(epochs, np.where(values > 0, values, np.nan), label=name)
    ax.set(yscale="log", xlabel="epoch", ylabel="loss", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_grid_search(searches: dict, path: str | os.PathLike, title: str = "") -> None:
    """The seed's Figure 2: the validation trajectory loss against λ, the chosen weight circled."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for i, (label, search) in enumerate(searches.items()):
        ax.plot(search.weights, search.validation, "o-", color=f"C{i}", label=label)
        ax.plot(search.best_weight, search.validation[search.best_index], "o", ms=16, mfc="none", color=f"C{i}")
    ax.set(xscale="log", yscale="log", xlabel="λ", ylabel="validation trajectory loss", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_fields(
    t: np.ndarray,
    grid: Sequence[np.ndarray],
    states: np.ndarray,
    field_names: Sequence[str],
    coordinate_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "",
) -> None:
    """One PDE trajectory `(T, n_fields, *grid)`: a space-time image per field in 1D, four snapshots in 2D."""
    plt = pyplot()
    n_fields = len(field_names)
    if len(grid) == 1:
        fig, axes = plt.subplots(1, n_fields, figsize=(5.5 * n_fields, 4), squeeze=False, constrained_layout=True)
        for i, ax in enumerate(axes[0]):
            image = ax.pcolormesh(grid[0], t, states[:, i], shading="auto", cmap="RdBu_r")
            ax.set_xlabel(coordinate_names[0])
            ax.set_ylabel("t")
            ax.set_title(field_names[i])
            fig.colorbar(image, ax=ax)
    elif len(grid) == 2:
        times = np.linspace(0, len(t) - 1, 4).astype(int)
        fig, axes = plt.subplots(n_fields, 4, figsize=(14, 3.4 * n_fields), squeeze=False, constrained_layout=True)
        for i in range(n_fields):
            for ax, k in zip(axes[i], times):
                ax.pcolormesh(grid[0], grid[1], states[k, i].T, shading="auto", cmap="viridis")
                ax.set_aspect("equal")
                ax.set_title(f"{field_names[i]}, t = {t[k]:.3g}")
                ax.set_xlabel(coordinate_names[0])
                ax.set_ylabel(coordinate_names[1])
    else:
        raise ValueError(f"plot_fields draws 1D and 2D grids, not {len(grid)}D")
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_pde_stability(reports: Sequence, methods: Sequence, path: str | os.PathLike) -> None:
    """For each report, the spectrum dt·σ of the linear part on the method's region |ζ(z)| ≤ 1 (shaded)."""
    from .stability import Characteristic

    plt = pyplot()
    fig, axes = plt.subplots(1, len(reports), figsize=(6 * len(reports), 5), squeeze=False, constrained_layout=True)
    for ax, report, method in zip(axes[0], reports, methods):
        z = report.z
        reach = max(abs(z.real).max(), abs(z.imag).max(), 4.0) * 1.1
        x, y = np.meshgrid(np.linspace(-reach, reach / 4, 801), np.linspace(-reach / 2, reach / 2, 401))
        with np.errstate(over="ignore", invalid="ignore"):
            amplification = Characteristic(method).amplification(x + 1j * y)
        ax.contourf(x, y, amplification, levels=[0, 1], colors=["C0"], alpha=0.2)
        ax.scatter(z.real, z.imag, s=8, color="C3", label="dt·σ(L)")
        ax.axvline(0, color="black", lw=0.8, ls="--")
        ax.set_xlabel("Re z")
        ax.set_ylabel("Im z")
        verdict = "stable" if report.stable else "unstable"
        ax.set_title(f"{report.method}, dt = {report.dt:g}: {verdict} (max |ζ| = {report.amplification:.3g})")
        ax.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"{reports[0].model}: the linear part's spectrum on each method's stability region")
    fig.savefig(path, dpi=120)
    plt.close(fig)
