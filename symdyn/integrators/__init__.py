"""Fixed-step integrators: exact coefficients, exact stability functions, JAX steps."""

from ._explicit import Euler as Euler
from ._explicit import Heun as Heun
from ._explicit import Midpoint as Midpoint
from ._explicit import Rk3 as Rk3
from ._explicit import Rk4 as Rk4
from ._integrate import integrate as integrate
from ._integrator import (
    AbstractExplicitRungeKutta as AbstractExplicitRungeKutta,
)
from ._integrator import (
    AbstractIntegrator as AbstractIntegrator,
)
from ._registry import available as available
from ._registry import get as get
from ._tableau import ButcherTableau as ButcherTableau
