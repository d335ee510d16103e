"""Sparse optimizers: which candidate terms to keep, and their coefficients, for y ≈ A·a.

Each optimizer sees one group of unknowns at a time (for a library, the terms of one equation)
and, with `normalize`, columns scaled to unit root mean square, so that its threshold compares the
contributions of the terms to the rate, not coefficients in the data's units. Each has one
setting that trades error for terms (`threshold`, or `terms` for the exact best subset), which
`path` lists from dense to sparse for model selection on held-out data.
"""

from __future__ import annotations

import abc
import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np

_MAX_ROUNDS = 20
_MAX_SUBSETS = 50_000


def least_squares(design: np.ndarray, target: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """argmin |A a − y|² + α|a|², by SVD (columns of libraries differ in scale by orders of magnitude)."""
    if alpha > 0:
        design = np.vstack([design, math.sqrt(alpha) * np.eye(design.shape[1])])
        target = np.concatenate([target, np.zeros(design.shape[1])])
    return np.linalg.lstsq(design, target, rcond=None)[0]


def _refit(design: np.ndarray, target: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Plain least squares on the kept columns, zeros elsewhere (unbiased after a penalized selection)."""
    a = np.zeros(design.shape[1])
    if keep.any():
        a[keep] = least_squares(design[:, keep], target)
    return a


class AbstractOptimizer(abc.ABC):
    """Fits y ≈ A·a with few nonzero a; `normalize` decides whether A's columns are scaled first."""

    normalize: bool

    @abc.abstractmethod
    def solve(self, design: np.ndarray, target: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """(P,) coefficients for the (rows, P) `design`, zero outside `allowed` and where the optimizer removes."""

    @abc.abstractmethod
    def path(self, magnitudes: np.ndarray) -> list[AbstractOptimizer]:
        """Settings from keeping every term to keeping one, given the magnitudes of the dense fit's coefficients."""

    @abc.abstractmethod
    def setting(self) -> str:
        """The setting `path` varies, in words (`threshold 0.05`)."""

    def between(self, sparser: AbstractOptimizer) -> AbstractOptimizer:
        """A setting between this one and the `sparser` next one on the path (this one, for discrete settings)."""
        return self


def _middle(optimizer, sparser):
    """The geometric middle of two thresholds (half the larger when the smaller is 0)."""
    low, high = optimizer.threshold, sparser.threshold
    return dataclasses.replace(optimizer, threshold=float(np.sqrt(low * high) if low > 0 else high / 2))


def _thresholds(magnitudes: np.ndarray) -> list[float]:
    """0, then the geometric middle of every gap between consecutive sorted magnitudes, ascending."""
    sizes = np.sort(magnitudes[magnitudes > 0])
    return [0.0, *np.sqrt(sizes[:-1] * sizes[1:])]


@dataclass(frozen=True)
class STLSQ(AbstractOptimizer):
    """Sequentially thresholded least squares (Brunton et al., 2016), ridge-regularized as in PySINDy.

    Fits the allowed terms, removes those whose coefficients are below `threshold` in magnitude,
    and refits until nothing changes; each fit minimises |A a − y|² + α|a|², and the kept terms are
    refitted without the ridge term at the end.
    """

    threshold: float = 0.1
    alpha: float = 0.0
    normalize: bool = False

    def __post_init__(self):
        if not (self.threshold >= 0 and self.alpha >= 0):
            raise ValueError(f"STLSQ threshold and alpha must be non-negative, not {self.threshold}, {self.alpha}")

    def solve(self, design, target, allowed):
        active = allowed.copy()
        for _ in range(_MAX_ROUNDS):
            a = np.zeros(design.shape[1])
            if active.any():
                a[active] = least_squares(design[:, active], target, self.alpha)
            small = active & (np.abs(a) < self.threshold)
            if not small.any():
                break
            active &= ~small
        return _refit(design, target, active) if self.alpha > 0 else np.where(active, a, 0.0)

    def path(self, magnitudes):
        return [dataclasses.replace(self, threshold=float(t)) for t in _thresholds(magnitudes)]

    def setting(self):
        return f"threshold {self.threshold:.3g}"

    between = _middle


@dataclass(frozen=True)
class SR3(AbstractOptimizer):
    """Sparse relaxed regularized regression (Zheng et al., 2018) with the ℓ0 penalty, as PySINDy's SR3.

    Alternates a = argmin |A a − y|² + |a − w|²/ν and w = a with entries below `threshold` set to 0,
    until w settles; the support of w is then refitted by plain least squares.
    """

    threshold: float = 0.1
    nu: float = 1.0
    normalize: bool = False
    iterations: int = 1000

    def __post_init__(self):
        if not (self.threshold >= 0 and self.nu > 0):
            raise ValueError(f"SR3 needs threshold >= 0 and nu > 0, not {self.threshold}, {self.nu}")

    def solve(self, design, target, allowed):
        a_design = design[:, allowed]
        gram = a_design.T @ a_design + np.eye(a_design.shape[1]) / self.nu
        right = a_design.T @ target
        w = least_squares(a_design, target)
        for _ in range(self.iterations):
            a = np.linalg.solve(gram, right + w / self.nu)
            w_next = np.where(np.abs(a) >= self.threshold, a, 0.0)
            settled = np.max(np.abs(w_next - w), initial=0.0) <= 1e-12 * max(1.0, np.max(np.abs(w), initial=0.0))
            w = w_next
            if settled:
                break
        keep = np.zeros(design.shape[1], dtype=bool)
        keep[np.flatnonzero(allowed)[w != 0]] = True
        return _refit(design, target, keep)

    def path(self, magnitudes):
        return [dataclasses.replace(self, threshold=float(t)) for t in _thresholds(magnitudes)]

    def setting(self):
        return f"threshold {self.threshold:.3g}"

    between = _middle


@dataclass(frozen=True)
class BestSubset(AbstractOptimizer):
    """The exact best fit with `terms` terms per equation, by enumerating supports (as MIOSR finds by
    mixed-integer optimization): for small libraries, no threshold to choose and no greedy path to miss.

    Enumerates at most 50,000 supports per equation; larger libraries are refused.
    """

    terms: int = 3
    normalize: bool = True

    def __post_init__(self):
        if not (isinstance(self.terms, int) and self.terms >= 1):
            raise ValueError(f"BestSubset terms must be a positive int, not {self.terms!r}")

    def solve(self, design, target, allowed):
        indices = np.flatnonzero(allowed)
        k = min(self.terms, indices.size)
        if math.comb(indices.size, k) > _MAX_SUBSETS:
            raise ValueError(
                f"BestSubset({self.terms}) would try {math.comb(indices.size, k)} supports of {indices.size} terms; "
                "use STLSQ or SR3 for a library this large"
            )
        gram, right = design.T @ design, design.T @ target
        best, best_value = None, -np.inf
        for support in itertools.combinations(indices, k):
            support = list(support)
            try:
                coefficients = np.linalg.solve(gram[np.ix_(support, support)], right[support])
            except np.linalg.LinAlgError:
                continue
            explained = float(right[support] @ coefficients)  # |y|² − |residual|²
            if explained > best_value:
                best, best_value = support, explained
        keep = np.zeros(design.shape[1], dtype=bool)
        keep[best if best is not None else []] = True
        return _refit(design, target, keep)

    def path(self, magnitudes):
        return [dataclasses.replace(self, terms=k) for k in range(max(magnitudes.size, 1), 0, -1)]

    def setting(self):
        return f"{self.terms} terms"
