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
