"""The clock the benchmarks share."""

from __future__ import annotations

import time

import jax
import numpy as np


def best_of(run, repeats: int = 5) -> float:
    """The best of `repeats` warm calls of `run()`, in seconds, after one call that compiles."""
    jax.block_until_ready(run())
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        best = min(best, time.perf_counter() - start)
    return best


def best_of_each(runs, repeats: int = 5) -> list[float]:
    """The best of `repeats` warm calls of each of `runs`, in seconds, taken in turn (one call of each per round),
    so that a load that comes and goes weighs on all alike and their ratios hold."""
    for run in runs:
        jax.block_until_ready(run())
    best = [np.inf] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            jax.block_until_ready(run())
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def median_of(run, repeats: int = 10, warmups: int = 3) -> float:
    """The median of `repeats` timed calls of `run()` after `warmups` untimed ones (the first compiles), seconds."""
    for _ in range(warmups):
        jax.block_until_ready(run())
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))
