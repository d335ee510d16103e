"""Integrators by name, resolved once where a user types one (`method="rk4"`, `--method rk4`)."""

from __future__ import annotations

import difflib

from ..lower import AbstractLoweredModel, LoweredPDE
from ._explicit import Euler, Heun, Midpoint, Rk3, Rk4
from ._exponential import DENSE_SPLIT_LIMIT, AbstractSplitIntegrator, Etd1, Etd2, Etdrk4, ImexEuler, ImexTrapezoid
from ._implicit import GaussLegendre4, ImplicitEuler, ImplicitMidpoint, Trapezoid
from ._integrator import AbstractIntegrator
from ._leapfrog import Leapfrog

_INTEGRATORS: dict[str, type[AbstractIntegrator]] = {
    cls.name: cls
    for cls in (
        Euler,
        Heun,
        Midpoint,
        Rk3,
        Rk4,
        ImplicitEuler,
        ImplicitMidpoint,
        Trapezoid,
        GaussLegendre4,
        Leapfrog,
        Etd1,
        Etd2,
        Etdrk4,
        ImexEuler,
        ImexTrapezoid,
    )
}


def available(*, split: bool | None = None) -> tuple[str, ...]:
    """The names `get` knows; `split=True` only the methods for a PDE's split u' = L u + N(u)
    (exponential and IMEX), `split=False` only those for any vector field."""
    if split is None:
        return tuple(_INTEGRATORS)
    return tuple(name for name, cls in _INTEGRATORS.items() if issubclass(cls, AbstractSplitIntegrator) == split)


def default_method(model: AbstractLoweredModel) -> str:
    """ETDRK4 for a PDE whose stiff linear part it can take exactly: on a periodic domain (L diagonal in
    Fourier space) and on a bounded one of at most `DENSE_SPLIT_LIMIT` state entries (φ-functions of the
    matrix L); IMEX trapezoid on larger bounded grids (banded solves); RK4 for ODEs."""
    if not isinstance(model, LoweredPDE):
        return "rk4"
    if all(model.domain.periodic) or model.coupling.size <= DENSE_SPLIT_LIMIT:
        return "etdrk4"
    return "imex_trapezoid"


def get(method: str | AbstractIntegrator) -> AbstractIntegrator:
    """The integrator called `method` (an integrator instance passes through).

    Raises:
        ValueError: an unknown name, with the closest known one.
    """
    if isinstance(method, AbstractIntegrator):
        return method
    if not isinstance(method, str) or method not in _INTEGRATORS:
        close = difflib.get_close_matches(str(method), _INTEGRATORS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown integrator {method!r}{hint} Known: {', '.join(_INTEGRATORS)}")
    return _INTEGRATORS[method]()
