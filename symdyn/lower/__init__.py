"""Models to JAX: generated functions with shared subexpressions, and their default arrays."""

from ._codegen import GeneratedModule, generate_module
from ._lowered import LoweredModel, lower_model

__all__ = ["GeneratedModule", "LoweredModel", "generate_module", "lower_model"]
