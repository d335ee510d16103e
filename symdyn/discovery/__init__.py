"""Equation discovery: S-MNN trajectory fitting, sparse regression and the weak form, over templates or candidate
libraries, for ODEs and PDEs, written back as model files."""

from ._derivatives import FiniteDifference, SavitzkyGolay
from ._discover import DiscoveryWarning, discover
from ._library import (
    AbstractLibrary,
    CustomLibrary,
    DerivativeLibrary,
    FourierLibrary,
    PolynomialLibrary,
    ProductLibrary,
    SumLibrary,
    parse_library,
)
from ._method import AbstractDiscoveryMethod, History
from ._optimizers import SR3, STLSQ, AbstractOptimizer, BestSubset
from ._regression import Ensemble, Fit, LeastSquares, ParetoPoint, Regression
from ._result import Discovery
from ._smnn import SMNN, Plateau
from ._sparse import Sparse
from ._weak import WeakForm

__all__ = [
    "AbstractDiscoveryMethod",
    "AbstractLibrary",
    "AbstractOptimizer",
    "BestSubset",
    "CustomLibrary",
    "DerivativeLibrary",
    "Discovery",
    "DiscoveryWarning",
    "Ensemble",
    "FiniteDifference",
    "Fit",
    "FourierLibrary",
    "History",
    "LeastSquares",
    "ParetoPoint",
    "Plateau",
    "PolynomialLibrary",
    "ProductLibrary",
    "Regression",
    "SMNN",
    "SR3",
    "STLSQ",
    "SavitzkyGolay",
    "Sparse",
    "SumLibrary",
    "WeakForm",
    "discover",
    "parse_library",
]
