"""S-MNN standalone validation (Chen et al., Section 5.1 and Appendix B.1, Table 3).

The six linear ODEs of Appendix B.1, from their model files, solved by S-MNN on
T = 1000 points spaced 0.01 in float64, against their closed forms (the `exact`
quantity of each file and its derivatives). Each model is solved in its
first-order form, one variable per derivative below the model's order, as the
paper does, with R = 3: one order above the paper's R = 2, so that the Taylor
smoothness constraints hold to one more order. `--order 2` reproduces the paper's
row.

    python examples/smnn_validation.py [--order 3] [--method sequential] [--out out]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np
import sympy as sp

import symdyn
from symdyn import smnn

jax.config.update("jax_enable_x64", True)
HERE = Path(__file__).resolve().parent
PROBLEMS = {  # file, Table 3 letter, the paper's S-MNN entries for y, y', y''
    "rc_circuit": ("R", (4.8e-12, 4.8e-12, 2.2e-07)),
    "population_growth": ("P", (9.4e-12, 9.4e-12, 9.6e-08)),
    "language_death": ("L", (2.6e-11, 2.6e-11, 7.1e-07)),
    "harmonic_oscillator": ("H", (9.5e-08, 7.7e-08, 5.1e-07)),
    "damped_harmonic_oscillator": ("D", (2.1e-07, 2.3e-07, 4.0e-07)),
    "third_order": ("T", (1.0e-09, 6.8e-10, 4.3e-09)),
}


def relative_mse(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared error of the data standardized by the truth's mean and spread: MSE / Var(truth)."""
    return float(np.mean((estimate - truth) ** 2) / np.var(truth))


def validate(name: str, order: int, method: str, grid: np.ndarray) -> tuple[list[float], np.ndarray, list[np.ndarray]]:
    model = symdyn.load(HERE / f"{name}.sdyn")
    solution = smnn.template(model.first_order(), grid, order=order).solve(method=method)
    y = np.asarray(solution[0, :, 0])  # the first variable, y, and its derivatives up to R
    exact = model.observed[0].expression.xreplace(model.defaults)
    truths = [
        np.broadcast_to(sp.lambdify(model.time, sp.diff(exact, model.time, k), "numpy")(grid), grid.shape)
        for k in range(3)
    ]
    return [relative_mse(y[:, k], truths[k]) for k in range(3)], y, truths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--order", type=int, default=3, help="the derivative order R of the solver (at least 2)")
    parser.add_argument("--method", default="sequential", choices=["sequential", "parallel", "auto"])
    parser.add_argument("--out", type=Path, default=Path("out"), help="where to write the figure")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    grid = 0.01 * np.arange(1000)

    results = {name: validate(name, args.order, args.method, grid) for name in PROBLEMS}
    letters = [PROBLEMS[name][0] for name in PROBLEMS]
    print(f"Relative MSE against the closed forms, T = 1000, s = 0.01, float64, R = {args.order} ({args.method})")
    print(f"{'':<6}{'':<10}" + "".join(f"{letter:>11}" for letter in letters))
    met = True
    for k, label in enumerate(("y", "y'", "y''")):
        ours = [results[name][0][k] for name in PROBLEMS]
        paper = [PROBLEMS[name][1][k] for name in PROBLEMS]
        met &= all(o <= p for o, p in zip(ours, paper))
        print(f"{label:<6}{'symdyn':<10}" + "".join(f"{value:>11.1e}" for value in ours))
        print(f"{'':<6}{'paper':<10}" + "".join(f"{value:>11.1e}" for value in paper))
    print(f"every entry at or below the paper's S-MNN entry: {met}")

    from symdyn.plot import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(3, 6, figsize=(18, 7.5), constrained_layout=True, sharex=True)
    labels = ("y", "y'", "y''")
    for column, name in enumerate(PROBLEMS):
        _, y, truths = results[name]
        for k in range(3):
            ax = axes[k, column]
            ax.plot(grid, truths[k], color="black", lw=2.5, alpha=0.4, label="closed form")
            ax.plot(grid, y[:, k], color="C3", lw=1, ls="--", label="S-MNN")
            ax.set_title(f"{name.replace('_', ' ')}: {labels[k]}", fontsize=9)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    path = args.out / "smnn_validation.png"
    fig.savefig(path, dpi=100)
    print(f"figure -> {path}")


if __name__ == "__main__":
    main()
