"""Shared by the integrator-artifact demonstrations: the sampled damped oscillator and an Adam fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import symdyn
from symdyn.integrators import integrate

HERE = Path(__file__).resolve().parent


def sampled_damped_oscillator(h: float, samples: int) -> np.ndarray:
    """The true flow of examples/damped_oscillator.sdyn from (1, 0), sampled every h (RK4 at h/1000)."""
    low = symdyn.load(HERE / "damped_oscillator.sdyn").lower(dtype=jnp.float64)
    return np.asarray(integrate(low, low.x0, 0.0, h / 1000, 1000 * samples, save_every=1000))


def sampled_map(data: np.ndarray) -> np.ndarray:
    """The linear map from each sample to the next, fitted by least squares."""
    return np.linalg.lstsq(data[:-1], data[1:], rcond=None)[0].T


def upper(eigenvalues: np.ndarray) -> complex:
    """The eigenvalue of a real 2×2 matrix with Im >= 0."""
    return complex(max(eigenvalues, key=lambda e: e.imag))


def linear(a) -> Callable:
    """The vector field x' = A x."""
    a = jnp.asarray(a)
    return lambda t, x: a @ x


def fit(loss: Callable[[jax.Array], jax.Array], start: np.ndarray, steps: int) -> tuple[np.ndarray, float]:
    """Minimise `loss` over a matrix by Adam from `start`, all steps in one compiled scan."""
    optimizer = optax.adam(optax.exponential_decay(3e-2, steps, 0.01))

    @jax.jit
    def train(a):
        def update(carry, _):
            a, state = carry
            change, state = optimizer.update(jax.grad(loss)(a), state)
            return (optax.apply_updates(a, change), state), None

        (a, _), _ = jax.lax.scan(update, (a, optimizer.init(a)), None, length=steps)
        return a, loss(a)

    a, final = train(jnp.asarray(start))
    return np.asarray(a), float(final)
