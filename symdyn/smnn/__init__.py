"""S-MNN: the scalable mechanistic neural network solver for linear ODEs (Chen et al., ICLR 2025), and the
mechanistic networks built on it: encoder, S-MNN layer and decoder."""

from ._block_solver import AbstractBlockSolver, Blocks, BlockTridiagonal, block_tridiagonal_solve
from ._cyclic_reduction import CyclicReductionSolver
from ._dense import dense_solve, mnn_dense_solve
from ._encoders import AbstractEncoder, LinearDecoder, MLPEncoder, ResNet1D, encoder_from_config
from ._forecaster import (
    AbstractForecaster,
    DirectForecaster,
    MechanisticForecaster,
    forecaster_from_config,
    mechanistic_forecaster,
)
from ._layer import (
    SMNN,
    AbstractLinearODESolver,
    DenseLeastSquares,
    DenseMNN,
    MechanisticLayer,
    linear_ode_solver,
)
from ._sequential import SequentialSolver
from ._solve import choose_method, solve
from ._template import LinearTemplate, template
from ._time_sharded import TimeShardedSolver

__all__ = [
    "AbstractBlockSolver",
    "AbstractEncoder",
    "AbstractForecaster",
    "AbstractLinearODESolver",
    "BlockTridiagonal",
    "Blocks",
    "CyclicReductionSolver",
    "DenseLeastSquares",
    "DenseMNN",
    "DirectForecaster",
    "LinearDecoder",
    "LinearTemplate",
    "MLPEncoder",
    "MechanisticForecaster",
    "MechanisticLayer",
    "ResNet1D",
    "SMNN",
    "SequentialSolver",
    "TimeShardedSolver",
    "block_tridiagonal_solve",
    "choose_method",
    "dense_solve",
    "encoder_from_config",
    "forecaster_from_config",
    "linear_ode_solver",
    "mechanistic_forecaster",
    "mnn_dense_solve",
    "solve",
    "template",
]
