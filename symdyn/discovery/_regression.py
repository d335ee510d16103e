"""Sparse least squares over the rows of a residual: fits, model selection, ensembles, collinearity.

Every discovery method ends here: a residual r(a) over rows of data, affine in the unknowns a
for libraries and linear templates. For those, r = A·a − y is evaluated once and everything after
is NumPy: a sparse optimizer (`STLSQ`, `SR3`, `BestSubset`) per group of unknowns that share rows
(for a library, the terms of one equation), the choice of its setting on held-out segments, and
ensembles over segments and terms. A template that is not affine in its unknowns is fitted by
sequentially thresholded damped Gauss-Newton instead.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import numpy as np

from ._optimizers import STLSQ, AbstractOptimizer, least_squares

_MAX_ROUNDS = 20
_MAX_NEWTON = 50
SEGMENTS = 10  # contiguous stretches of the data behind the standard errors and the held-out checks
SELECTION_FLOOR = 1e-4  # a term whose removal raises the held-out error by less than this (relative) goes
SELECTION_TOLERANCE = 0.1  # ... or by less than this fraction of the best held-out error
COLLINEAR = 1e-6  # the smallest singular value of the normalized columns relative to the largest, below which
# the terms are called collinear


def spread(values: np.ndarray, state_axes: int = 1) -> np.ndarray:
    """Per-state standard deviations of (..., *state_shape) values over all but the first state axis, never 0,
    shaped to broadcast against the state (`state_axes` trailing axes)."""
    moved = np.moveaxis(values, -state_axes, 0).reshape(values.shape[-state_axes], -1)
    scale = moved.std(axis=1)
    return np.where(scale > 0, scale, 1.0).reshape(-1, *(1,) * (state_axes - 1))


@dataclass(frozen=True)
class Fit:
    """Coefficients, which survived, their standard errors, the residual and, for an ensemble, the fraction of
    members that kept each unknown (`inclusion`)."""

    values: np.ndarray
    active: np.ndarray
    standard_errors: np.ndarray
    residual_rms: float
    inclusion: np.ndarray | None = None


@dataclass(frozen=True)
class ParetoPoint:
    """One setting of a group's optimizer: its terms, and its error on the data and on held-out segments
    (root mean squares of the scaled residual)."""

    group: int  # the index of the group's first unknown
    setting: str
    terms: int
    training_error: float
    held_out_error: float
    chosen: bool


class Regression(abc.ABC):
    """What a discovery method leaves to the sparse fit: its unknowns, fitted at any threshold.

    `discover` fits at the user's threshold, and at others when that one removed every
    term of an equation (to say which threshold keeps some).
    """

    @abc.abstractmethod
    def fit(self, setting: float | AbstractOptimizer) -> Fit:
        """The unknowns with those of magnitude below a threshold removed (0 keeps every one), or fitted by an
        optimizer."""

    def select(self, optimizer: AbstractOptimizer) -> tuple[list[AbstractOptimizer], list[ParetoPoint]]:
        """The optimizer's setting chosen on held-out data, per group, and every setting tried."""
        raise ValueError("choosing the threshold on held-out data needs a least-squares fit (S-MNN: fine-tuning)")

    def ensemble(self, setting, ensemble: Ensemble, seed: int = 0) -> Fit:
        """An ensemble's fit, with inclusion probabilities."""
        raise ValueError("an ensemble needs a least-squares fit (S-MNN: fine-tuning)")


