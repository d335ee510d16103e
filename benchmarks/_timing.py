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


def best_of_interleaved(runs: dict, repeats: int = 5) -> dict:
    """`best_of` for several `runs` (name → callable) timed in turn, so that a busy spell of a shared machine
    slows them alike."""
    for run in runs.values():
        jax.block_until_ready(run())
    best = dict.fromkeys(runs, np.inf)
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            jax.block_until_ready(run())
            best[name] = min(best[name], time.perf_counter() - start)
    return best
