"""The interface of a discovery method: fit a template's unknowns to trajectories."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

import jax
import numpy as np

from ..data import Trajectories
from ._candidates import Candidates
from ._regression import Fit


@dataclass(frozen=True)
class History:
    """The loss at each optimizer step and the wall time of a step (compilation excluded)."""

    losses: np.ndarray
    seconds_per_step: float


class AbstractDiscoveryMethod(abc.ABC):
    """A way to fit the unknowns of a template to trajectories (`SMNN`, `Sparse`).

    A concrete method declares its `name` (as a user types it: `method="sparse"`).
    """

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("Abstract") and not isinstance(getattr(cls, "name", None), str):
            raise TypeError(f"{cls.__name__} must set the class variable `name` (a str)")

    @abc.abstractmethod
    def describe(self) -> str:
        """The method and its settings, in words."""

    @abc.abstractmethod
    def fit(
        self, candidates: Candidates, data: Trajectories, *, threshold: float, key: jax.Array, progress: bool
    ) -> tuple[Fit, History | None]:
        """The fitted unknowns (thresholded), and the optimizer's history if it has one."""
