"""Demonstration 1 of Lu & Tsai: the integrator in the training loop decides what a damped oscillator becomes.

Data: the damped oscillator of examples/damped_oscillator.sdyn (α = 0.1, ω = 2),
integrated finely and sampled at H = 1. A continuous linear Â is fitted by gradient
descent through each integrator at h = 1, as a neural-ODE loop would fit it. The
inverse problem (symdyn.stability.preimages) predicts every eigenvalue such a fit
can reach with zero loss; the learned ones must be among them.

    python examples/damped_oscillator_artifacts.py [--out out] [--steps 3000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _linear_fits import fit, linear, sampled_damped_oscillator, sampled_map, upper

from symdyn.integrators import integrate
from symdyn.stability import Characteristic, preimages

jax.config.update("jax_enable_x64", True)
H = 1.0
SAMPLES = 20
METHODS = ("euler", "rk4", "implicit_euler", "implicit_midpoint")


def fit_through(method: str, data: np.ndarray, start: np.ndarray, steps: int) -> tuple[np.ndarray, float]:
    """Â minimising the one-step loss of `method` at step H over all samples.

    Each sample starts a rollout of one step (the short rollouts of Janvier et al.); a
    zero loss means R(HÂ) equals the sampled map: the inverse problem's condition.
    """
    data = jnp.asarray(data)

    def loss(a):
        step = jax.vmap(lambda x: integrate(linear(a), x, 0.0, H, 1, method=method)[-1])
        return jnp.mean((step(data[:-1]) - data[1:]) ** 2)

    return fit(loss, start, steps)


def matched(learned: complex, candidates) -> tuple[complex, float]:
    """The predicted eigenvalue (or its conjugate: Â is real) nearest to `learned`, and the distance."""
    options = [c.eigenvalue for c in candidates] + [c.eigenvalue.conjugate() for c in candidates]
    best = min(options, key=lambda c: abs(c - learned))
    return best, abs(best - learned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out"), help="where to write the figure")
    parser.add_argument("--steps", type=int, default=3000, help="Adam steps per fit")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    data = sampled_damped_oscillator(H, SAMPLES)
    mu = upper(np.linalg.eigvals(sampled_map(data)))
    print(f"data: damped oscillator sampled at H = {H}; multiplier μ = {mu:.6f}, log(μ)/H = {np.log(mu) / H:.6f}")
    start = np.array([[0.0, -2.0], [2.0, 0.0]])  # a prior that knows the frequency, not the damping
    learned = {}
    print(f"\n{'method':<18}{'learned λ̂':<26}{'predicted λ̂':<26}{'|difference|':>13}{'loss':>11}  finding")
    for method in METHODS:
        candidates = preimages(method, mu, H)
        a, loss = fit_through(method, data, start, args.steps)
        eigenvalue = upper(np.linalg.eigvals(a))
        predicted, distance = matched(eigenvalue, candidates)
        finding = "anti-damped" if eigenvalue.real > 0 else "damped"
        print(f"{method:<18}{eigenvalue:<26.6f}{predicted:<26.6f}{distance:>13.2e}{loss:>11.1e}  {finding}")
        learned[method] = a

    # RK4 has four zero-loss solutions: one real Â per preimage, with the data's own eigenvectors.
    multipliers, vectors = np.linalg.eig(sampled_map(data))
    vectors = vectors[:, np.argsort(-multipliers.imag)]  # the eigenvector of μ (Im > 0) first
    print("\nRK4's four global minima (Â with the data's eigenvectors and a preimage as eigenvalue):")
    rk4_minima = []
    for candidate in preimages("rk4", mu, H):
        z = candidate.eigenvalue
        a = np.real(vectors @ np.diag([z, z.conjugate()]) @ np.linalg.inv(vectors))
        xs = integrate(linear(a), data[0], 0.0, H, SAMPLES, method="rk4")
        loss = float(jnp.mean((xs - data) ** 2))  # the whole trajectory, not just one step
        a_refit, refit_loss = fit_through("rk4", data, a + 0.05 * np.array([[1.0, -0.5], [0.3, 1.0]]), args.steps // 3)
        back = upper(np.linalg.eigvals(a_refit))
        flags = ", ".join(
            n
            for f, n in ((candidate.anti_damped, "anti-damped"), (candidate.opposite_rotation, "opposite rotation"))
            if f
        )
        print(
            f"  λ̂ = {z:.6f}: trajectory loss {loss:.1e}; refit from a perturbed start returns to "
            f"{matched(back, [candidate])[0]:.6f} (loss {refit_loss:.1e})  {flags}"
        )
        rk4_minima.append(a)

    from symdyn.plot import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    times = H * np.arange(SAMPLES + 1)
    fine = 100
    for ax, method in zip(axes.ravel()[:4], METHODS):
        a = learned[method]
        coarse = integrate(linear(a), data[0], 0.0, H, SAMPLES, method=method)
        detailed = integrate(linear(a), data[0], 0.0, H / fine, SAMPLES * fine, method=method)
        ax.plot(times, data[:, 0], "ko", ms=4, label="data")
        ax.plot(times, coarse[:, 0], "-", color="green", label=f"{method}, step h")
        ax.plot(H / fine * np.arange(SAMPLES * fine + 1), detailed[:, 0], "-", color="red", lw=1, label="step h/100")
        eigenvalue = upper(np.linalg.eigvals(learned[method]))
        ax.set_title(f"{method}: λ̂ = {eigenvalue.real:+.3f}{eigenvalue.imag:+.3f}i")
        ax.set_ylim(-2.5, 2.5)
        ax.set_xlabel("t")
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(alpha=0.3)
    ax = axes[1, 1]
    for k, a in enumerate(rk4_minima):
        detailed = integrate(linear(a), data[0], 0.0, H / fine, SAMPLES * fine, method="rk4")
        ax.plot(H / fine * np.arange(SAMPLES * fine + 1), detailed[:, 0], lw=1, label=f"RK4 minimum {k + 1}")
    ax.plot(times, data[:, 0], "ko", ms=4, label="data")
    ax.set_ylim(-3, 3)
    ax.set_title("RK4: the four zero-loss Â, run at h/100")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1, 2]
    x, y = np.meshgrid(np.linspace(-3.5, 2.0, 400), np.linspace(-3.5, 3.5, 400))
    ax.contourf(x, y, Characteristic("rk4").amplification(x + 1j * y), levels=[0, 1], colors=["C1"], alpha=0.25)
    predicted = np.array([c.z for c in preimages("rk4", mu, H)])
    ax.plot(predicted.real, predicted.imag, "x", color="C1", ms=10, mew=2, label="RK4 preimages of μ")
    ax.plot([np.log(mu).real], [np.log(mu).imag], "ko", label="truth hλ")
    for method, marker in zip(METHODS, "sdv^"):
        z = H * upper(np.linalg.eigvals(learned[method]))
        ax.plot([z.real], [z.imag], marker, ms=8, mfc="none", label=f"learned, {method}")
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_aspect("equal")
    ax.set_title("h·λ̂ over RK4's stability region")
    ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("Damped oscillator sampled at H = 1: green = the learned Â at the training step, red = at h/100")
    path = args.out / "damped_oscillator_artifacts.png"
    fig.savefig(path, dpi=110)
    print(f"\nfigure -> {path}")


if __name__ == "__main__":
    main()
