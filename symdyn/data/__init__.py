"""Data sets from models: parameter draws, random initial fields, batches of PDE trajectories, presets."""

from ._fields import FieldDataset, generate_fields
from ._initial import AbstractInitialCondition, FourierSeries, ModelInitial, SumOfSines
from ._npz import save_npz_atomically
from ._presets import PRESETS, Preset, preset
from ._uniform import Uniform, draw_parameters

__all__ = [
    "PRESETS",
    "AbstractInitialCondition",
    "FieldDataset",
    "FourierSeries",
    "ModelInitial",
    "Preset",
    "SumOfSines",
    "Uniform",
    "draw_parameters",
    "generate_fields",
    "preset",
    "save_npz_atomically",
]
