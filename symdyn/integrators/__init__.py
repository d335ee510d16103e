"""Fixed-step integrators: exact coefficients, exact stability functions, JAX steps."""

from ._explicit import Euler, Heun, Midpoint, Rk3, Rk4
from ._exponential import AbstractSplitIntegrator, Etd1, Etd2, Etdrk4, ImexEuler, ImexTrapezoid, contour_mean
from ._field import AbstractVectorField, CallableVectorField, ModelVectorField, PDEVectorField, vector_field
from ._implicit import GaussLegendre4, ImplicitEuler, ImplicitMidpoint, Trapezoid
from ._integrate import integrate
from ._integrator import ZETA, AbstractIntegrator, AbstractMultistepIntegrator, AbstractOneStepIntegrator, Z
from ._leapfrog import Leapfrog
from ._registry import available, default_method, get
from ._runge_kutta import AbstractExplicitRungeKutta, AbstractImplicitRungeKutta, AbstractRungeKutta
from ._tableau import ButcherTableau

__all__ = [
    "PDEVectorField",
    "contour_mean",
    "ImexTrapezoid",
    "ImexEuler",
    "Etdrk4",
    "Etd2",
    "Etd1",
    "AbstractSplitIntegrator",
    "ZETA",
    "AbstractExplicitRungeKutta",
    "AbstractImplicitRungeKutta",
    "AbstractIntegrator",
    "AbstractMultistepIntegrator",
    "AbstractOneStepIntegrator",
    "AbstractRungeKutta",
    "AbstractVectorField",
    "ButcherTableau",
    "CallableVectorField",
    "Euler",
    "GaussLegendre4",
    "Heun",
    "ImplicitEuler",
    "ImplicitMidpoint",
    "Leapfrog",
    "Midpoint",
    "ModelVectorField",
    "Rk3",
    "Rk4",
    "Trapezoid",
    "Z",
    "available",
    "default_method",
    "get",
    "integrate",
    "vector_field",
]
