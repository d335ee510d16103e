"""Models to JAX: generated functions with shared subexpressions, and their default arrays.

`symdyn.lower.internal` holds the code-generation plumbing that other layers build on
(S-MNN templates); it is not part of the public API.
"""

from ._abstract import AbstractLoweredModel
from ._grid import AbstractDerivatives, Domain, GridCoupling, SpectralDerivatives, StencilDerivatives
from ._inputs import InputSignal
from ._lower import lower_model
from ._ode import LoweredModel
from ._pde import DENSE_JACOBIAN_LIMIT, LoweredPDE

__all__ = [
    "DENSE_JACOBIAN_LIMIT",
    "AbstractDerivatives",
    "AbstractLoweredModel",
    "Domain",
    "GridCoupling",
    "InputSignal",
    "LoweredModel",
    "LoweredPDE",
    "SpectralDerivatives",
    "StencilDerivatives",
    "lower_model",
]
