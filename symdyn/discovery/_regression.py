"""Sequentially thresholded (Gauss-Newton) least squares, with uncertainties from contiguous segments.

Both discovery methods end here: a residual r(a) over rows of data, affine in the
unknowns a for libraries and linear templates. STLSQ (Brunton et al., 2016) fits all
active unknowns, removes those below the threshold and refits until nothing changes;
for a template that is not affine in its unknowns each fit is a damped Gauss-Newton
iteration instead of one solve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import numpy as np

_MAX_ROUNDS = 20
_MAX_NEWTON = 50
SEGMENTS = 10  # contiguous stretches of the data behind the standard errors


def spread(values: np.ndarray) -> np.ndarray:
    """Per-state standard deviations of (..., V) values over everything but the last axis, never 0."""
    scale = values.reshape(-1, values.shape[-1]).std(axis=0)
    return np.where(scale > 0, scale, 1.0)


@dataclass(frozen=True)
class Fit:
    """Coefficients, which survived the threshold, their standard errors and the residual."""

    values: np.ndarray
    active: np.ndarray
    standard_errors: np.ndarray
    residual_rms: float


def _least_squares(jacobian: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """The step δ minimising |J δ + r|, by SVD (columns of libraries differ in scale by orders of magnitude)."""
    return np.linalg.lstsq(jacobian, -residual, rcond=None)[0]


def thresholded_least_squares(
    residual: Callable[[jax.Array], jax.Array],
    a0: np.ndarray,
    *,
    threshold: float,
    affine: bool,
    segments: np.ndarray,
) -> Fit:
    """Minimise |r(a)|² with sequential thresholding.

    Args:
        residual: a → (rows,) residuals, a JAX function.
        a0: (J,) the starting coefficients (used only when r is not affine).
        threshold: active coefficients of smaller magnitude are set to 0 and dropped.
        affine: r is affine in a, so one solve per round is exact.
        segments: (rows,) ints labelling contiguous stretches of the data. The standard
            error of each coefficient is the spread of the fits on each segment alone
            over √(segments) (batch means), which, unlike the textbook formula, holds for
            the correlated residuals of neighbouring samples.
    """
    residual_fn = jax.jit(residual)
    jacobian_fn = jax.jit(jax.jacfwd(residual))
    evaluate = lambda a: (np.asarray(residual_fn(a)), np.asarray(jacobian_fn(a)))
    a = np.array(a0, dtype=np.float64)
    if affine:  # r(a) = r(a0) + J (a - a0) with J constant: evaluate once, refit in NumPy
        r0, jacobian0, a_ref = *evaluate(a), a.copy()
        evaluate = lambda a: (r0 + jacobian0 @ (a - a_ref), jacobian0)
    active = np.ones(a.size, dtype=bool)
    for _ in range(_MAX_ROUNDS):
        a = _fit_active(residual_fn, evaluate, a, active, affine)
        small = active & (np.abs(a) < threshold)
        if not small.any():
            break
        a[small] = 0.0
        active &= ~small
    r, jacobian = evaluate(a)
    errors = np.zeros(a.size)
    labels = np.unique(segments)
    if labels.size >= 2 and active.any():
        pieces = [a[active] + _least_squares(jacobian[segments == k][:, active], r[segments == k]) for k in labels]
        errors[active] = np.std(pieces, axis=0, ddof=1) / np.sqrt(labels.size)
    return Fit(values=a, active=active, standard_errors=errors, residual_rms=float(np.sqrt(np.mean(r**2))))


def _fit_active(residual_fn, evaluate, a: np.ndarray, active: np.ndarray, affine: bool) -> np.ndarray:
    if not active.any():
        return a
    loss = None
    for _ in range(1 if affine else _MAX_NEWTON):
        r, jacobian = evaluate(a)
        loss = float(r @ r) if loss is None else loss
        step = np.zeros_like(a)
        step[active] = _least_squares(jacobian[:, active], r)
        if affine:
            return a + step
        for _ in range(30):  # halve the Gauss-Newton step until the loss decreases
            trial = a + step
            trial_loss = float(np.sum(np.asarray(residual_fn(trial)) ** 2))
            if np.isfinite(trial_loss) and trial_loss <= loss:
                break
            step /= 2
        else:
            return a
        a, converged = trial, loss - trial_loss <= 1e-14 * max(loss, 1e-300)
        loss = trial_loss
        if converged:
            break
    return a
