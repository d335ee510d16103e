"""Models to JAX: generated functions with shared subexpressions, and their default arrays."""

from ._codegen import GeneratedModule, generate_module
from ._grid import Domain, FiniteDifference, Spectral
from ._lowered import LoweredModel, lower_model
from ._pde import DENSE_JACOBIAN_LIMIT, LoweredPDE
from ._source import SymbolTable, compile_module, function_source, module_source

__all__ = [
    "DENSE_JACOBIAN_LIMIT",
    "Domain",
    "FiniteDifference",
    "LoweredPDE",
    "Spectral",
    "GeneratedModule",
    "LoweredModel",
    "SymbolTable",
    "compile_module",
    "function_source",
    "generate_module",
    "lower_model",
    "module_source",
]
