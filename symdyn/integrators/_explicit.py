"""Explicit Runge-Kutta methods, each defined by its tableau (Hairer, Nørsett & Wanner, I.II.1)."""

from __future__ import annotations

from sympy import Rational as Q

from ._runge_kutta import AbstractExplicitRungeKutta
from ._tableau import ButcherTableau


class Euler(AbstractExplicitRungeKutta):
    """Forward Euler, order 1. R(z) = 1 + z."""

    name = "euler"
    order = 1
    tableau = ButcherTableau(a=((0,),), b=(1,), c=(0,))


class Heun(AbstractExplicitRungeKutta):
    """Heun's method (explicit trapezoid), order 2."""

    name = "heun"
    order = 2
    tableau = ButcherTableau(a=((0, 0), (1, 0)), b=(Q(1, 2), Q(1, 2)), c=(0, 1))


class Midpoint(AbstractExplicitRungeKutta):
    """The explicit midpoint method, order 2."""

    name = "midpoint"
    order = 2
    tableau = ButcherTableau(a=((0, 0), (Q(1, 2), 0)), b=(0, 1), c=(0, Q(1, 2)))


class Rk3(AbstractExplicitRungeKutta):
    """Kutta's third-order method."""

    name = "rk3"
    order = 3
    tableau = ButcherTableau(
        a=((0, 0, 0), (Q(1, 2), 0, 0), (-1, 2, 0)),
        b=(Q(1, 6), Q(2, 3), Q(1, 6)),
        c=(0, Q(1, 2), 1),
    )


class Rk4(AbstractExplicitRungeKutta):
    """The classical fourth-order Runge-Kutta method. R(z) = 1 + z + z²/2 + z³/6 + z⁴/24."""

    name = "rk4"
    order = 4
    tableau = ButcherTableau(
        a=((0, 0, 0, 0), (Q(1, 2), 0, 0, 0), (0, Q(1, 2), 0, 0), (0, 0, 1, 0)),
        b=(Q(1, 6), Q(1, 3), Q(1, 3), Q(1, 6)),
        c=(0, Q(1, 2), Q(1, 2), 1),
    )
