"""Lorenz from text to a compiled JAX call, and the speed of the generated functions.

Part 1 runs each stage in fresh processes (parse, exact Jacobian, lower, first jit
call) and reports the median; the reference is a hand-written JAX right-hand side's
first jit call, timed in the same processes. Part 2 times the jitted generated
rhs, jac and jvp on a batch of states against plain JAX: the hand-written rhs,
`jax.jacfwd` of it and `jax.jvp` of it.

    python benchmarks/lorenz_pipeline.py [--repeats 5] [--batch 100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

LORENZ = Path(__file__).resolve().parents[1] / "examples" / "lorenz.sdyn"

_COLD_RUN = r"""
import json, sys, time
clock = time.perf_counter
t0 = clock()
import symdyn
t1 = clock()
model = symdyn.load(sys.argv[1])
t2 = clock()
model.jacobian()
t3 = clock()
import jax, symdyn.lower
t3b = clock()
low = model.lower()
t4 = clock()
jax.jit(low.rhs)(0.0, low.x0, low.p).block_until_ready()
t5 = clock()
import jax.numpy as jnp
def reference(t, x, p):
    return jnp.stack([p[0] * (x[1] - x[0]), x[0] * (p[1] - x[2]) - x[1], x[0] * x[1] - p[2] * x[2]])
t6 = clock()
jax.jit(reference)(0.0, low.x0 + 1, low.p).block_until_ready()
t7 = clock()
print(json.dumps({"import symdyn (sympy, lark)": t1 - t0, "parse": t2 - t1, "exact Jacobian": t3 - t2,
                  "import jax, equinox": t3b - t3, "lower (codegen, exec, x0)": t4 - t3b,
                  "first jit call of rhs": t5 - t4, "parse -> first jit call": t5 - t1,
                  "parse -> first jit call, no imports": (t5 - t1) - (t3b - t3),
                  "reference first jit call": t7 - t6}))
"""


def cold_stages(repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _COLD_RUN, str(LORENZ)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def best_of(fn, *args, repeats: int = 50) -> float:
    fn(*args).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args).block_until_ready()
        times.append(time.perf_counter() - start)
    return min(times)


def warm_functions(batch: int) -> list[tuple[str, float, float, str]]:
    import jax
    import jax.numpy as jnp

    import symdyn

    jax.config.update("jax_enable_x64", True)
    low = symdyn.load(LORENZ).lower(dtype=jnp.float64)

    def reference(t, x, p):
        return jnp.stack([p[0] * (x[1] - x[0]), x[0] * (p[1] - x[2]) - x[1], x[0] * x[1] - p[2] * x[2]])

    xs = jax.random.normal(jax.random.PRNGKey(0), (batch, 3)) * 10
    vs = jax.random.normal(jax.random.PRNGKey(1), (batch, 3))
    p = low.p
    rows = []
    ours = jax.jit(jax.vmap(low.rhs, (None, 0, None)))
    theirs = jax.jit(jax.vmap(reference, (None, 0, None)))
    rows.append(("rhs", best_of(ours, 0.0, xs, p), best_of(theirs, 0.0, xs, p), "hand-written rhs"))
    ours = jax.jit(jax.vmap(low.jac, (None, 0, None)))
    theirs = jax.jit(jax.vmap(jax.jacfwd(reference, argnums=1), (None, 0, None)))
    rows.append(("jac", best_of(ours, 0.0, xs, p), best_of(theirs, 0.0, xs, p), "jax.jacfwd"))
    ours = jax.jit(jax.vmap(low.jvp, (None, 0, None, 0)))
    theirs = jax.jit(
        jax.vmap(lambda t, x, p, v: jax.jvp(lambda y: reference(t, y, p), (x,), (v,))[1], (None, 0, None, 0))
    )
    rows.append(("jvp", best_of(ours, 0.0, xs, p, vs), best_of(theirs, 0.0, xs, p, vs), "jax.jvp"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes for the cold stages")
    parser.add_argument("--batch", type=int, default=1_000_000, help="states per call for the warm timings")
    args = parser.parse_args()

    stages = cold_stages(args.repeats)
    reference = stages.pop("reference first jit call")
    print(f"Lorenz, text to first jitted call: fresh processes, median of {args.repeats}")
    print(f"{'stage':<40}{'time [ms]':>10}")
    for stage, seconds in stages.items():
        print(f"{stage:<40}{1e3 * seconds:>10.1f}")
    work = stages["parse -> first jit call, no imports"]
    print(f"{'reference: hand-written JAX rhs':<40}{1e3 * reference:>10.1f}   (its first jit call alone)")
    print(f"parse -> first jit call without imports: {work / reference:.1f}x the reference's first jit call")
    print(
        f"parse -> first jit call with the JAX import: {stages['parse -> first jit call']:.2f} s "
        "(target: well under 2 s)"
    )

    print(f"\nWarm jitted calls on a batch of {args.batch} states, float64, best of 50")
    print(f"{'function':<10}{'symdyn [ms]':>14}{'plain JAX [ms]':>16}{'ratio':>8}   plain JAX is")
    for name, ours, theirs, what in warm_functions(args.batch):
        print(f"{name:<10}{1e3 * ours:>14.3f}{1e3 * theirs:>16.3f}{ours / theirs:>8.2f}   {what}")


if __name__ == "__main__":
    main()
