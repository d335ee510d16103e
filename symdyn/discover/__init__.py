"""Equation discovery: S-MNN trajectory fitting and sparse regression, written back as model files."""

from ._data import Trajectories, trajectories
from ._derivatives import FiniteDifference, SavitzkyGolay
from ._discover import discover
from ._library import PolynomialLibrary
from ._regression import Fit, thresholded_least_squares
from ._result import Discovery
from ._smnn import SMNN
from ._sparse import Sparse

__all__ = [
    "SMNN",
    "Discovery",
    "FiniteDifference",
    "Fit",
    "PolynomialLibrary",
    "SavitzkyGolay",
    "Sparse",
    "Trajectories",
    "discover",
    "thresholded_least_squares",
    "trajectories",
]
