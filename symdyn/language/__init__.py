"""The symdyn language: model text to a syntax tree (no SymPy, no JAX)."""

from . import _syntax as syntax
from ._parser import parse_syntax as parse_syntax
from ._syntax_errors import DECLARATIONS as DECLARATIONS
from ._syntax_errors import SYNTAX_MISTAKES as SYNTAX_MISTAKES

__all__ = ["DECLARATIONS", "SYNTAX_MISTAKES", "parse_syntax", "syntax"]
