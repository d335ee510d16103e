"""Trajectory data: the one container and its files, generation from ODE and PDE models, the seeds' presets."""

from ._generate import generate
from ._initial import AbstractInitialCondition, FourierSeries, ModelInitial, SumOfSines
from ._npz import save_npz_atomically
from ._part import ProcessPart, part_shards, read_part
from ._presets import PRESETS, Preset, preset
from ._shards import read_manifest, read_manifest_rows, shard_paths, shard_rows, write_manifest
from ._signals import load_signal
from ._trajectories import Chunks, Trajectories, Windows
from ._uniform import Uniform, draw_parameters

__all__ = [
    "save_npz_atomically",
    "PRESETS",
    "ProcessPart",
    "AbstractInitialCondition",
    "Chunks",
    "FourierSeries",
    "ModelInitial",
    "Preset",
    "SumOfSines",
    "Trajectories",
    "Uniform",
    "Windows",
    "draw_parameters",
    "generate",
    "load_signal",
    "part_shards",
    "preset",
    "read_manifest",
    "read_manifest_rows",
    "read_part",
    "shard_paths",
    "shard_rows",
    "write_manifest",
]
