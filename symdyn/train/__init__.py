"""Neural ODEs trained through integrators, kept stable by Jacobian regularization (L_AD, L_FD)."""

from ..data import Chunks
from ._checkpoint import load_network, read_network_metadata, save_network
from ._evaluate import EXACT_JACOBIAN_LIMIT, Evaluation, comparison_table, evaluate
from ._losses import (
    AbstractObjective,
    AbstractRegularizer,
    JacobianAD,
    JacobianFD,
    TrajectoryObjective,
    objective,
    rollout,
    trajectory_loss,
)
from ._networks import MLP, AbstractNetwork, Hybrid, PeriodicCNN, network_kind
from ._search import GridSearch, grid_search
from ._train import HISTORY, Trained, TrainingDiverged, TrainState, fit, train

__all__ = [
    "EXACT_JACOBIAN_LIMIT",
    "HISTORY",
    "MLP",
    "PeriodicCNN",
    "AbstractNetwork",
    "AbstractObjective",
    "AbstractRegularizer",
    "Chunks",
    "Evaluation",
    "GridSearch",
    "Hybrid",
    "JacobianAD",
    "JacobianFD",
    "TrainState",
    "TrajectoryObjective",
    "Trained",
    "TrainingDiverged",
    "comparison_table",
    "evaluate",
    "fit",
    "grid_search",
    "load_network",
    "network_kind",
    "objective",
    "read_network_metadata",
    "rollout",
    "save_network",
    "train",
    "trajectory_loss",
]
