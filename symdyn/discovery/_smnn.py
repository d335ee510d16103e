"""The S-MNN method: random chunks of the data, terms evaluated on them, linear ODEs solved by S-MNN.

Seed 004, Section 5.2 and Appendix B.2 (after Pervez et al., 2024): each state v of a
chunk obeys the linear ODE y_v' = f_v(t, x(t); a), with x the data and y_v(t_0) = x_v(t_0);
S-MNN solves it for y, and the unknowns a minimise the trajectory loss |y − x|² by Adam
over batches of chunks. Because y is affine in f (and f in the unknowns of a library or
a linear template), the final fine-tuning is exact: thresholded least squares on the
same loss, through the S-MNN solution operator of one chunk, over chunks from the
whole trajectory.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec

from .._distributed import AXIS, check_split, device_mesh
from .._progress import ProgressBar
from ..data import Trajectories
from ..smnn import solve
from ._candidates import Candidates
from ._derivatives import SavitzkyGolay
from ._method import AbstractDiscoveryMethod, History
from ._regression import SEGMENTS, Fit, LeastSquares, Regression, spread

ADAM_STEPS = 2000  # the seed's budget, where Adam fits
_BLOCK = 25  # Adam steps per compiled call: the progress bar, the NaN check and the plateau check run between blocks


@dataclass(frozen=True)
class Plateau:
    """When Adam stops before its last step: its loss has stopped falling.

    Every 25 steps, the fall of the mean loss over the last `window` steps from the mean over
    the `window` before is set against what is at stake, and Adam stops when the fall is at
    most `tolerance` of it (or the loss rises). For a fit by Adam alone, what is at stake is
    the loss itself (the mean over the window before), so a loss still falling geometrically
    goes on. When a fine-tuning follows, which finishes the fit exactly from wherever Adam
    stops, it is everything Adam has removed from the loss so far (the first window's mean
    minus the last's) if that is larger: Adam stops where its loss curve flattens on a linear
    scale. Means over windows average out the spread of the loss from batch to batch.
    """

    window: int = 100
    tolerance: float = 0.01

    def __post_init__(self):
        if not isinstance(self.window, int) or isinstance(self.window, bool) or self.window < 1:
            raise ValueError(f"Plateau window must be a positive int, not {self.window!r}")
        if not 0 <= self.tolerance < 1:
            raise ValueError(f"Plateau tolerance must be a fraction from 0 to 1, not {self.tolerance!r}")

    def reached(self, losses: np.ndarray, *, fine_tuning: bool) -> bool:
        """Whether the losses so far end on a plateau (`fine_tuning`: whether a fine-tuning follows)."""
        w = self.window
        if losses.size < 2 * w:
            return False
        first, before, last = losses[:w].mean(), losses[-2 * w : -w].mean(), losses[-w:].mean()
        return bool(before - last <= self.tolerance * (max(first - last, before) if fine_tuning else before))

    def describe(self, fine_tuning: bool) -> str:
        """The rule, in words."""
        before = f"the mean of the {self.window} before"
        stake = f"of all it had fallen since the start (or of {before})" if fine_tuning else f"of {before}"
        return f"the mean loss of the last {self.window} steps fell by at most {self.tolerance:.0%} {stake}"


@dataclass(frozen=True)
class SMNN(AbstractDiscoveryMethod):
    """Fit unknowns through S-MNN solves of chunks of the data (seed 004's Lorenz discovery).

    Args:
        sequence_length: T, the length of a chunk (the paper's 50).
        batch_size: chunks per Adam step (the paper's 512).
        steps: Adam steps before fine-tuning (0: fine-tune only). By default 2000 (the seed's), except where
            the fine-tuning alone finds the minimum: a template affine in its unknowns makes the loss
            quadratic in them, and the exact fine-tuning's least squares reach it from any start, so
            Adam's steps would change nothing and are skipped.
        learning_rate: Adam's initial step, decayed by a cosine schedule to 1 % of it.
        order: R, the highest derivative S-MNN represents. The paper uses 2; its Taylor
            constraints then bias Lorenz coefficients by up to 0.3 % at a step of 0.01,
            and R = 3 by 0.007 %, inside the paper's own errors; hence 3.
        weights: (w_gov, w_init, w_smooth) of `symdyn.smnn.solve`.
        smoother: evaluate the terms on Savitzky-Golay-smoothed data (for noisy data).
        fine_tune: finish with exact thresholded least squares on the S-MNN loss.
        max_chunks: chunks used in fine-tuning (evenly spaced over the data).
        plateau: stop Adam before `steps` when its loss stops falling (`Plateau(window, tolerance)`);
            None takes every step.
        devices: the devices each Adam batch of chunks is split over (all by default); `batch_size`
            must be a multiple of their count. The result equals one device's up to round-off.
    """

    name: ClassVar[str] = "smnn"
    sequence_length: int = 50
    batch_size: int = 512
    steps: int | None = None
    learning_rate: float = 0.1
    order: int = 3
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    smoother: SavitzkyGolay | None = None
    fine_tune: bool = True
    max_chunks: int = 2048
    plateau: Plateau | None = Plateau()
    devices: int | None = None

    def __post_init__(self):
        for name in ("sequence_length", "batch_size", "order", "max_chunks"):
            value, least = getattr(self, name), 3 if name == "sequence_length" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"SMNN {name} must be an int of at least {least}, not {value!r}")
        if self.steps is not None and (not isinstance(self.steps, int) or self.steps < 0):
            raise ValueError(f"SMNN steps must be a non-negative int or None (the default), not {self.steps!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"SMNN learning_rate must be positive, not {self.learning_rate!r}")
        if self.steps == 0 and not self.fine_tune:
            raise ValueError("SMNN with steps=0 and fine_tune=False fits nothing")
        if self.plateau is not None and not isinstance(self.plateau, Plateau):
            raise TypeError(f"SMNN plateau must be a Plateau or None, not {type(self.plateau).__name__}")

    def describe(self) -> str:
        parts = [f"S-MNN (R = {self.order}, chunks of {self.sequence_length})"]
        if self.steps is None and self.fine_tune:
            up_to = "up to " if self.plateau else ""
            where = "where the loss is not quadratic"
            parts.append(f"{up_to}{ADAM_STEPS} Adam steps on batches of {self.batch_size} {where}")
        elif self.steps or self.steps is None:
            up_to = "up to " if self.plateau else ""
            parts.append(f"{up_to}{self.steps or ADAM_STEPS} Adam steps on batches of {self.batch_size}")
        if self.fine_tune:
            parts.append("exact fine-tuning")
        if self.smoother:
            parts.append(f"terms on {self.smoother}")
        return ", ".join(parts)

    def regression(
        self, candidates: Candidates, data: Trajectories, *, key, progress: bool
    ) -> tuple[Regression, History]:
        if len(data.state_shape) > 1:
            raise ValueError(
                f"{data.origin} holds fields: S-MNN discovery fits ODE trajectories; use method 'sparse' or 'weak'"
            )
        problem = _Chunks.build(self, candidates, data)
        a = jnp.asarray(candidates.guesses, problem.dtype)
        history = History(np.zeros(0), math.nan)
        steps = self.steps
        if steps is None:
            exact = candidates.affine and self.fine_tune
            steps = 0 if exact else ADAM_STEPS
            if exact:
                history = History(np.zeros(0), math.nan, "no Adam steps: the loss is quadratic in the unknowns")
        if steps:
            a, history = self._adam(problem, a, key, progress, steps)
        if not self.fine_tune:
            return _AdamValues(np.array(a, dtype=np.float64), math.sqrt(history.losses[-1])), history
        if candidates.affine_parts:  # f = f₀ + S·a: the design directly, through the chunk's solution operator
            return LeastSquares.linear(*problem.design(), problem.segments), history
        fine_tuning = LeastSquares(problem.residual, np.asarray(a), affine=candidates.affine, segments=problem.segments)
        return fine_tuning, history

    def _adam(self, problem: _Chunks, a: jax.Array, key, progress: bool, steps: int) -> tuple[jax.Array, History]:
        optimizer = optax.adam(optax.cosine_decay_schedule(self.learning_rate, steps, alpha=0.01))
        state = optimizer.init(a)
        blocks = -(-steps // _BLOCK)

        @jax.jit
        def block(a, state, key, first):
            def step(carry, inputs):
                a, state = carry
                key, index = inputs
                loss, grad = jax.value_and_grad(problem.batch_loss)(a, key)
                with jax.numpy_dtype_promotion("standard"):  # optax mixes its int step count with floats
                    updates, new_state = optimizer.update(grad, state, a)
                live = index < steps  # the last block runs past `steps` without updating
                keep = lambda new, old: jnp.where(live, new, old)
                return (keep(optax.apply_updates(a, updates), a), jax.tree.map(keep, new_state, state)), loss

            inputs = (jax.random.split(key, _BLOCK), first + jnp.arange(_BLOCK))
            return jax.lax.scan(step, (a, state), inputs)

        history, seconds, stop = [], [], ""
        with ProgressBar(steps, "smnn: Adam", enabled=progress) as bar:
            for b, block_key in enumerate(jax.random.split(key, blocks)):  # the same keys however early Adam stops
                started = time.perf_counter()
                (a, state), losses = block(a, state, block_key, b * _BLOCK)
                losses = np.asarray(losses)[: steps - b * _BLOCK]
                seconds.append((time.perf_counter() - started) / _BLOCK)
                if not np.isfinite(losses).all():
                    bad = b * _BLOCK + int(np.argmin(np.isfinite(losses)))
                    raise FloatingPointError(
                        f"S-MNN discovery: the loss is {losses[bad - b * _BLOCK]} at Adam step {bad}; lower the "
                        f"learning rate (now {self.learning_rate:g}) or give the unknowns better guesses"
                    )
                history.append(losses)
                bar.update(losses.size, loss=float(losses[-1]))
                taken = b * _BLOCK + losses.size
                plateau = self.plateau and self.plateau.reached(np.concatenate(history), fine_tuning=self.fine_tune)
                if plateau and taken < steps:
                    stop = f"Adam stopped at step {taken} of {steps}: {self.plateau.describe(self.fine_tune)}"
                    break
        # the first block compiles; a step's time is the mean of the others
        per_step = float(np.mean(seconds[1:])) if len(seconds) > 1 else math.nan
        return a, History(np.concatenate(history), per_step, stop)


@dataclass(frozen=True)
class _AdamValues(Regression):
    """Adam's unknowns as they are (no fine-tuning): a threshold removes the small ones, with no refit."""

    values: np.ndarray
    residual_rms: float

    def fit(self, threshold: float) -> Fit:
        if not isinstance(threshold, (int, float)):
            raise ValueError("S-MNN without fine-tuning takes a numeric threshold, not an optimizer")
        active = np.abs(self.values) >= threshold
        return Fit(np.where(active, self.values, 0.0), active, np.full(self.values.size, np.nan), self.residual_rms)


@functools.partial(jax.jit, static_argnames="weights")
def _unit_solve(c, d, u, s, *, weights):
    """S-MNN solutions of the unit problems that make a chunk's solution operator, compiled once per shape."""
    return solve(c, d, u, s, weights=weights, method="sequential")


@dataclass(frozen=True)
class _Chunks:
    """The data as chunks of length T and the S-MNN predictions of them."""

    method: SMNN
    candidates: Candidates
    x: jax.Array  # (M, N, V) the data
    terms_on: jax.Array  # (M, N, V) what the terms are evaluated on (the data, or smoothed data)
    t: jax.Array  # (N,)
    scale: jax.Array  # (V,)
    dt: float
    starts: int  # chunks per trajectory
    segments: np.ndarray  # (rows,) fine-tuning rows by contiguous stretch of the data
    fine_tune_chunks: np.ndarray  # flat chunk indices used in fine-tuning
    batch_sharding: NamedSharding  # an Adam batch split along its chunks over the devices

    @property
    def dtype(self):
        return self.x.dtype

    @classmethod
    def build(cls, method: SMNN, candidates: Candidates, data: Trajectories) -> _Chunks:
        values, terms_on, t = data.states, data.states, data.t
        if method.smoother is not None:
            terms_on, _ = method.smoother(values, data.dt)
            margin = method.smoother.margin
            values, t = values[:, margin : values.shape[1] - margin], t[margin : t.size - margin]
        values = values[:, :, : len(candidates.state_names)]  # the columns after the states are inputs
        length = method.sequence_length
        trajectories, samples, variables = values.shape
        if samples < length:
            raise ValueError(f"{data.origin}: {samples} samples are fewer than one chunk (sequence_length {length})")
        starts = samples - length + 1
        total = trajectories * starts
        chunks = np.arange(0, total, -(-total // method.max_chunks))
        segment = (chunks % starts) * SEGMENTS // starts
        dtype = jnp.result_type(float)
        mesh = device_mesh(method.devices)
        check_split(method.batch_size, mesh, "batch_size")
        return cls(
            method=method,
            candidates=candidates,
            x=jnp.asarray(values, dtype),
            terms_on=jnp.asarray(terms_on, dtype),
            t=jnp.asarray(t, dtype),
            scale=jnp.asarray(spread(values), dtype),
            dt=data.dt,
            starts=starts,
            segments=np.repeat(segment, length * variables),
            fine_tune_chunks=chunks,
            batch_sharding=NamedSharding(mesh, PartitionSpec(AXIS)),
        )

    def gather(self, chunks: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """(data, terms_on, times) of the flat chunk indices: (B, T, V), (B, T, V), (B, T)."""
        trajectory, start = jnp.divmod(chunks, self.starts)
        rows = start[:, None] + jnp.arange(self.method.sequence_length)
        return self.x[trajectory[:, None], rows], self.terms_on[trajectory[:, None], rows], self.t[rows]

    def batch_loss(self, a: jax.Array, key) -> jax.Array:
        chunks = jax.random.randint(key, (self.method.batch_size,), 0, self.x.shape[0] * self.starts)
        # data parallel: each device solves its chunks; the mean is reduced across them
        x, terms_on, t = jax.lax.with_sharding_constraint(self.gather(chunks), self.batch_sharding)
        return jnp.mean(((self.predict(a, terms_on, t) - x) / self.scale) ** 2)

    def predict(self, a: jax.Array, terms_on: jax.Array, t: jax.Array) -> jax.Array:
        """S-MNN solutions (B, T, V) of y_v' = f_v(t, x; a), y_v(t_0) = x_v(t_0), one scalar ODE per state."""
        d = self.candidates.rhs(t, terms_on, a)
        batch, length, variables = d.shape
        d = jnp.moveaxis(d, -1, 1).reshape(batch * variables, length, 1)
        u = terms_on[:, 0, :variables].reshape(batch * variables, 1, 1, 1)
        y = solve(self._c(), d, u, self._s(), weights=self.method.weights, throw=False)
        return jnp.moveaxis(y[..., 0, 0].reshape(batch, variables, length), 1, -1)

    def _c(self) -> jax.Array:
        return jnp.zeros((1, 1, 1, 1, self.method.order + 1), self.dtype).at[..., 1].set(1.0)

    def _s(self) -> jax.Array:
        return jnp.full((1, self.method.sequence_length - 1), self.dt, self.dtype)

    def operator(self) -> tuple[jax.Array, jax.Array]:
        """The S-MNN solution operator of one chunk: y = S_d d + S_u u, S_d (T, T), S_u (T,).

        The equations are the same in every chunk, so one solve of T + 1 unit problems gives it.
        """
        length = self.method.sequence_length
        d = jnp.concatenate([jnp.eye(length, dtype=self.dtype), jnp.zeros((1, length), self.dtype)])[..., None]
        u = jnp.zeros((length + 1, 1, 1, 1), self.dtype).at[length].set(1.0)
        y = _unit_solve(self._c(), d, u, self._s(), weights=self.method.weights)[..., 0, 0]
        return y[:length].T, y[length]

    def design(self) -> tuple[np.ndarray, np.ndarray]:
        """`residual` as design·a − target, for terms f = f₀ + S·a given by the candidates' `affine_parts`."""
        trajectory, start = np.divmod(self.fine_tune_chunks, self.starts)
        rows = (trajectory[:, None], start[:, None] + np.arange(self.method.sequence_length))
        x, terms_on = np.asarray(self.x, np.float64)[rows], np.asarray(self.terms_on, np.float64)[rows]
        t = np.asarray(self.t, np.float64)[rows[1]]
        solve_d, solve_u = (np.asarray(v, np.float64) for v in self.operator())
        f0, terms = self.candidates.affine_parts(t, terms_on)  # (B, T, V), (B, T, V, J)
        scale = np.asarray(self.scale, np.float64)
        start = solve_u[None, :, None] * terms_on[:, :1, : f0.shape[-1]]
        design = np.einsum("tk,bkvj->btvj", solve_d, terms) / scale[:, None]
        target = (x - start - np.einsum("tk,bkv->btv", solve_d, f0)) / scale
        return design.reshape(-1, terms.shape[-1]), target.ravel()

    def residual(self, a: jax.Array) -> jax.Array:
        """Scaled S-MNN trajectory errors on the fine-tuning chunks, flat (the same loss as Adam's)."""
        x, terms_on, t = self.gather(jnp.asarray(self.fine_tune_chunks))
        solve_d, solve_u = self.operator()
        d = self.candidates.rhs(t, terms_on, a)
        y = jnp.einsum("tk,bkv->btv", solve_d, d) + solve_u[None, :, None] * terms_on[:, :1, : d.shape[-1]]
        return ((y - x) / self.scale).ravel()
