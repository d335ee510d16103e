"""Neural ODEs trained through integrators, kept stable by Jacobian regularization (L_AD, L_FD); forecasters
(mechanistic networks and their baselines) trained on windows and scored by NMSE; the loop both share."""

from ..data import Chunks
from ._checkpoint import load_network, read_network_metadata, save_network
from ._evaluate import EXACT_JACOBIAN_LIMIT, Evaluation, comparison_table, evaluate
from ._forecast import (
    ForecastObjective,
    ForecastScores,
    forecast,
    load_forecaster,
    nmse,
    persistence,
    read_forecaster_metadata,
    save_forecaster,
    score_forecaster,
    train_forecaster,
)
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
    "ForecastObjective",
    "ForecastScores",
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
    "forecast",
    "fit",
    "grid_search",
    "load_forecaster",
    "load_network",
    "nmse",
    "network_kind",
    "objective",
    "persistence",
    "read_forecaster_metadata",
    "read_network_metadata",
    "rollout",
    "save_forecaster",
    "save_network",
    "score_forecaster",
    "train",
    "train_forecaster",
    "trajectory_loss",
]
