"""The S-MNN solver against its references, in one run.

(a) One linear ODE at T = 1000 (the damped harmonic oscillator of Appendix B.1,
    first-order form, R = 3): S-MNN sequential and parallel against scipy's
    solve_ivp RK45 and LSODA at the loosest tolerance that reaches S-MNN's accuracy.
(b) Forward + backward time and memory at Lorenz shapes (each Lorenz sample is three
    scalar systems, R = 2) of `smnn.solve` and, with `--reference DIR`, of the
    published PyTorch implementation run side by side on the same inputs: median of
    10 after 3 warm-ups, the speed-up and memory as ratios, and how far apart the two
    solutions are.
(c) T from 10^2 to 10^5 at batch 1 and 64: how time and memory grow with T.
(d) (on request) the dense least squares and the original MNN dense solver beside the
    block solvers at the shapes of the paper's Table 1, where they fit.

Times in (a), (c), (d) are the best of 3 warm runs; memory is XLA's temporary buffers
for the compiled computation (arguments excluded). float64 throughout. The dense
baselines run in a child process on one core: on two, XLA's CPU thread pool
deadlocks now and then in their batched LAPACK gradients (JAX 0.10).

    python benchmarks/smnn.py [--parts a b c d] [--reference path/to/ScalableMNN]
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import symdyn  # noqa: E402
from symdyn import smnn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, median_of  # noqa: E402

HERE = Path(__file__).resolve().parent
TABLE_1 = [(512, 50), (512, 5), (512, 500), (64, 50), (4096, 50)]
SHAPES = [(512, 50), (64, 500), (4096, 50), (512, 500), (4096, 500)]  # the comparison with the reference
DENSE_LIMIT = 3e9  # bytes of temporaries beyond which the dense baselines are not run


def relative_mse(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean((estimate - truth) ** 2) / np.var(truth))


def part_a() -> None:
    import sympy as sp
    from scipy.integrate import solve_ivp

    model = symdyn.load(HERE.parent / "examples" / "damped_harmonic_oscillator.sdyn")
    grid = 0.01 * np.arange(1000)
    exact = sp.lambdify(model.time, model.observed[0].expression.xreplace(model.defaults), "numpy")(grid)
    template = smnn.template(model.first_order(), grid, order=3)
    arrays = template()
    print("(a) damped harmonic oscillator, T = 1000 steps of 0.01, y(t) against its closed form")
    print(f"{'solver':<34}{'time [ms]':>10}{'rel. MSE of y':>15}{'/ S-MNN seq.':>14}")
    rows = []
    for method in ("sequential", "parallel"):
        solve = jax.jit(lambda *a, method=method: smnn.solve(*a, method=method))
        seconds = best_of(lambda solve=solve: solve(*arrays), repeats=3)
        error = relative_mse(np.asarray(solve(*arrays))[0, :, 0, 0], exact)
        rows.append((f"S-MNN {method}", seconds, error))
    target = rows[0][2]
    # scipy gets plain NumPy functions of the same exact forms, so that it pays no JAX dispatch per step
    first_order = model.first_order()
    values = {**model.defaults, model.time: model.time}
    vector = first_order.state_vector
    rhs = sp.lambdify((model.time, vector), list(first_order.rhs().xreplace(values)), "numpy")
    jacobian = sp.lambdify((model.time, vector), first_order.jacobian().xreplace(values).tolist(), "numpy")
    x0 = np.array([float(v.xreplace(model.defaults)) for v in first_order.initial_state()])

    for method in ("RK45", "LSODA"):
        for exponent in range(3, 14):
            tolerance = 10.0**-exponent
            kwargs = dict(t_eval=grid, rtol=tolerance, atol=tolerance * 1e-2, method=method)
            if method == "LSODA":
                kwargs["jac"] = jacobian
            solution = solve_ivp(rhs, (0.0, grid[-1]), x0, **kwargs)
            error = relative_mse(solution.y[0], exact)
            if error <= target:
                break
        seconds = best_of(lambda kwargs=kwargs: solve_ivp(rhs, (0.0, grid[-1]), x0, **kwargs).y, repeats=3)
        rows.append((f"scipy {method} (rtol 1e-{exponent})", seconds, error))
    for name, seconds, error in rows:
        print(f"{name:<34}{1e3 * seconds:>10.2f}{error:>15.2e}{seconds / rows[0][1]:>14.2f}")
    print("    (scipy integrates NumPy functions of the model's exact first-order forms)")


def lorenz_problem(samples: int, times: int):
    """3·samples scalar systems y' = f(t) with R = 2, per-system coefficients, step 0.01."""
    systems = 3 * samples
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    c = 0.1 * jax.random.normal(keys[0], (systems, times, 1, 1, 3))
    c = c.at[..., 1].add(1.0)
    d = jax.random.normal(keys[1], (systems, times, 1))
    u = jax.random.normal(keys[2], (systems, 1, 1, 1))
    s = jnp.full((systems, times - 1), 0.01)
    target = jax.random.normal(keys[3], (systems, times, 1, 3))
    return (c, d, u, s), target


