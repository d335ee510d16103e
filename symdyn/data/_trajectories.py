"""`Trajectories`: the one container of trajectory data, ODE states and PDE fields alike, and its files.

Every command reads and writes trajectories through this class: `simulate` writes them,
`train`, `evaluate`, `discover` and `audit` read them. A file is `.npz` (written
atomically) or `.csv` (read only).

The `.npz` layout: `t` (T,); one array per state or field, named by it, (M, T, *grid), or
(T, *grid) for a single trajectory; one array per @observed and @conserved quantity in the
same way; one array per @inputs signal, (M, T) or (T,); `state_names`, `observed_names`,
`input_names`, `parameter_names`, `parameters` (M, P) or (P,); for fields `coordinate_names`
and one `grid_<name>` per coordinate; `model`, the text of the model that made the data. A
`.npz` or `.csv` of other origin needs only `t` and one array (or column) per state.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..model import match_name, spellings
from ._npz import save_npz_atomically
from ._shards import read_manifest

_UNIFORM_TOLERANCE = 1e-5  # relative; text files round their times
_METADATA = (
    "t",
    "state_names",
    "observed_names",
    "input_names",
    "parameter_names",
    "parameters",
    "coordinate_names",
    "model",
)


class Chunks(NamedTuple):
    """Pieces of trajectories: `t` (K, N + 1) and `states` (K, N + 1, *state), N model steps each;
    `p` (K, P) the parameters of the trajectory each comes from."""

    t: Float[Array, "K N+1"]
    states: Float[Array, "K N+1 *state"]
    p: Float[Array, "K P"]


class Windows(NamedTuple):
    """Forecasting samples cut from trajectories: `context` (K, C, *state), the frames seen, and `future`
    (K, H, *state), the frames that follow them."""

    context: Float[Array, "K C *state"]
    future: Float[Array, "K H *state"]


@dataclasses.dataclass(frozen=True)
class Trajectories:
    """M trajectories of the same states on one uniform time grid, with the parameters that produced each.

    Attributes:
        t: (T,) increasing, uniformly spaced times.
        states: (M, T, *state): for an ODE a state is (n,), entries named by `names`; for a PDE it
            is (n_fields, *grid), fields named by `names` on the coordinates `grid`.
        names: the states (or fields), in the order of the state's first axis.
        parameters: (M, P), in `parameter_names` order.
        grid: one coordinate array per spatial dimension (empty for an ODE); `coordinate_names` names them.
        observed: each @observed or @conserved quantity by name, (M, T, ...).
        model: the text of the model that made the data ("" for data from elsewhere).
        origin: where the data came from (a file name), for messages.
        inputs: each input signal the trajectories were driven by (a model's @inputs), by name, (M, T).

    Example:
        >>> data = Trajectories.load("lorenz.npz")
        >>> data.states.shape, data.names
        ((1, 4001, 3), ('x', 'y', 'z'))
    """

    t: np.ndarray
    states: np.ndarray
    names: tuple[str, ...]
    parameters: np.ndarray
    parameter_names: tuple[str, ...] = ()
    grid: tuple[np.ndarray, ...] = ()
    coordinate_names: tuple[str, ...] = ()
    observed: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    model: str = ""
    origin: str = "data"
    inputs: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        shape = np.shape(self.states)
        state = (len(self.names), *(len(axis) for axis in self.grid))
        if len(shape) != 2 + len(state) or shape[2:] != state:
            raise ValueError(f"{self.origin}: states have shape {shape}; expected (M, T, {', '.join(map(str, state))})")
        if np.shape(self.t) != shape[1:2]:
            raise ValueError(f"{self.origin}: t has shape {np.shape(self.t)}; the states have {shape[1]} time points")
        if np.shape(self.parameters) != (shape[0], len(self.parameter_names)):
            raise ValueError(
                f"{self.origin}: parameters have shape {np.shape(self.parameters)}; "
                f"expected ({shape[0]}, {len(self.parameter_names)})"
            )
        if len(self.coordinate_names) != len(self.grid):
            raise ValueError(f"{self.origin}: {len(self.grid)} grid axes but coordinates {self.coordinate_names}")
        _check_times(np.asarray(self.t), self.origin)
        for name, values in self.inputs.items():
            if np.shape(values) != shape[:2]:
                raise ValueError(f"{self.origin}: input {name!r} has shape {np.shape(values)}; expected {shape[:2]}")

    # --- what the data is
    def __len__(self) -> int:
        return self.states.shape[0]

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    @property
    def state_shape(self) -> tuple[int, ...]:
        return self.states.shape[2:]

    @property
    def model_name(self) -> str:
        """The name of the model that made the data ("" when unknown)."""
        found = re.search(r"^\s*model\s+(\S+)", self.model, re.MULTILINE)
        return found[1] if found else ""

    def select(self, names: Sequence[str]) -> Trajectories:
        """The same data restricted to (and ordered as) the states `names`, with a clear error for a missing one."""
        columns = []
        for name in names:
            found = _find(name, self.names)
            if found is None:
                raise ValueError(_missing(name, self.names, self.origin))
            columns.append(self.names.index(found))
        return dataclasses.replace(self, states=self.states[:, :, columns], names=tuple(names))

    def rows(self, start: int, stop: int) -> Trajectories:
        """The trajectories [start, stop)."""
        part = slice(start, stop)
        return dataclasses.replace(
            self,
            states=self.states[part],
            parameters=self.parameters[part],
            observed={name: value[part] for name, value in self.observed.items()},
            inputs={name: value[part] for name, value in self.inputs.items()},
        )

    def select_inputs(self, names: Sequence[str]) -> Trajectories:
        """The same data with the inputs `names` (in this order), with a clear error for a missing one."""
        found = [_find(name, list(self.inputs)) for name in names]
        missing = [name for name, key in zip(names, found) if key is None]
        if missing:
            raise ValueError(_missing(missing[0], tuple(self.inputs), self.origin, "input"))
        return dataclasses.replace(self, inputs={name: self.inputs[key] for name, key in zip(names, found)})

    def with_noise(self, level: float, seed: int = 0) -> Trajectories:
        """The same data with Gaussian measurement noise of `level` times each state's (each field's) standard
        deviation over all trajectories, times and grid points."""
        if not level >= 0:
            raise ValueError(f"noise level must be a non-negative fraction of each state's spread, not {level}")
        axes = (0, 1, *range(3, self.states.ndim))
        scale = self.states.std(axis=axes, keepdims=True)
        noise = np.random.default_rng(seed).normal(size=self.states.shape)
        return dataclasses.replace(self, states=self.states + level * scale * noise)

    def every(self, dt: float | None) -> int:
        """How many data steps make one model step of `dt` (which must be a multiple of the data's step)."""
        if dt is None:
            return 1
        ratio = dt / self.dt
        if not (dt > 0 and abs(ratio - round(ratio)) < 1e-6 and round(ratio) >= 1):
            raise ValueError(f"the model step dt = {dt} must be a positive multiple of the data's step {self.dt:g}")
        return round(ratio)

    def chunks(self, n_steps: int, *, dt: float | None = None, dtype: Any = None) -> Chunks:
        """Non-overlapping pieces of `n_steps` model steps (n_steps + 1 points) of every trajectory.

        Args:
            n_steps: the rollout N. dt: the model step (default the data's), a multiple of the data's.
            dtype: of the arrays (default JAX's default float).
        """
        if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive int, not {n_steps!r}")
        every = self.every(dt)
        states, t = self.states[:, ::every], self.t[::every]
        length = n_steps + 1
        per_trajectory = states.shape[1] // length
        if per_trajectory == 0:
            raise ValueError(
                f"a trajectory has {states.shape[1]} points at this step; a chunk of {n_steps} steps needs {length}"
            )
        pieces = states[:, : per_trajectory * length].reshape(len(self), per_trajectory, length, *self.state_shape)
        p = np.repeat(self.parameters[:, None], per_trajectory, axis=1)
        dtype = dtype or jnp.result_type(float)
        times = np.broadcast_to(t[: per_trajectory * length].reshape(per_trajectory, length), pieces.shape[:3])
        return Chunks(
            jnp.asarray(times.reshape(-1, length), dtype),
            jnp.asarray(pieces.reshape(-1, length, *self.state_shape), dtype),
            jnp.asarray(p.reshape(len(self) * per_trajectory, p.shape[-1]), dtype),
        )

    def windows(self, context: int, horizon: int, *, stride: int | None = None, dtype: Any = None) -> Windows:
        """C frames in, the H frames after them out, from every trajectory, starting every `stride` frames.

        Args:
            context: C. horizon: H. stride: frames between window starts (default C + H: no overlap);
                a stride longer than the trajectories gives one window each, from their first frame.
            dtype: of the arrays (default JAX's default float).
        """
        for name, value in (("context", context), ("horizon", horizon), ("stride", stride or 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        length = context + horizon
        if length > self.t.size:
            raise ValueError(
                f"a window of {context} + {horizon} frames is longer than the {self.t.size} of {self.origin}"
            )
        starts = np.arange(0, self.t.size - length + 1, stride or length)
        frames = self.states[:, starts[:, None] + np.arange(length)]  # (M, W, C + H, *state)
        frames = frames.reshape(-1, length, *self.state_shape)
        dtype = dtype or jnp.result_type(float)
        return Windows(jnp.asarray(frames[:, :context], dtype), jnp.asarray(frames[:, context:], dtype))

    # --- files
    def save(self, path: str | os.PathLike) -> None:
        """Write the `.npz` atomically (a reader never sees half a file).

        Raises:
            ValueError: the path does not end in `.npz`, or a state is named like one of the file's own arrays.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            raise ValueError(f"{path}: trajectories are written as .npz; name the file so")
        single = len(self) == 1
        arrays = {name: self.states[:, :, i] for i, name in enumerate(self.names)} | dict(self.observed)
        arrays |= dict(self.inputs)
        grid = {f"grid_{name}": axis for name, axis in zip(self.coordinate_names, self.grid)}
        clash = sorted(set(arrays) & (set(_METADATA) | set(grid)))
        if clash:
            raise ValueError(f"the model names {', '.join(clash)}, which the data file uses for its own arrays")
        save_npz_atomically(
            path,
            t=self.t,
            state_names=np.array(self.names, dtype=str),
            observed_names=np.array(tuple(self.observed), dtype=str),
            input_names=np.array(tuple(self.inputs), dtype=str),
            parameter_names=np.array(self.parameter_names, dtype=str),
            parameters=self.parameters[0] if single else self.parameters,
            coordinate_names=np.array(self.coordinate_names, dtype=str),
            model=np.array(self.model),
            **grid,
            **{name: value[0] if single else value for name, value in arrays.items()},
        )

    @classmethod
    def load(cls, source: Any, names: Sequence[str] | None = None, inputs: Sequence[str] | None = None) -> Trajectories:
        """Read and check trajectories.

        Args:
            source: a `.npz` file (as `symdyn simulate` writes it, or any with an array `t` and one
                array per state, (T,) or (M, T)), a `.csv` file with a header row naming `t` and the
                states, the `.json` manifest of shards that `symdyn simulate --shards` writes (their
                trajectories in order), a mapping of such arrays, or `Trajectories`.
            names: the states to take, in this order (a model's states); by default the file's
                own (`state_names`), else every numeric array but `t` and the inputs.
            inputs: the arrays (columns) that hold input signals, in this order (a model's @inputs); by
                default the file's own (`input_names`).

        Raises:
            ValueError: a missing or misnamed state (with the closest name), no `t`, times that
                are not increasing or not uniform, NaN or infinite values, mismatched shapes.
        """
        if isinstance(source, Trajectories):
            chosen = source if names is None else source.select(names)
            return chosen if inputs is None else chosen.select_inputs(inputs)
        origin = "data"
        if isinstance(source, (str, os.PathLike)) and os.fspath(source).endswith(".json"):
            return cls.concatenate([cls.load(shard, names, inputs) for shard in read_manifest(source)])
        if isinstance(source, (str, os.PathLike)):
            origin = os.fspath(source)
            source = _read_file(origin)
        if not isinstance(source, Mapping):
            raise TypeError(
                f"trajectories come from a file name, a mapping of arrays or Trajectories, not {type(source).__name__}"
            )
        return _from_arrays({str(k): np.asarray(v) for k, v in source.items()}, names, inputs, origin)

    @classmethod
    def concatenate(cls, parts: Sequence[Trajectories]) -> Trajectories:
        """The trajectories of `parts` (same states, times and grid) one after another.

        Raises:
            ValueError: the parts differ in their states, times or grid.
        """
        first = parts[0]
        for part in parts[1:]:
            same = (
                part.names == first.names
                and part.parameter_names == first.parameter_names
                and np.array_equal(part.t, first.t)
                and len(part.grid) == len(first.grid)
                and all(np.array_equal(a, b) for a, b in zip(part.grid, first.grid))
                and set(part.observed) == set(first.observed)
                and tuple(part.inputs) == tuple(first.inputs)
            )
            if not same:
                raise ValueError(f"{part.origin} and {first.origin} hold different states, times or grids")
        return dataclasses.replace(
            first,
            states=np.concatenate([part.states for part in parts]),
            parameters=np.concatenate([part.parameters for part in parts]),
            observed={name: np.concatenate([part.observed[name] for part in parts]) for name in first.observed},
            inputs={name: np.concatenate([part.inputs[name] for part in parts]) for name in first.inputs},
        )


def _strings(arrays: Mapping[str, np.ndarray], key: str) -> tuple[str, ...]:
    return tuple(str(s) for s in np.atleast_1d(arrays[key])) if key in arrays else ()


def _from_arrays(
    arrays: dict[str, np.ndarray], names: Sequence[str] | None, inputs: Sequence[str] | None, origin: str
) -> Trajectories:
    if "t" not in arrays:
        raise ValueError(_no_time(list(arrays), origin))
    t = _check_times(np.asarray(arrays["t"], dtype=np.float64), origin)
    own = _strings(arrays, "state_names")
    coordinates = _strings(arrays, "coordinate_names")
    grid = tuple(np.asarray(arrays[f"grid_{c}"], dtype=np.float64) for c in coordinates)
    inputs = _strings(arrays, "input_names") if inputs is None else tuple(inputs)
    skip = set(_METADATA) | {f"grid_{c}" for c in coordinates} | set(_strings(arrays, "observed_names"))
    skip |= {_find(name, list(arrays)) for name in inputs}
    states = own or [k for k, v in arrays.items() if k not in skip and np.issubdtype(v.dtype, np.number)]
    names = states if names is None else names
    columns = [_state(arrays, name, states, t, grid, origin) for name in names]
    if not columns:
        raise ValueError(f"{origin} holds no state arrays besides 't'")
    counts = {c.shape[0] for c in columns}
    if len(counts) > 1:
        shapes = ", ".join(f"{n}: {c.shape}" for n, c in zip(names, columns))
        raise ValueError(f"{origin}: the states hold different numbers of trajectories ({shapes})")
    states = np.stack(columns, axis=2)
    parameter_names = _strings(arrays, "parameter_names")
    parameters = np.zeros((states.shape[0], len(parameter_names)))
    if parameter_names:  # (P,) for one trajectory, (M, P) for several
        parameters[:] = np.asarray(arrays["parameters"], dtype=np.float64).reshape(-1, len(parameter_names))
    single = np.ndim(arrays[_find(names[0], list(arrays))]) == 1 + len(grid)  # written without the trajectory axis
    observed = {
        name: np.asarray(arrays[name])[None] if single else np.asarray(arrays[name])
        for name in _strings(arrays, "observed_names")
        if name in arrays
    }
    model = str(arrays["model"]) if "model" in arrays else ""
    columns = [k for k in arrays if k not in skip or k in inputs]
    signals = {name: _state(arrays, name, columns, t, (), origin, "input") for name in inputs}
    if grid and signals:
        raise ValueError(f"{origin}: inputs drive ODE models; field data cannot hold input signals")
    signals = {name: np.broadcast_to(value, states.shape[:2]).copy() for name, value in signals.items()}
    return Trajectories(
        t, states, tuple(names), parameters, parameter_names, grid, coordinates, observed, model, origin, signals
    )


def _state(
    arrays, name: str, states: Sequence[str], t: np.ndarray, grid: tuple, origin: str, what: str = "state"
) -> np.ndarray:
    """One state's (M, T, *grid) values, checked; a missing one's message lists the file's `states` alone."""
    key = _find(name, [k for k in arrays if k not in _METADATA])
    if key is None:
        raise ValueError(_missing(name, states, origin, what))
    value = np.asarray(arrays[key], dtype=np.float64)
    point = tuple(len(axis) for axis in grid)
    if value.shape == (t.size, *point):
        value = value[None]
    if value.ndim != 2 + len(point) or value.shape[1:] != (t.size, *point):
        expected = ", ".join(map(str, (t.size, *point)))
        raise ValueError(f"{origin}: {what} {name!r} has shape {value.shape}; expected ({expected}) or (M, {expected})")
    bad = ~np.isfinite(value)
    if bad.any():
        m, n = np.argwhere(bad)[0][:2]
        where = f"trajectory {m}, " if value.shape[0] > 1 else ""
        raise ValueError(
            f"{origin}: {what} {name!r} is {value[bad][0]} at {where}t = {t[n]:g} (index {n}); "
            "remove or interpolate the missing samples first"
        )
    return value


def _find(name: str, available: Sequence[str]) -> str | None:
    """The entry of `available` that names the state `name`: itself or another spelling of it.

    A column `θ_t` or `D(θ)` holds the state `θˍt`, and asking for `θ_t` finds a column `θˍt`.
    """
    if name in available:
        return name
    found = match_name(name, available).name
    if found is not None:
        return found
    return next((a for a in available if match_name(a, [name]).name == name), None)


def _missing(name: str, available: Sequence[str], origin: str, what: str = "state") -> str:
    suggestion = match_name(name, available).suggestion  # `X` -> 'x', `gamma` -> 'γ', `theta_t` -> 'θˍt'
    close = [suggestion] if suggestion else difflib.get_close_matches(name, list(available), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    also = f" (nor {' or '.join(map(repr, spellings(name)))})" if spellings(name) else ""
    return f"{origin} has no {what} {name!r}{also} (it has {', '.join(map(repr, available)) or 'nothing'}){hint}"


def _check_times(t: np.ndarray, origin: str) -> np.ndarray:
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"{origin}: 't' must be one array of at least 2 times, not shape {t.shape}")
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
    raise ValueError(f"{path}: trajectory files are .npz, .csv or a .json manifest of .npz shards")


def _read_csv(path: str) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheets start with a byte-order mark
        rows = list(csv.reader(row for row in handle if row.strip() and not row.lstrip().startswith("#")))
    if len(rows) < 2:
        raise ValueError(f"{path}: a CSV file needs a header row and data rows")
    header = [h.strip() for h in rows[0]]
    if all(_is_number(cell) for cell in header):
        states = ["x", "y", "z"] if len(header) <= 4 else [f"x{k}" for k in range(1, len(header))]
        raise ValueError(
            f"{path}: the first row ({','.join(header)}) holds numbers, not names; a CSV needs a header row naming "
            f"the time `t` and the states, one per column, as in `{','.join(['t', *states[: len(header) - 1]])}`"
        )
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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# a name that probably holds the times: time, T, Times, t (s), time_s, t[s] ...
_TIME_LIKE = re.compile(r"(t|times?)(\s*[(\[_].*)?", re.IGNORECASE)


def _no_time(names: Sequence[str], origin: str) -> str:
    """The message for data without `t`: what the layout must be, and the name to change if one looks like the time.

    A `time` or `T` column is not taken for `t`: `T` is as likely a temperature, and a state
    read as the time would corrupt the fit silently. The fix is one word in the header.
    """
    listed = f"{origin} has no time array 't' (it has {', '.join(map(repr, names)) or 'nothing'})"
    like = next((name for name in names if _TIME_LIKE.fullmatch(name.strip())), None)
    if not origin.endswith(".csv"):
        fix = f"if {like!r} holds the times, rename it to 't'" if like else "add an array `t` of the sample times"
        return f"{listed}; {fix}"
    if like:
        header = ",".join("t" if name == like else name for name in names)
        return f"{listed}; if the column {like!r} holds the times, name it `t` in the header row: `{header}`"
    header = ",".join(["t", *names])
    return f"{listed}; a CSV needs a column `t` of the sample times, named in the header row: `{header}`"
