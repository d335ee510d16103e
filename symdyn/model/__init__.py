"""Model files to exact SymPy models: name resolution, checks, first-order form, printing."""

from ._components import (
    BoundaryCondition,
    Constant,
    Coordinate,
    Definition,
    Equation,
    InitialValue,
    Input,
    Parameter,
    State,
    Unknown,
)
from ._conservative import Flux, conservative_form, total_derivatives
from ._first_order import FirstOrderSystem, Jet
from ._latex import expression_to_latex
from ._linear import LinearSplit, LinearTerm
from ._load import load, parse
from ._model import Model
from ._names import NameMatch, ascii_name, match_name, spellings
from ._text import SymdynPrinter, expression_to_text

__all__ = [
    "BoundaryCondition",
    "Constant",
    "Coordinate",
    "Definition",
    "Equation",
    "FirstOrderSystem",
    "Flux",
    "InitialValue",
    "Input",
    "Jet",
    "LinearSplit",
    "LinearTerm",
    "Model",
    "NameMatch",
    "Parameter",
    "State",
    "SymdynPrinter",
    "Unknown",
    "ascii_name",
    "conservative_form",
    "expression_to_latex",
    "expression_to_text",
    "load",
    "match_name",
    "parse",
    "spellings",
    "total_derivatives",
]
