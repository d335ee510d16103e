"""Equation discovery: S-MNN trajectory fitting and sparse regression, written back as model files."""

from ._derivatives import FiniteDifference, SavitzkyGolay
from ._discover import discover
from ._library import PolynomialLibrary
from ._method import AbstractDiscoveryMethod, History
from ._regression import Fit, thresholded_least_squares
from ._result import Discovery
from ._smnn import SMNN
from ._sparse import Sparse

__all__ = [
    "AbstractDiscoveryMethod",
    "History",
    "SMNN",
    "Discovery",
    "FiniteDifference",
    "Fit",
    "PolynomialLibrary",
    "SavitzkyGolay",
    "Sparse",
    "discover",
    "thresholded_least_squares",
]