def forward_backward(solver):
    """Gradients of Σ y ⊙ target for c, d, u, s; the target is an argument, not a constant folded in compiling."""

    def loss(c, d, u, s, target):
        return jnp.sum(solver(c, d, u, s) * target)

    return jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))


def temporaries(compiled_function, *arguments) -> int:
    return compiled_function.lower(*arguments).compile().memory_analysis().temp_size_in_bytes


SOLVERS = {
    "sequential": lambda *a: smnn.solve(*a, method="sequential"),
    "parallel": lambda *a: smnn.solve(*a, method="parallel"),
    "dense": smnn.dense_solve,
    "MNN dense": smnn.mnn_dense_solve,
}


def cell(name: str, samples: int, times: int) -> str:
    """'ms / MB' of one solver at one shape, or why it was not run."""
    arguments, target = lorenz_problem(samples, times)
    step = forward_backward(SOLVERS[name])
    arguments = (*arguments, target)
    memory = temporaries(step, *arguments)
    if name in ("dense", "MNN dense") and memory > DENSE_LIMIT:
        return f"({memory / 1e9:.0f} GB: not run)"
    return f"{1e3 * best_of(lambda: step(*arguments), repeats=3):.1f} / {memory / 1e6:.0f}"


def pinned_cell(name: str, samples: int, times: int) -> str:
    """`cell` in a child process pinned to one CPU."""
    command = [sys.executable, __file__, "--cell", name, str(samples), str(times)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=900, preexec_fn=lambda: os.sched_setaffinity(0, {0})
        )
    except subprocess.TimeoutExpired:
        return "(timed out)"
    return done.stdout.strip().splitlines()[-1] + " (1 core)" if done.returncode == 0 else "(failed)"


def part_b(reference_path: str | None) -> None:
    """symdyn's default solver against the reference on the same inputs: median of 10 after 3 warm-ups."""
    sys.path.insert(0, str(HERE))
    import _scalable_mnn

    reference = _scalable_mnn.load_reference(reference_path) if reference_path else None
    print("\n(b) forward + backward at the Lorenz shapes (samples × T; 3 scalar systems per sample, R = 2),")
    print("    gradients for c, d, u and s; median of 10 after 3 warm-ups; memory: XLA's temporaries for symdyn,")
    print("    the peak of torch's allocations for the reference")
    print(
        f"{'shape':<12}{'reference fwd+bwd':>22}{'symdyn fwd+bwd':>20}{'speed-up':>10}"
        f"{'memory':>8}{'symdyn fwd':>12}{'|Δy|/|y|':>10}"
    )
    for samples, times in SHAPES:
        systems = 3 * samples
        arrays = _scalable_mnn.problem_arrays(systems, times)
        arguments = tuple(jnp.asarray(arrays[name]) for name in "cdus")
        solve = jax.jit(smnn.solve)
        step = forward_backward(smnn.solve)
        forward = median_of(functools.partial(solve, *arguments))
        weighted = (*arguments, jnp.asarray(arrays["weight"]))
        both = median_of(functools.partial(step, *weighted))
        memory = temporaries(step, *weighted)
        ours = f"{1e3 * both:.1f} ms, {memory / 1e6:.0f} MB"
        if reference is None:
            print(f"{f'{samples}×{times}':<12}{'':>22}{ours:>20}{'':>18}{1e3 * forward:>10.1f} ms")
            continue
        expected = _scalable_mnn.reference_solution(reference, systems, times)
        agreement = float(np.max(np.abs(np.asarray(solve(*arguments)) - expected)) / np.max(np.abs(expected)))
        seconds, peak = _scalable_mnn.time_reference(reference, systems, times)
        theirs = f"{1e3 * seconds:.1f} ms, {peak / 1e6:.0f} MB" if peak >= 0 else f"{1e3 * seconds:.1f} ms"
        memory_ratio = f"{memory / peak:.2f}" if peak > 0 else "?"
        print(
            f"{f'{samples}×{times}':<12}{theirs:>22}{ours:>20}{seconds / both:>9.1f}×{memory_ratio:>8}"
            f"{1e3 * forward:>9.1f} ms{agreement:>10.1e}"
        )
    print("    speed-up: reference time / symdyn time; memory: symdyn / reference")


