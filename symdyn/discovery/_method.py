"""The interface of a discovery method: fit a template's unknowns to trajectories."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

import jax
import numpy as np

from ..data import Trajectories
from ._candidates import Candidates
from ._regression import Regression


@dataclass(frozen=True)
class History:
    """The loss at each optimizer step, the wall time of a step (compilation excluded), and why the
    optimizer stopped before its last step ("" when it took them all)."""

    losses: np.ndarray
    seconds_per_step: float
    stop: str = ""


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
    def regression(
        self, candidates: Candidates, data: Trajectories, *, key: jax.Array, progress: bool
    ) -> tuple[Regression, History | None]:
        """The unknowns ready to be fitted at any threshold (after the method's optimizer, if it has
        one), and the optimizer's history."""