class LeastSquares(Regression):
    """Minimise |r(a)|², sparsely.

    Args:
        residual: a → (rows,) residuals, a JAX function (compiled once).
        a0: (J,) the starting coefficients (used only when r is not affine).
        affine: r is affine in a: r and its Jacobian are evaluated once, every fit after that is NumPy.
        segments: (rows,) ints labelling contiguous stretches of the data. The standard
            error of each coefficient is the spread of the fits on each segment alone
            over √(segments) (batch means), which, unlike the textbook formula, holds for
            the correlated residuals of neighbouring samples.

    Example (`design` (400, 5), `target` (400,)):
        >>> fit = LeastSquares(lambda a: design @ a - target, np.zeros(5), affine=True, segments=np.arange(400) // 40)
        >>> fit.fit(0.1).active
        array([ True, False,  True, False, False])
    """

    def __init__(self, residual: Callable[[jax.Array], jax.Array], a0: np.ndarray, *, affine: bool, segments):
        self._residual = jax.jit(residual)
        jacobian = jax.jit(jax.jacfwd(residual))
        self._a0 = np.array(a0, dtype=np.float64)
        self.affine = affine
        self._segments = np.asarray(segments)
        self._evaluate = lambda a: (np.asarray(self._residual(a)), np.asarray(jacobian(a)))
        if affine:  # r(a) = A a − y
            r0, design = self._evaluate(self._a0)
            self._use_design(design, design @ self._a0 - r0)

    @classmethod
    def linear(cls, design: np.ndarray, target: np.ndarray, segments) -> LeastSquares:
        """The fit of r(a) = design·a − target, given as arrays (nothing to compile)."""
        self = cls.__new__(cls)
        self._a0 = np.zeros(design.shape[1])
        self.affine = True
        self._segments = np.asarray(segments)
        self._use_design(np.asarray(design, dtype=np.float64), np.asarray(target, dtype=np.float64))
        return self

    def _use_design(self, design: np.ndarray, target: np.ndarray) -> None:
        self.design, self.target = design, target
        self._evaluate = lambda a: (self.design @ a - self.target, self.design)
        self.groups = _groups(self.design)
        self._rows = [np.any(self.design[:, columns] != 0, axis=1) for columns in self.groups]
        self.scales = np.ones(self._a0.size)
        for columns, rows in zip(self.groups, self._rows):
            rms = np.sqrt(np.mean(self.design[rows][:, columns] ** 2, axis=0)) if rows.any() else 0.0
            self.scales[columns] = np.where(rms > 0, rms, 1.0)

    def fit(self, setting: float | AbstractOptimizer | Sequence[AbstractOptimizer]) -> Fit:
        """Fit with a raw threshold (STLSQ), an optimizer, or one optimizer per group."""
        if not self.affine:
            if not isinstance(setting, (int, float)):
                raise ValueError("a template that is not affine in its unknowns is fitted by thresholding alone")
            return self._fit_gauss_newton(float(setting))
        optimizers = self._per_group(setting)
        a = self._solve(optimizers, np.ones(self.design.shape[0]), np.ones(self._a0.size, dtype=bool))
        return self._finish(a, a != 0)

    def select(self, optimizer: AbstractOptimizer) -> tuple[list[AbstractOptimizer], list[ParetoPoint]]:
        """For each group, the sparsest setting along `optimizer.path` whose error on held-out segments is within
        max(10 % of the best, 1e-4) of the best, and every setting tried (the Pareto front). Of the settings that
        keep the same terms, the middle one is chosen (a threshold far from every coefficient).

        Each segment in turn is held out, the optimizer fitted on the others and the held-out rows
        predicted; the held-out error is the root mean square of all those predictions.
        """
        self._require_affine("choosing the threshold on held-out data")
        labels = np.unique(self._segments)
        if labels.size < 2:
            raise ValueError("choosing the threshold on held-out data needs at least two segments of data")
        chosen, front = [], []
        for columns, rows in zip(self.groups, self._rows):
            design, target = self._normalized(optimizer, columns, rows)
            allowed = np.ones(columns.size, dtype=bool)
            dense = least_squares(design, target)
            path = optimizer.path(np.abs(dense))
            # each fold's training rows as R, Qᵀy of their QR factorization: a fit on any columns of the P × P
            # R equals the fit on the rows (same minimiser, no squared condition number), at a fraction of the cost
            folds = [self._segments[rows] == k for k in labels]
            compressed = [_compress(design[~out], target[~out]) for out in folds]
            full = _compress(design, target)
            points, supports = [], set()
            for option in path:
                a = option.solve(*full, allowed)
                if (support := tuple(a != 0)) in supports:
                    continue  # a setting that keeps the same terms as one before it
                supports.add(support)
                training = float(np.sqrt(np.mean((design @ a - target) ** 2)))
                held_out = 0.0
                for out, fold in zip(folds, compressed):
                    held_out += float(np.sum((design[out] @ option.solve(*fold, allowed) - target[out]) ** 2))
                points.append((option, int(np.count_nonzero(a)), training, float(np.sqrt(held_out / rows.sum()))))
            best = min(p[3] for p in points)
            bound = best + max(SELECTION_TOLERANCE * best, SELECTION_FLOOR)
            pick = min((p for p in points if p[3] <= bound), key=lambda p: (p[1], p[3]))
            index = points.index(pick)
            option = pick[0]
            if index + 1 < len(points):  # the middle of the settings that keep these terms: robust to resampling
                middle = option.between(points[index + 1][0])
                if np.array_equal(middle.solve(*full, allowed) != 0, option.solve(*full, allowed) != 0):
                    option = middle
            points[index] = (option, *pick[1:])
            chosen.append(option)
            front += [ParetoPoint(int(columns[0]), o.setting(), n, e, h, o is option) for o, n, e, h in points]
        return chosen, front

    def ensemble(
        self, setting: AbstractOptimizer | Sequence[AbstractOptimizer], ensemble: Ensemble, seed: int = 0
    ) -> Fit:
        """Fits on bootstrap resamples of the segments (and without some terms of each group): the fraction of
        members keeping each unknown, and a refit of those kept by at least `ensemble.inclusion` of them, with the
        members' spread (interquartile, as a standard deviation) as their errors."""
        self._require_affine("an ensemble")
        optimizers = self._per_group(setting)
        rng = np.random.default_rng(seed)
        labels = np.unique(self._segments)
        members = []
        for _ in range(ensemble.members):
            weights = np.ones(self.design.shape[0])
            if ensemble.bootstrap:
                counts = np.bincount(rng.integers(0, labels.size, labels.size), minlength=labels.size)
                weights = counts[np.searchsorted(labels, self._segments)].astype(float)
            allowed = np.ones(self._a0.size, dtype=bool)
            for columns in self.groups:
                drop = min(ensemble.drop_terms, columns.size - 1)
                allowed[rng.choice(columns, drop, replace=False)] = False
            members.append(self._solve(optimizers, weights, allowed))
        members = np.array(members)
        kept = members != 0
        inclusion = kept.mean(axis=0)
        keep = inclusion >= ensemble.inclusion
        a = self._solve([STLSQ(0.0)] * len(self.groups), np.ones(self.design.shape[0]), keep)
        fit = self._finish(a, keep)
        spread_ = np.array([_robust_spread(m[k]) for m, k in zip(members.T, kept.T)])
        errors = np.where(keep & np.isfinite(spread_), spread_, fit.standard_errors)
        return Fit(fit.values, keep, np.where(keep, errors, 0.0), fit.residual_rms, inclusion)

    def collinear(self, terms: int = 4) -> list[list[tuple[int, float]]]:
        """For each group whose columns are (nearly) linearly dependent on these data, up to `terms` unknowns
        with the coefficients c_j of the relation Σ c_j·column_j ≈ 0 (largest |c_j| = 1)."""
        if not self.affine:
            return []
        found = []
        for columns, rows in zip(self.groups, self._rows):
            if columns.size < 2:
                continue
            design = self.design[np.ix_(rows, columns)] / self.scales[columns]
            _, singular, vectors = np.linalg.svd(design, full_matrices=False)
            if singular[-1] >= COLLINEAR * singular[0]:
                continue
            relation = vectors[-1] / self.scales[columns]
            relation /= relation[np.argmax(np.abs(relation))]
            order = np.argsort(-np.abs(vectors[-1]))[:terms]
            found.append([(int(columns[i]), float(relation[i])) for i in order if abs(vectors[-1][i]) > 1e-3])
        return found

    def _per_group(self, setting) -> list[AbstractOptimizer]:
        if isinstance(setting, (int, float)):
            if setting < 0:
                raise ValueError(f"threshold must be non-negative, not {setting}")
            setting = STLSQ(float(setting))
        if isinstance(setting, AbstractOptimizer):
            return [setting] * len(self.groups)
        return list(setting)

    def _normalized(self, optimizer: AbstractOptimizer, columns: np.ndarray, rows: np.ndarray):
        design = self.design[np.ix_(rows, columns)]
        return (design / self.scales[columns] if optimizer.normalize else design), self.target[rows]

    def _solve(self, optimizers: Sequence[AbstractOptimizer], weights: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        a = np.zeros(self._a0.size)
        for optimizer, columns, rows in zip(optimizers, self.groups, self._rows):
            design, target = self._normalized(optimizer, columns, rows)
            w = np.sqrt(weights[rows])[:, None]
            coefficients = optimizer.solve(design * w, target * w[:, 0], allowed[columns])
            a[columns] = coefficients / self.scales[columns] if optimizer.normalize else coefficients
        return a

    def _finish(self, a: np.ndarray, active: np.ndarray) -> Fit:
        """The fit with its batch-means standard errors and residual."""
        r, jacobian = self._evaluate(a)
        errors = np.zeros(a.size)
        segments = self._segments
        labels = np.unique(segments)
        if labels.size >= 2 and active.any():
            pieces = [a[active] + least_squares(jacobian[segments == k][:, active], -r[segments == k]) for k in labels]
            errors[active] = np.std(pieces, axis=0, ddof=1) / np.sqrt(labels.size)
        return Fit(values=a, active=active, standard_errors=errors, residual_rms=float(np.sqrt(np.mean(r**2))))

    def _fit_gauss_newton(self, threshold: float) -> Fit:
        if threshold < 0:
            raise ValueError(f"threshold must be non-negative, not {threshold}")
        a = self._a0.copy()
        active = np.ones(a.size, dtype=bool)
        for _ in range(_MAX_ROUNDS):
            a = _gauss_newton(self._residual, self._evaluate, a, active)
            small = active & (np.abs(a) < threshold)
            if not small.any():
                break
            a[small] = 0.0
            active &= ~small
        return self._finish(a, active)

    def _require_affine(self, what: str) -> None:
        if not self.affine:
            raise ValueError(f"{what} needs a template affine in its unknowns (a library, or linear coefficients)")


@dataclass(frozen=True)
class Ensemble:
    """Bagging for discovery (Fasel et al., 2022, as PySINDy's ensembles): `members` fits, each on a bootstrap
    resample of the data's segments (`bootstrap`) and without `drop_terms` random terms of each equation;
    terms kept by at least `inclusion` of the members are refitted on all the data."""

    members: int = 100
    bootstrap: bool = True
    drop_terms: int = 0
    inclusion: float = 0.5

    def __post_init__(self):
        if not (isinstance(self.members, int) and self.members >= 2):
            raise ValueError(f"Ensemble members must be an int of at least 2, not {self.members!r}")
        if not (isinstance(self.drop_terms, int) and self.drop_terms >= 0):
            raise ValueError(f"Ensemble drop_terms must be a non-negative int, not {self.drop_terms!r}")
        if not 0 < self.inclusion <= 1:
            raise ValueError(f"Ensemble inclusion must be a fraction in (0, 1], not {self.inclusion!r}")


def keeping_threshold(
    regression: Regression, members: Sequence[int], threshold: float, unthresholded: Fit
) -> tuple[float, Fit]:
    """A threshold below `threshold` that keeps some of the unknowns `members`, and the fit at it.

    The candidates lie in the gaps between the magnitudes of the `unthresholded` coefficients
    of `members`, the widest gap (by ratio) first, at its geometric middle rounded to one
    digit: the widest gap is the one between the size of real terms and that of noise. Each
    candidate is checked by fitting at it, since sequential thresholding can remove a large
    coefficient once a smaller one is gone; below the smallest magnitude every term stays.
    """
    members = list(members)
    sizes = np.sort(np.abs(unthresholded.values[members]))[::-1]
    sizes = sizes[sizes > 0]
    gaps = sorted(zip(sizes[:-1] / sizes[1:], np.sqrt(sizes[:-1] * sizes[1:])), reverse=True)
    candidates = [middle for _, middle in gaps] + ([sizes[-1] / 2] if sizes.size else [])
    for candidate in (float(f"{c:.1g}") for c in candidates):
        if candidate < threshold:
            fit = regression.fit(candidate)
            if fit.active[members].any():
                return candidate, fit
    return 0.0, unthresholded


def _compress(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, Qᵀy) with design = QR: |design·a − y|² = |R a − Qᵀy|² + a constant, for every a."""
    q, r = np.linalg.qr(design)
    return r, q.T @ target


def _robust_spread(values: np.ndarray) -> float:
    """The standard deviation a normal spread with the same interquartile range has (members that lost a
    correlated term can be far off; they should not set the error bar), NaN for fewer than two values."""
    if values.size < 2:
        return np.nan
    low, high = np.quantile(values, [0.25, 0.75])
    return float((high - low) / 1.349)


def _groups(design: np.ndarray) -> list[np.ndarray]:
    """The unknowns in groups that share no rows (connected through the rows where both columns are nonzero)."""
    touches = (design != 0).astype(np.float32)
    adjacent = (touches.T @ touches) > 0  # (J, J): the columns share a row
    owner = np.full(design.shape[1], -1)
    for j in range(design.shape[1]):
        if owner[j] >= 0:
            continue
        members = adjacent[j].copy()
        members[j] = True
        while True:  # grow to everything reachable
            grown = members | adjacent[members].any(axis=0)
            if np.array_equal(grown, members):
                break
            members = grown
        owner[members] = j
    return [np.flatnonzero(owner == r) for r in dict.fromkeys(owner)]


def _gauss_newton(residual_fn, evaluate, a: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Damped Gauss-Newton on the active unknowns, halving steps until the loss decreases."""
    if not active.any():
        return a
    loss = None
    for _ in range(_MAX_NEWTON):
        r, jacobian = evaluate(a)
        loss = float(r @ r) if loss is None else loss
        step = np.zeros_like(a)
        step[active] = least_squares(jacobian[:, active], -r)
        for _ in range(30):
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
