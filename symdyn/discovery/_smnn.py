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

import math
import time
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._progress import ProgressBar
from ..data import Trajectories
from ..smnn import solve
from ._candidates import Candidates
from ._derivatives import SavitzkyGolay
from ._method import AbstractDiscoveryMethod, History
from ._regression import SEGMENTS, Fit, spread, thresholded_least_squares

_BLOCK = 25  # Adam steps per compiled call: the progress bar and the NaN check run between blocks


@dataclass(frozen=True)
class SMNN(AbstractDiscoveryMethod):
    """Fit unknowns through S-MNN solves of chunks of the data (seed 004's Lorenz discovery).

    Args:
        sequence_length: T, the length of a chunk (the paper's 50).
        batch_size: chunks per Adam step (the paper's 512).
        steps: Adam steps before fine-tuning (0: fine-tune only).
        learning_rate: Adam's initial step, decayed by a cosine schedule to 1 % of it.
        order: R, the highest derivative S-MNN represents. The paper uses 2; its Taylor
            constraints then bias Lorenz coefficients by up to 0.3 % at a step of 0.01,
            and R = 3 by 0.007 %, inside the paper's own errors; hence 3.
        weights: (w_gov, w_init, w_smooth) of `symdyn.smnn.solve`.
        smoother: evaluate the terms on Savitzky-Golay-smoothed data (for noisy data).
        fine_tune: finish with exact thresholded least squares on the S-MNN loss.
        max_chunks: chunks used in fine-tuning (evenly spaced over the data).
    """

    name: ClassVar[str] = "smnn"
    sequence_length: int = 50
    batch_size: int = 512
    steps: int = 2000
    learning_rate: float = 0.1
    order: int = 3
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    smoother: SavitzkyGolay | None = None
    fine_tune: bool = True
    max_chunks: int = 2048

    def __post_init__(self):
        for name in ("sequence_length", "batch_size", "order", "max_chunks"):
            value, least = getattr(self, name), 3 if name == "sequence_length" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"SMNN {name} must be an int of at least {least}, not {value!r}")
        if not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(f"SMNN steps must be a non-negative int, not {self.steps!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"SMNN learning_rate must be positive, not {self.learning_rate!r}")
        if self.steps == 0 and not self.fine_tune:
            raise ValueError("SMNN with steps=0 and fine_tune=False fits nothing")

    def describe(self) -> str:
        parts = [f"S-MNN (R = {self.order}, chunks of {self.sequence_length})"]
        if self.steps:
            parts.append(f"{self.steps} Adam steps on batches of {self.batch_size}")
        if self.fine_tune:
            parts.append("exact fine-tuning")
        if self.smoother:
            parts.append(f"terms on {self.smoother}")
        return ", ".join(parts)

    def fit(
        self, candidates: Candidates, data: Trajectories, *, threshold: float, key, progress: bool
    ) -> tuple[Fit, History]:
        problem = _Chunks.build(self, candidates, data)
        a = jnp.asarray(candidates.guesses, problem.dtype)
        history = History(np.zeros(0), math.nan)
        if self.steps:
            a, history = self._adam(problem, a, key, progress)
        if not self.fine_tune:
            a = np.array(a, dtype=np.float64)
            active = np.abs(a) >= threshold
            a[~active] = 0.0
            return Fit(a, active, np.full(a.size, np.nan), math.sqrt(history.losses[-1])), history
        fit = thresholded_least_squares(
            problem.residual, np.asarray(a), threshold=threshold, affine=candidates.affine, segments=problem.segments
        )
        return fit, history

    def _adam(self, problem: _Chunks, a: jax.Array, key, progress: bool) -> tuple[jax.Array, History]:
        optimizer = optax.adam(optax.cosine_decay_schedule(self.learning_rate, self.steps, alpha=0.01))
        state = optimizer.init(a)
        blocks = -(-self.steps // _BLOCK)

        @jax.jit
        def block(a, state, key, first):
            def step(carry, inputs):
                a, state = carry
                key, index = inputs
                loss, grad = jax.value_and_grad(problem.batch_loss)(a, key)
                with jax.numpy_dtype_promotion("standard"):  # optax mixes its int step count with floats
                    updates, new_state = optimizer.update(grad, state, a)
                live = index < self.steps  # the last block runs past `steps` without updating
                keep = lambda new, old: jnp.where(live, new, old)
                return (keep(optax.apply_updates(a, updates), a), jax.tree.map(keep, new_state, state)), loss

            inputs = (jax.random.split(key, _BLOCK), first + jnp.arange(_BLOCK))
            return jax.lax.scan(step, (a, state), inputs)

        history, seconds = [], []
        with ProgressBar(self.steps, "smnn: Adam", enabled=progress) as bar:
            for b, block_key in enumerate(jax.random.split(key, blocks)):
                started = time.perf_counter()
                (a, state), losses = block(a, state, block_key, b * _BLOCK)
                losses = np.asarray(losses)[: self.steps - b * _BLOCK]
                seconds.append((time.perf_counter() - started) / _BLOCK)
                if not np.isfinite(losses).all():
                    bad = b * _BLOCK + int(np.argmin(np.isfinite(losses)))
                    raise FloatingPointError(
                        f"S-MNN discovery: the loss is {losses[bad - b * _BLOCK]} at Adam step {bad}; lower the "
                        f"learning rate (now {self.learning_rate:g}) or give the unknowns better guesses"
                    )
                history.append(losses)
                bar.update(losses.size, loss=float(losses[-1]))
        # the first block compiles; a step's time is the mean of the others
        return a, History(np.concatenate(history), float(np.mean(seconds[1:])) if blocks > 1 else math.nan)


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
        length = method.sequence_length
        trajectories, samples, variables = values.shape
        if samples < length:
            raise ValueError(f"{data.origin}: {samples} samples are fewer than one chunk (sequence_length {length})")
        starts = samples - length + 1
        total = trajectories * starts
        chunks = np.arange(0, total, -(-total // method.max_chunks))
        segment = (chunks % starts) * SEGMENTS // starts
        dtype = jnp.result_type(float)
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
        )

    def gather(self, chunks: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """(data, terms_on, times) of the flat chunk indices: (B, T, V), (B, T, V), (B, T)."""
        trajectory, start = jnp.divmod(chunks, self.starts)
        rows = start[:, None] + jnp.arange(self.method.sequence_length)
        return self.x[trajectory[:, None], rows], self.terms_on[trajectory[:, None], rows], self.t[rows]

    def batch_loss(self, a: jax.Array, key) -> jax.Array:
        chunks = jax.random.randint(key, (self.method.batch_size,), 0, self.x.shape[0] * self.starts)
        x, terms_on, t = self.gather(chunks)
        return jnp.mean(((self.predict(a, terms_on, t) - x) / self.scale) ** 2)

    def predict(self, a: jax.Array, terms_on: jax.Array, t: jax.Array) -> jax.Array:
        """S-MNN solutions (B, T, V) of y_v' = f_v(t, x; a), y_v(t_0) = x_v(t_0), one scalar ODE per state."""
        batch, length, variables = terms_on.shape
        d = self.candidates.rhs(t, terms_on, a)
        d = jnp.moveaxis(d, -1, 1).reshape(batch * variables, length, 1)
        u = terms_on[:, 0, :].reshape(batch * variables, 1, 1, 1)
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
        y = solve(self._c(), d, u, self._s(), weights=self.method.weights, method="sequential")[..., 0, 0]
        return y[:length].T, y[length]

    def residual(self, a: jax.Array) -> jax.Array:
        """Scaled S-MNN trajectory errors on the fine-tuning chunks, flat (the same loss as Adam's)."""
        x, terms_on, t = self.gather(jnp.asarray(self.fine_tune_chunks))
        solve_d, solve_u = self.operator()
        d = self.candidates.rhs(t, terms_on, a)
        y = jnp.einsum("tk,bkv->btv", solve_d, d) + solve_u[None, :, None] * terms_on[:, :1, :]
        return ((y - x) / self.scale).ravel()
