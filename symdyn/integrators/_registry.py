"""Integrators by name, resolved once where a user types one (`method="rk4"`, `--method rk4`)."""

from __future__ import annotations

import difflib

from ._explicit import Euler, Heun, Midpoint, Rk3, Rk4
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
    )
}


def available() -> tuple[str, ...]:
    """The names `get` knows."""
    return tuple(_INTEGRATORS)


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
