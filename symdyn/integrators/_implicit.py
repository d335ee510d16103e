"""Implicit Runge-Kutta methods (Hairer & Wanner, Solving ODEs II, IV.5), each defined by its tableau."""

from __future__ import annotations

import sympy as sp
from sympy import Rational as Q

from ._runge_kutta import AbstractImplicitRungeKutta
from ._tableau import ButcherTableau

_ROOT3 = sp.sqrt(3)


class ImplicitEuler(AbstractImplicitRungeKutta):
    """Backward Euler, order 1, L-stable. R(z) = 1/(1 − z)."""

    name = "implicit_euler"
    order = 1
    tableau = ButcherTableau(a=((1,),), b=(1,), c=(1,))


class ImplicitMidpoint(AbstractImplicitRungeKutta):
    """The implicit midpoint rule, order 2, symplectic; its stability region is exactly the left half plane.

    R(z) = (2 + z)/(2 − z): damped stays damped, conservative stays conservative (Lu & Tsai).
    """

    name = "implicit_midpoint"
    order = 2
    tableau = ButcherTableau(a=((Q(1, 2),),), b=(1,), c=(Q(1, 2),))


class Trapezoid(AbstractImplicitRungeKutta):
    """The trapezoidal rule (Crank-Nicolson), order 2. R(z) = (2 + z)/(2 − z)."""

    name = "trapezoid"
    order = 2
    tableau = ButcherTableau(a=((0, 0), (Q(1, 2), Q(1, 2))), b=(Q(1, 2), Q(1, 2)), c=(0, 1))


class GaussLegendre4(AbstractImplicitRungeKutta):
    """The two-stage Gauss-Legendre method, order 4, symplectic. R(z) = (1 + z/2 + z²/12)/(1 − z/2 + z²/12)."""

    name = "gauss_legendre4"
    order = 4
    tableau = ButcherTableau(
        a=((Q(1, 4), Q(1, 4) - _ROOT3 / 6), (Q(1, 4) + _ROOT3 / 6, Q(1, 4))),
        b=(Q(1, 2), Q(1, 2)),
        c=(Q(1, 2) - _ROOT3 / 6, Q(1, 2) + _ROOT3 / 6),
    )
