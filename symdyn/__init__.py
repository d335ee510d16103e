"""symdyn: dynamical systems from model files to exact Jacobians and JAX."""

from ._errors import (
    SymdynError as SymdynError,
)
from ._errors import (
    SymdynSemanticError as SymdynSemanticError,
)
from ._errors import (
    SymdynSyntaxError as SymdynSyntaxError,
)
from .model import Model as Model
from .model import load as load
from .model import parse as parse

__version__ = "0.1.0"
