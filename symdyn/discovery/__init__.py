"""Equation discovery: S-MNN trajectory fitting and sparse regression, written back as model files."""

from ._derivatives import FiniteDifference, SavitzkyGolay
from ._discover import DiscoveryWarning, discover
from ._library import PolynomialLibrary
from ._method import AbstractDiscoveryMethod, History
from ._regression import Fit, LeastSquares, Regression
from ._result import Discovery
from ._smnn import SMNN, Plateau
from ._sparse import Sparse

__all__ = [
    "AbstractDiscoveryMethod",
    "History",
    "SMNN",
    "Discovery",
    "DiscoveryWarning",
    "FiniteDifference",
    "Fit",
    "LeastSquares",
    "Plateau",
    "PolynomialLibrary",
    "Regression",
    "SavitzkyGolay",
    "Sparse",
    "discover",
]
