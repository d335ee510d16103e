"""`grid_search`: the regularizer's weight λ chosen on the validation trajectory loss (seed Appendix B.2)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import Trajectories
from ._losses import AbstractRegularizer
from ._networks import AbstractNetwork
from ._train import Trained, train


@dataclasses.dataclass(frozen=True)
class GridSearch:
    """One training per weight; `best` is the one of lowest validation trajectory loss."""

    weights: tuple[float, ...]
    results: tuple[Trained, ...]

    @property
    def validation(self) -> np.ndarray:
        """(len(weights),) each training's best validation trajectory loss."""
        return np.array([result.best_validation for result in self.results])

    @property
    def best_index(self) -> int:
        losses = np.where(np.isfinite(self.validation), self.validation, np.inf)
        return int(np.argmin(losses))

    @property
    def best_weight(self) -> float:
        return self.weights[self.best_index]

    @property
    def best(self) -> Trained:
        return self.results[self.best_index]

    def table(self) -> str:
        rows = [f"{'weight':>10}  validation"]
        for i, (weight, loss) in enumerate(zip(self.weights, self.validation)):
            rows.append(f"{weight:>10.3g}  {loss:.4e}{'  <- best' if i == self.best_index else ''}")
        return "\n".join(rows)


def grid_search(
    network: AbstractNetwork,
    data: Trajectories,
    regularizer: AbstractRegularizer,
    weights: Sequence[float],
    *,
    validation: Trajectories,
    **options: Any,
) -> GridSearch:
    """Train `network` with `regularizer` at each weight λ, from the same start and key, and keep them all.

    Every training shares one compiled epoch (λ is an array, not a constant of the program).

    Args:
        network, data: as for `train`. regularizer: `JacobianAD(...)` or `JacobianFD(...)`;
            its own weight is replaced by each of `weights`.
        validation: the trajectories the choice is made on (required).
        options: the other keywords of `train` (rollout, epochs, key, ...). A `checkpoint`
            path gets the weight appended so the trainings keep separate files.

    Example:
        >>> search = grid_search(network, data, JacobianFD(0.0), [1e-2, 1e-4], validation=val,
        ...                      rollout=2, epochs=100, key=key)
        >>> search.best_weight
    """
    if validation is None:
        raise ValueError("grid_search selects on validation data; pass validation=")
    weights = tuple(float(w) for w in weights)
    if not weights:
        raise ValueError("weights must hold at least one value")
    checkpoint = options.pop("checkpoint", None)
    results = []
    for weight in weights:
        path = None if checkpoint is None else f"{checkpoint}.lambda{weight:g}"
        results.append(
            train(
                network,
                data,
                regularizer=regularizer.with_weight(weight),
                validation=validation,
                checkpoint=path,
                **options,
            )
        )
    return GridSearch(weights, tuple(results))
