"""symdyn: dynamical systems from model files to exact Jacobians and JAX."""

from ._errors import SymdynError, SymdynSemanticError, SymdynSyntaxError
from .discover import discover
from .model import Model, load, parse

__version__ = "0.1.0"

__all__ = ["Model", "SymdynError", "SymdynSemanticError", "SymdynSyntaxError", "discover", "load", "parse"]
