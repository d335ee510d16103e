"""S-MNN: the scalable mechanistic neural network solver for linear ODEs (Chen et al., ICLR 2025)."""

from ._block_solver import AbstractBlockSolver, block_tridiagonal_solve
from ._cyclic_reduction import CyclicReductionSolver
from ._dense import dense_solve, mnn_dense_solve
from ._sequential import SequentialSolver
from ._solve import choose_method, solve
from ._template import LinearTemplate, template

__all__ = [
    "AbstractBlockSolver",
    "CyclicReductionSolver",
    "LinearTemplate",
    "SequentialSolver",
    "block_tridiagonal_solve",
    "choose_method",
    "dense_solve",
    "mnn_dense_solve",
    "solve",
    "template",
]
