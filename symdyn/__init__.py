"""symdyn: dynamical systems from model files to exact Jacobians and JAX."""

from importlib.metadata import PackageNotFoundError, version

from ._distributed import device_mesh, initialize_distributed, is_writer
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
    "device_mesh",
    "discover",
    "initialize_distributed",
    "is_writer",
    "load",
    "parse",
]
