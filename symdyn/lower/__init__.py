"""Models to JAX: generated functions with shared subexpressions, and their default arrays."""

from ._codegen import GeneratedModule as GeneratedModule
from ._codegen import generate_module as generate_module
from ._lowered import LoweredModel as LoweredModel
from ._lowered import lower_model as lower_model
