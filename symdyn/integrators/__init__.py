"""Fixed-step integrators: exact coefficients, exact stability functions, JAX steps."""

from ._explicit import Euler, Heun, Midpoint, Rk3, Rk4
from ._integrate import integrate
from ._integrator import AbstractExplicitRungeKutta, AbstractIntegrator
from ._registry import available, get
from ._tableau import ButcherTableau

__all__ = [
    "AbstractExplicitRungeKutta",
    "AbstractIntegrator",
    "ButcherTableau",
    "Euler",
    "Heun",
    "Midpoint",
    "Rk3",
    "Rk4",
    "available",
    "get",
    "integrate",
]
