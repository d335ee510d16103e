"""Neural ODEs trained through integrators, kept stable by Jacobian regularization (L_AD, L_FD)."""

from ..data import Chunks
from ._checkpoint import load_field, read_field_metadata, save_field
from ._evaluate import EXACT_JACOBIAN_LIMIT, Evaluation, evaluate
from ._fields import MLP, AbstractField, Hybrid
from ._losses import AbstractRegularizer, JacobianAD, JacobianFD, rollout, trajectory_loss
from ._search import GridSearch, grid_search
from ._train import HISTORY, Trained, TrainingDiverged, TrainState, train

__all__ = [
    "EXACT_JACOBIAN_LIMIT",
    "HISTORY",
    "MLP",
    "AbstractField",
    "AbstractRegularizer",
    "Chunks",
    "Evaluation",
    "GridSearch",
    "Hybrid",
    "JacobianAD",
    "JacobianFD",
    "TrainState",
    "Trained",
    "TrainingDiverged",
    "evaluate",
    "grid_search",
    "load_field",
    "read_field_metadata",
    "rollout",
    "save_field",
    "train",
    "trajectory_loss",
]
