"""`symdyn.integrators.integrate` against diffrax's fixed-step RK4 and a plain `lax.scan` loop, in one run.

Lorenz (the generated right-hand side, shared by all three), classical RK4,
10^5 steps of 0.001, float64, the final state kept; batches of 1 and 1024
initial states (diffrax and the plain loop batched with `jax.vmap`). Each entry is
the best of 3 warm runs; the first run (compile + run) is reported apart.

For diffrax the faster of two ways to batch counts: `jax.vmap` over initial
states, or the (batch, 3) array as one state (the rhs broadcasts). diffrax is an
optional import, in the `bench` extra: `pip install -e ".[bench]"`.

    python benchmarks/integrate.py [--steps 100000] [--batches 1 1024]
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import symdyn  # noqa: E402
from symdyn.integrators import integrate  # noqa: E402

LORENZ = Path(__file__).resolve().parents[1] / "examples" / "lorenz.sdyn"
DT = 1e-3


def timed(run, repeats: int = 3) -> tuple[float, float]:
    """(first call, best warm call) in seconds."""
    start = time.perf_counter()
    jax.block_until_ready(run())
    first = time.perf_counter() - start
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        best = min(best, time.perf_counter() - start)
    return first, best


def plain_scan(rhs, steps: int):
    """RK4 written out in a `lax.scan`, the floor for any fixed-step integrator in JAX."""

    @jax.jit
    def solve(x0):
        def step(x, k):
            t = k * DT
            k1 = rhs(t, x)
            k2 = rhs(t + DT / 2, x + DT / 2 * k1)
            k3 = rhs(t + DT / 2, x + DT / 2 * k2)
            k4 = rhs(t + DT, x + DT * k3)
            return x + DT / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

        return jax.lax.scan(step, x0, jnp.arange(steps, dtype=x0.dtype))[0]

    return solve


def diffrax_solver(rhs, steps: int):
    """diffrax's `diffeqsolve` with classical RK4 as an explicit Runge-Kutta tableau, constant steps."""
    import diffrax

    class Rk4(diffrax.AbstractERK):
        tableau = diffrax.ButcherTableau(
            a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])),
            b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
            b_error=np.zeros(4),
            c=np.array([0.5, 0.5, 1.0]),
        )
        interpolation_cls = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

        def order(self, terms):
            return 4

    term = diffrax.ODETerm(lambda t, x, args: rhs(t, x))

    @jax.jit
    def solve(x0):
        solution = diffrax.diffeqsolve(
            term, Rk4(), 0.0, steps * DT, DT, x0, saveat=diffrax.SaveAt(t1=True), max_steps=steps + 1
        )
        return solution.ys[-1]

    return solve


def check_same_answers(low, x0, batch: int, reference, rhs, steps: int = 1000) -> None:
    """All three agree over 1000 steps (Lorenz is chaotic: at t = 100 round-off has grown to O(1))."""
    ours = np.asarray(integrate(low, x0, 0.0, DT, steps)[..., -1, :])
    batched = (lambda f: f) if batch == 1 else jax.vmap
    np.testing.assert_allclose(ours, np.asarray(batched(plain_scan(rhs, steps))(x0)), rtol=1e-11)
    if reference is not None:
        np.testing.assert_allclose(ours, np.asarray(batched(diffrax_solver(rhs, steps))(x0)), rtol=1e-11)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 1024])
    args = parser.parse_args()

    low = symdyn.load(LORENZ).lower(dtype=jnp.float64)
    p = low.p

    def rhs(t, x):
        return low.rhs(t, x, p)

    try:
        reference = diffrax_solver(rhs, args.steps)
    except ImportError:
        reference = None
        print('diffrax is not installed (pip install -e ".[bench]"): its column stays empty\n')
    plain = plain_scan(rhs, args.steps)

    print(f"Lorenz, RK4, {args.steps} steps of {DT}, float64, final state; best of 3 warm runs [s]")
    header = f"{'batch':>6}{'symdyn':>10}{'diffrax':>10}{'symdyn/diffrax':>16}{'plain scan':>12}{'symdyn/plain':>14}"
    print(header + f"{'   first calls: symdyn, diffrax, plain':>40}")
    for batch in args.batches:
        x0 = jnp.asarray(np.random.default_rng(0).normal(size=(batch, 3)) + np.array([1.0, 1.0, 20.0]))
        if batch == 1:
            x0 = x0[0]
        ours = timed(partial(lambda x: integrate(low, x, 0.0, DT, args.steps, save_every=args.steps), x0))
        floor = timed(partial(plain if batch == 1 else jax.vmap(plain), x0))
        theirs = (np.nan, np.nan)
        if reference is not None:
            # diffrax batched two ways: vmap over initial states, or the whole batch as one state
            variants = [reference] if batch == 1 else [jax.vmap(reference), reference]
            theirs = min((timed(partial(f, x0)) for f in variants), key=lambda r: r[1])
        check_same_answers(low, x0, batch, reference, rhs)
        print(
            f"{batch:>6}{ours[1]:>10.3f}{theirs[1]:>10.3f}{ours[1] / theirs[1]:>16.2f}{floor[1]:>12.3f}"
            f"{ours[1] / floor[1]:>14.2f}{'':>5}{ours[0]:>8.2f}, {theirs[0]:.2f}, {floor[0]:.2f}"
        )


if __name__ == "__main__":
    main()
