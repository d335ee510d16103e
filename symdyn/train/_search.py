"""`grid_search`: the regularizer's weight λ chosen on the validation trajectory loss (seed Appendix B.2)."""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import ProcessPart, Trajectories
from ._losses import AbstractRegularizer
from ._networks import AbstractNetwork
from ._train import Trained, fit_side_by_side, prepare, train


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
    data: Trajectories | ProcessPart,
    regularizer: AbstractRegularizer,
    weights: Sequence[float],
    *,
    validation: Trajectories,
    **options: Any,
) -> GridSearch:
    """Train `network` with `regularizer` at each weight λ, from the same start and key, and keep them all.

    The trainings run side by side: one compiled epoch (λ is an array, not a constant of the
    program) mapped over the weights, their states split over the devices in gcd(len(weights), N)
    groups, each group splitting the minibatch over its devices. Each result equals the training
    alone up to round-off. Resuming from existing checkpoints trains one weight after another,
    each from its own epoch.

    Args:
        network, data: as for `train`. regularizer: `JacobianAD(...)` or `JacobianFD(...)`;
            its own weight is replaced by each of `weights`.
        validation: the trajectories the choice is made on (required).
        options: the other keywords of `train` (rollout, epochs, key, devices, ...). A `checkpoint`
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
    paths = [None if checkpoint is None else f"{checkpoint}.lambda{weight:g}" for weight in weights]
    resuming = options.get("resume") and any(path is not None and os.path.exists(path) for path in paths)
    # one after another: a resumed training continues from its own epoch; data read in parts lies on a 1-D mesh
    if len(weights) == 1 or resuming or isinstance(data, ProcessPart):
        results = [
            train(
                network,
                data,
                regularizer=regularizer.with_weight(weight),
                validation=validation,
                checkpoint=path,
                **options,
            )
            for weight, path in zip(weights, paths)
        ]
        return GridSearch(weights, tuple(results))
    settings = dict(_TRAIN_DEFAULTS) | options
    unknown = set(settings) - set(_TRAIN_DEFAULTS) - {"rollout", "epochs", "key"}
    missing = {"rollout", "epochs", "key"} - set(settings)
    if unknown or missing:
        raise TypeError(f"grid_search: unexpected keywords {sorted(unknown)}, missing {sorted(missing)}")
    if settings["resume"] and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint file")
    prepared = [
        prepare(
            network,
            data,
            settings["rollout"],
            settings["epochs"],
            settings["dt"],
            settings["method"],
            regularizer.with_weight(weight),
            validation,
            settings["batch_size"],
            settings["checkpoint_every"],
            settings["devices"],
        )
        for weight in weights
    ]
    _, chunks, held_out, first, _ = prepared[0]
    results = fit_side_by_side(
        network,
        [objective for objective, *_ in prepared],
        chunks,
        labels=[f"λ = {weight:g}" for weight in weights],
        epochs=settings["epochs"],
        key=settings["key"],
        config=network.config,
        settings=[lane for *_, lane, _ in prepared],
        checkpoints=paths,
        validation=held_out,
        batch_size=first["batch_size"],
        optimizer=settings["optimizer"],
        checkpoint_every=settings["checkpoint_every"],
        progress=settings["progress"],
        devices=settings["devices"],
    )
    return GridSearch(weights, tuple(results))


# train's keywords with defaults, besides the network, data, regularizer, validation and checkpoint
_TRAIN_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(train).parameters.items()
    if parameter.default is not inspect.Parameter.empty and name not in ("regularizer", "validation", "checkpoint")
}
