"""Throughput on 1, 2, 4, ... devices in one run: data-parallel training epochs and data generation split by
trajectory, each as a ratio to one device measured in the same run, with the difference from one device's result.

Two-body (4 states), the seed's MLP (hidden 200), RK4 rollouts of 2 steps, float32. A training row is
warm epochs of `train(..., devices=n)` (the compiled epoch reused), in chunks per second; a generation
row is warm `generate(..., devices=n)` calls, in trajectories per second. "differs" is the largest
relative difference of the weights (training) or states (generation) from one device's.

Then a grid search of `--weights` values of λ (L_FD) on every device: the trainings side by side (one
compiled epoch mapped over λ, split over the devices) against one after another, each on every device
as before, in warm chunks per second over all the trainings, with the largest difference of the weights.

On a CPU, force several devices to see correctness and overhead (not speed: they share the cores):

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python benchmarks/scaling.py

On a machine with several GPUs or TPU cores run it as is; every visible device is used.

    python benchmarks/scaling.py [--batch 256] [--trajectories 256] [--epochs 3] [--weights 4]

`--long-sequence` times instead one S-MNN system of T = 10^4, 10^5, 10^6 time points split along
time (`solve(..., devices=n)`), as ratios to the one-device solve of the same run: seconds of a warm
solve, and the memory each device holds (arguments, result and XLA's temporaries, from the
compiled program), with the difference from one device's solution. float64.

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python benchmarks/scaling.py --long-sequence
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

import symdyn
from symdyn.data import Uniform, generate
from symdyn.train import MLP, JacobianFD, grid_search, train

TWO_BODY = Path(__file__).resolve().parents[1] / "examples" / "two_body.sdyn"


def counts(available: int) -> list[int]:
    """1, 2, 4, ... and all of them."""
    found = [n for n in (2**k for k in range(12)) if n < available]
    return [*found, available]


def warm(run, repeats: int = 2) -> tuple[float, object]:
    """The best seconds of `repeats` warm calls of `run()` (after one that compiles), and its result."""
    out, best = run(), np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
    return best, out


def largest_difference(a, b) -> float:
    return max(float(np.max(np.abs(u - v)) / np.max(np.abs(v))) for u, v in zip(a, b))


def long_sequence(times: list[int], method: str) -> None:
    """One damped, forced oscillator y'' + 0.4 y' + 4 y = sin t (V = 1, R = 2), t = 0..T/100."""
    from jax.sharding import NamedSharding, PartitionSpec

    from symdyn._distributed import device_mesh
    from symdyn.smnn import solve

    jax.config.update("jax_enable_x64", True)
    devices = counts(jax.device_count())
    print(f"{jax.device_count()} {jax.devices()[0].platform} devices; one S-MNN system, V = 1, R = 2, float64")
    print(f"'{method}' on each device's stretch; ratios to the one-device '{method}' solve ('1 whole') of this run")
    print(f"{'T':>9} {'devices':>8} {'seconds':>9} {'ratio':>7} {'MB/device':>10} {'ratio':>7} {'differs':>9}")
    u, s = np.array([[[[1.0, 0.0, -4.0]]]]), np.full((1, 1), 0.01)  # y(0) = 1, y'(0) = 0; one shared step
    for t in times:
        c = np.broadcast_to(np.array([4.0, 0.4, 1.0]), (1, t, 1, 1, 3)).copy()
        d = np.sin(np.arange(t) * 0.01)[None, :, None]
        base = None
        for n in [None, *devices]:
            mesh = device_mesh(n or 1, axis="time")
            along = NamedSharding(mesh, PartitionSpec(None, "time"))  # c and d split along time
            placed = [jax.device_put(a, along) for a in (c, d)]
            run = jax.jit(lambda c, d, n=n: solve(c, d, u, s, method=method, devices=n, throw=False))
            memory = run.lower(*placed).compile().memory_analysis()
            megabytes = (memory.argument_size_in_bytes + memory.output_size_in_bytes + memory.temp_size_in_bytes) / 1e6
            seconds, y = warm(lambda run=run, placed=placed: jax.block_until_ready(run(*placed)))
            y = np.asarray(y)
            base = base or (seconds, megabytes, y)
            differs = float(np.max(np.abs(y - base[2])) / np.max(np.abs(base[2])))
            name = "1 whole" if n is None else str(n)
            print(
                f"{t:>9} {name:>8} {seconds:>9.3f} {seconds / base[0]:>7.2f} {megabytes:>10.1f} "
                f"{megabytes / base[1]:>7.2f} {differs:>9.1e}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256, help="chunks per training step (default 256)")
    parser.add_argument("--trajectories", type=int, default=256, help="trajectories generated (default 256)")
    parser.add_argument("--epochs", type=int, default=3, help="timed training epochs (default 3)")
    parser.add_argument("--weights", type=int, default=4, help="values of λ in the grid search (default 4)")
    parser.add_argument("--long-sequence", action="store_true", help="one S-MNN system split along time instead")
    parser.add_argument("--times", type=int, nargs="+", default=[10**4, 10**5, 10**6], help="T for --long-sequence")
    parser.add_argument("--method", default="parallel", help="each device's S-MNN solver (default parallel)")
    args = parser.parse_args()
    if args.long_sequence:
        long_sequence(args.times, args.method)
        return
    model = symdyn.load(TWO_BODY)
    draws = {"e": Uniform(0.5, 0.7)}
    key = jax.random.PRNGKey(0)
    # enough trajectories for four minibatches of chunks per epoch
    duration = 1.0
    samples = max(1, -(-4 * args.batch // int(duration / 0.01 - 1)))
    data = generate(model, parameters=draws, samples=samples, duration=duration, dt=0.01, key=key, progress=False)
    network = MLP(data.names, key=jax.random.PRNGKey(1))
    devices = counts(jax.device_count())
    print(f"{jax.device_count()} {jax.devices()[0].platform} devices; two-body, MLP 200, RK4, N = 2, float32")
    print(
        f"training: {len(data)} trajectories, batch {args.batch}; generation: {args.trajectories} trajectories, "
        "t = 0..1, dt = 0.01"
    )
    print(
        f"{'devices':>8} {'train chunks/s':>15} {'ratio':>7} {'differs':>9} {'simulate traj/s':>16} {'ratio':>7} "
        f"{'differs':>9}"
    )
    base = None
    for n in devices:
        if args.batch % n:
            print(f"{n:>8}  (batch {args.batch} does not split over {n} devices)")
            continue
        options = dict(rollout=2, epochs=args.epochs, key=key, batch_size=args.batch, progress=False, devices=n)
        seconds, trained = warm(lambda options=options: train(network, data, **options))
        chunks = (trained.settings["chunks"] // args.batch) * args.batch * args.epochs
        weights = jax.tree.leaves(eqx.filter(trained.last_network, eqx.is_array))
        gen_seconds, made = warm(
            lambda n=n: generate(
                model,
                parameters=draws,
                samples=args.trajectories,
                duration=duration,
                dt=0.01,
                key=key,
                batch_size=args.trajectories,
                progress=False,
                devices=n,
            )
        )
        row = (chunks / seconds, args.trajectories / gen_seconds, weights, made.states)
        base = base or row
        print(
            f"{n:>8} {row[0]:>15.0f} {row[0] / base[0]:>7.2f} {largest_difference(weights, base[2]):>9.1e} "
            f"{row[1]:>16.0f} {row[1] / base[1]:>7.2f} {largest_difference([made.states], [base[3]]):>9.1e}"
        )
    grid_search_rows(network, data, args)


def grid_search_rows(network, data, args) -> None:
    """λ side by side against one after another, on every device."""
    weights = [10.0**-k for k in range(args.weights)]
    options = dict(rollout=2, epochs=args.epochs, key=jax.random.PRNGKey(0), batch_size=args.batch, progress=False)
    options |= {"validation": data}
    print(f"grid search, {args.weights} weights of L_FD on {jax.device_count()} devices")
    print(f"{'trainings':>20} {'chunks/s':>9} {'ratio':>7} {'differs':>9}")
    alone_seconds, alone = warm(
        lambda: [train(network, data, regularizer=JacobianFD(w), **options) for w in weights], repeats=1
    )
    together_seconds, together = warm(
        lambda: grid_search(network, data, JacobianFD(0.0), weights, **options).results, repeats=1
    )
    chunks = (alone[0].settings["chunks"] // args.batch) * args.batch * args.epochs * len(weights)
    differs = max(
        largest_difference(*(jax.tree.leaves(eqx.filter(r.last_network, eqx.is_array)) for r in pair))
        for pair in zip(together, alone)
    )
    print(f"{'one after another':>20} {chunks / alone_seconds:>9.0f} {1.0:>7.2f}")
    ratio = alone_seconds / together_seconds
    print(f"{'side by side':>20} {chunks / together_seconds:>9.0f} {ratio:>7.2f} {differs:>9.1e}")


if __name__ == "__main__":
    main()
