"""symdyn: dynamical systems from model files to exact Jacobians and JAX."""

from importlib.metadata import PackageNotFoundError, version

from ._errors import SymdynError, SymdynSemanticError, SymdynSyntaxError
from ._results import RESULTS, SymdynRuntimeError
from .discovery import discover
from .model import Model, load, parse

try:
    __version__ = version("symdyn")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "RESULTS",
    "Model",
    "SymdynError",
    "SymdynRuntimeError",
    "SymdynSemanticError",
    "SymdynSyntaxError",
    "discover",
    "load",
    "parse",
]
