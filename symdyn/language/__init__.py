"""The symdyn language: model text to a syntax tree (no SymPy, no JAX)."""

from . import _syntax as syntax
from ._parser import parse_syntax
from ._syntax_errors import DECLARATIONS, SYNTAX_MISTAKES

__all__ = ["DECLARATIONS", "SYNTAX_MISTAKES", "parse_syntax", "syntax"]
