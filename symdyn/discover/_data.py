"""Trajectories for discovery: time series of named states on one uniform time grid, checked on the way in."""

from __future__ import annotations

import csv
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_UNIFORM_TOLERANCE = 1e-5  # relative; text files round their times


@dataclass(frozen=True)
class Trajectories:
    """One or more trajectories of the same states, sampled on one uniform time grid.

    Attributes:
        t: (N,) increasing, uniformly spaced times.
        values: (M, N, V) float64, trajectory m of state v at time t[n].
        names: the V state names, in the order of the last axis.
        origin: where the data came from (a file name), for messages.
    """

    t: np.ndarray
    values: np.ndarray
    names: tuple[str, ...]
    origin: str = "data"

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def select(self, names: Sequence[str]) -> Trajectories:
        """The same data restricted to (and ordered as) `names`, with a clear error for a missing one."""
        columns = []
        for name in names:
            if name not in self.names:
                raise ValueError(_missing(name, self.names, self.origin))
            columns.append(self.names.index(name))
        return Trajectories(self.t, self.values[..., columns], tuple(names), self.origin)


def spread(values: np.ndarray) -> np.ndarray:
    """Per-state standard deviations of (..., V) values over everything but the last axis, never 0."""
    scale = values.reshape(-1, values.shape[-1]).std(axis=0)
    return np.where(scale > 0, scale, 1.0)


def _missing(name: str, available: Sequence[str], origin: str) -> str:
    same_case = [a for a in available if a.casefold() == name.casefold()]
    close = same_case or difflib.get_close_matches(name, list(available), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{origin} has no state {name!r} (it has {', '.join(map(repr, available)) or 'nothing'}){hint}"


def trajectories(data: Any, names: Sequence[str] | None = None) -> Trajectories:
    """Read and check discovery data.

    Args:
        data: a `.npz` file with an array `t` and one array per state (shape (N,), or (M, N)
            for M trajectories on the same grid), a `.csv` file with a header row naming `t`
            and the states, a mapping of the same arrays, or `Trajectories`.
        names: the states to take, in this order (a model's states); by default the file's
            `state_names` entry when it has one (as `symdyn simulate` writes), else every
            array but `t`.

    Raises:
        ValueError: a missing or misnamed state (with the closest name), no `t`, times that
            are not increasing or not uniform, NaN or infinite values, mismatched shapes.
    """
    if isinstance(data, Trajectories):
        return data if names is None else data.select(names)
    origin = "data"
    if isinstance(data, (str, os.PathLike)):
        origin = os.fspath(data)
        data = _read_file(origin)
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a file name, a mapping of arrays or Trajectories, not {type(data).__name__}")
    arrays = {str(k): np.asarray(v) for k, v in data.items()}
    if "t" not in arrays:
        raise ValueError(f"{origin} has no time array 't' (it has {', '.join(map(repr, arrays))})")
    if names is None:
        names = [str(n) for n in arrays["state_names"]] if "state_names" in arrays else None
        names = names or [k for k, v in arrays.items() if k != "t" and np.issubdtype(v.dtype, np.number)]
    t = _times(arrays["t"], origin)
    columns = []
    for name in names:
        if name not in arrays:
            raise ValueError(_missing(name, [k for k in arrays if k != "t"], origin))
        value = np.asarray(arrays[name], dtype=np.float64)
        value = value[None] if value.ndim == 1 else value
        if value.ndim != 2 or value.shape[1] != t.size:
            raise ValueError(
                f"{origin}: state {name!r} has shape {arrays[name].shape}; expected ({t.size},) or (M, {t.size})"
            )
        bad = ~np.isfinite(value)
        if bad.any():
            m, n = np.argwhere(bad)[0]
            where = f"trajectory {m}, " if value.shape[0] > 1 else ""
            raise ValueError(
                f"{origin}: state {name!r} is {value[m, n]} at {where}t = {t[n]:g} (index {n}); "
                "remove or interpolate the missing samples first"
            )
        columns.append(value)
    if not columns:
        raise ValueError(f"{origin} holds no state arrays besides 't'")
    if len({c.shape[0] for c in columns}) > 1:
        shapes = ", ".join(f"{n}: {c.shape}" for n, c in zip(names, columns))
        raise ValueError(f"{origin}: the states hold different numbers of trajectories ({shapes})")
    return Trajectories(t, np.stack(columns, axis=-1), tuple(names), origin)


def _times(t: np.ndarray, origin: str) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < 3:
        raise ValueError(f"{origin}: 't' must be one array of at least 3 times, not shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError(f"{origin}: 't' holds NaN or infinite values (first at index {np.argmin(np.isfinite(t))})")
    steps = np.diff(t)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0))
        raise ValueError(f"{origin}: 't' must increase, but t[{i + 1}] = {t[i + 1]:g} follows t[{i}] = {t[i]:g}")
    dt = (t[-1] - t[0]) / (t.size - 1)
    off = np.abs(steps - dt) > _UNIFORM_TOLERANCE * dt
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(
            f"{origin}: 't' is not uniformly spaced: the step at index {i} is {steps[i]:g}, the mean "
            f"step {dt:g}; resample the data onto a uniform grid"
        )
    return t


def _read_file(path: str) -> dict[str, np.ndarray]:
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    if path.endswith(".csv"):
        return _read_csv(path)
    raise ValueError(f"{path}: data files are .npz or .csv")


def _read_csv(path: str) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(row for row in handle if row.strip() and not row.lstrip().startswith("#")))
    if len(rows) < 2:
        raise ValueError(f"{path}: a CSV file needs a header row and data rows")
    header = [h.strip() for h in rows[0]]
    values = np.empty((len(rows) - 1, len(header)))
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, data row {line - 1}: {len(row)} values under a header of {len(header)} names")
        for j, cell in enumerate(row):
            try:
                values[line - 2, j] = float(cell)
            except ValueError:
                raise ValueError(
                    f"{path}, data row {line - 1}, column {header[j]!r}: {cell.strip()!r} is not a number"
                ) from None
    return {name: values[:, j] for j, name in enumerate(header)}