def part_dense() -> None:
    """The dense baselines beside the block solvers at the paper's Table 1 shapes (each on one core)."""
    print("\n(d) the dense baselines at the shapes of Table 1, best of 3 (ms / MB)")
    print(f"{'shape':<12}" + "".join(f"{name:>26}" for name in SOLVERS))
    for samples, times in TABLE_1:
        cells = [cell(name, samples, times) for name in ("sequential", "parallel")]
        cells += [pinned_cell(name, samples, times) for name in ("dense", "MNN dense")]
        print(f"{f'{samples}×{times}':<12}" + "".join(f"{text:>26}" for text in cells))


def part_c() -> None:
    print("\n(c) growth with T: forward + backward, one scalar system per batch entry, R = 2")
    columns = f"{'sequential ms':>15}{'MB':>8}{'parallel ms':>13}{'MB':>8}{'par/seq':>9}{'compile s (seq, par)':>24}"
    print(f"{'batch':>6}{'T':>8}{columns}")
    for batch in (1, 64):
        for times in (100, 1000, 10_000, 100_000):
            arguments, target = lorenz_problem(1, times)
            arguments = tuple(jnp.repeat(a[:1], batch, axis=0) for a in arguments)
            target = jnp.repeat(target[:1], batch, axis=0)
            results = []
            for method in ("sequential", "parallel"):
                step = forward_backward(SOLVERS[method])
                start = time.perf_counter()
                compiled = step.lower(*arguments, target).compile()
                compile_seconds = time.perf_counter() - start
                memory = compiled.memory_analysis().temp_size_in_bytes
                seconds = best_of(functools.partial(compiled, *arguments, target), repeats=3)
                results.append((seconds, memory, compile_seconds))
            (seq, seq_memory, seq_compile), (par, par_memory, par_compile) = results
            print(
                f"{batch:>6}{times:>8}{1e3 * seq:>15.2f}{seq_memory / 1e6:>8.1f}{1e3 * par:>13.2f}"
                f"{par_memory / 1e6:>8.1f}{par / seq:>9.2f}{f'{seq_compile:.1f}, {par_compile:.1f}':>24}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["a", "b", "c"], choices=["a", "b", "c", "d"])
    parser.add_argument("--reference", help="a checkout of IST-DASLab/ScalableMNN, timed side by side (needs torch)")
    parser.add_argument("--cell", nargs=3, help=argparse.SUPPRESS)  # NAME SAMPLES T: one entry of (b)
    args = parser.parse_args()
    if args.cell:
        print(cell(args.cell[0], int(args.cell[1]), int(args.cell[2])))
        return
    print(f"JAX {jax.__version__} on {jax.default_backend()}, {jax.device_count()} device(s)\n")
    if "a" in args.parts:
        part_a()
    if "b" in args.parts:
        part_b(args.reference)
    if "c" in args.parts:
        part_c()
    if "d" in args.parts:
        part_dense()


if __name__ == "__main__":
    main()
