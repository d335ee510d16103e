"""`evaluate`: long rollouts of a trained network against held-out trajectories, and the seed's metrics
(R_e(θ, t), the trajectory loss, ε_θ, J_e, the error of each conserved quantity).

The three errors are mean squared errors per entry (per state, per Jacobian entry), the scale of
the seed's Table 3: its rigid-body J_e of 7.8e-3 is a Frobenius error of 0.07 over 9 entries.
A state is an ODE's vector or a PDE's fields on the whole grid: norms run over all its entries."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._distributed import device_mesh, over_rows
from ..data import Trajectories, save_npz_atomically
from ..integrators import AbstractIntegrator, get, integrate
from ..lower import AbstractLoweredModel
from ..model import Model
from ._losses import directions as probe_directions
from ._losses import jacobian_error, squared_norm
from ._networks import AbstractNetwork, in_precision

# state entries above which J_e is estimated (Hutchinson) rather than formed
EXACT_JACOBIAN_LIMIT = 64
_POINTS_PER_BATCH = 2048


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What `evaluate` measured.

    Attributes:
        t: (T,) the rollout's times, at the model step.
        predicted: (M, T, *state) the network's rollouts from the test trajectories' first points.
        relative_error: (M, T) R_e(θ, t) = ‖x_θ(t) − x(t)‖ / ‖x(t)‖ per trajectory (inf once a rollout overflows).
        conserved_names: the model's @conserved quantities.
        conserved_error: (M, T, C) |C(x_θ(t)) − C(x(t))| / |C(x(t))| for each, or |C(x_θ(t)) − C(x(t))| for a
            quantity whose true value is zero (KS mass from zero-mean data): `conserved_relative` says which.
        trajectory_loss: the mean of (x_θ(t_i) − x(t_i))² over the long rollouts' points and states
            (the seed's L_traj column).
        offline_error: ε_θ, the mean of (F_θ(x) − F(x))² over the test points and states.
        jacobian_error: J_e, the mean of (J_{F_θ}(x) − J_F(x))² over the test points and Jacobian entries,
            ‖J_{F_θ} − J_F‖²_F / n².
        jacobian_estimate: "exact" (Jacobians formed) or "hutchinson, V directions".
        diverged_above: the final R_e beyond which a rollout counts as diverged.
    """

    t: np.ndarray
    predicted: np.ndarray
    relative_error: np.ndarray
    conserved_names: tuple[str, ...]
    conserved_error: np.ndarray
    trajectory_loss: float
    offline_error: float
    jacobian_error: float
    jacobian_estimate: str
    diverged_above: float = 10.0
    conserved_relative: tuple[bool, ...] = ()

    @property
    def final_error(self) -> np.ndarray:
        """(M,) R_e(θ, T_test): the distribution at the final time."""
        return self.relative_error[:, -1]

    @property
    def diverged(self) -> int:
        """How many rollouts end more than `diverged_above` times the true state's norm off, or overflowed.

        A rollout that keeps to the true orbit with a phase error stays within a few times the
        state's norm (at most 2 on the rigid body's unit sphere); one that diverges leaves it by
        orders of magnitude.
        """
        return int(np.sum(~(self.final_error <= self.diverged_above)))

    def summary(self) -> dict[str, float]:
        with np.errstate(all="ignore"):
            row = {
                "trajectory_loss": self.trajectory_loss,
                "offline_error": self.offline_error,
                "jacobian_error": self.jacobian_error,
                "final_error_median": float(np.median(self.final_error)),
                "final_error_mean": float(np.mean(self.final_error)),
                "diverged": self.diverged,
                "trajectories": int(self.relative_error.shape[0]),
            }
            for i, name in enumerate(self.conserved_names):
                kind = "relative" if self.conserved_relative[i] else "absolute"
                row[f"conserved_{name}_{kind}_error_final_median"] = float(np.median(self.conserved_error[:, -1, i]))
        return row

    def table(self) -> str:
        return comparison_table({"value": self})

    def save(self, path: str | os.PathLike) -> None:
        """The curves and metrics as `.npz` (written atomically): `t`, `relative_error` (M, T), one
        `conserved_<name>_<relative|absolute>_error` (M, T) per conserved quantity, and the `summary()` values."""
        curves = {
            f"conserved_{name}_{'relative' if relative else 'absolute'}_error": self.conserved_error[..., i]
            for i, (name, relative) in enumerate(zip(self.conserved_names, self.conserved_relative))
        }
        save_npz_atomically(
            path,
            t=self.t,
            relative_error=self.relative_error,
            **curves,
            jacobian_estimate=np.array(self.jacobian_estimate),
            **{key: np.asarray(value) for key, value in self.summary().items()},
        )


def comparison_table(evaluations: Mapping[str, Evaluation]) -> str:
    """The metrics of several evaluations side by side, a column per label.

    Example:
        >>> print(comparison_table({"N=2": evaluate(a, model, test), "N=2 + L_AD": evaluate(b, model, test)}))
    """
    summaries = {label: evaluation.summary() for label, evaluation in evaluations.items()}
    width = max(12, *(len(label) + 2 for label in summaries))
    rows = [f"{'metric':<32}" + "".join(f"{label:>{width}}" for label in summaries)]
    for key in dict.fromkeys(k for summary in summaries.values() for k in summary):
        values = [summary.get(key, float("nan")) for summary in summaries.values()]
        rows.append(f"{key:<32}" + "".join(f"{value:>{width}.4g}" for value in values))
    estimates = sorted({evaluation.jacobian_estimate for evaluation in evaluations.values()})
    return "\n".join([*rows, f"(J_e {', '.join(estimates)})"])


def evaluate(
    network: AbstractNetwork,
    model: Model | AbstractLoweredModel,
    test: Trajectories,
    *,
    dt: float | None = None,
    method: str | AbstractIntegrator = "rk4",
    jacobian: str = "auto",
    directions: int = 4,
    key: jax.Array | None = None,
    diverged_above: float = 10.0,
    devices: int | None = None,
) -> Evaluation:
    """Roll `network` out from the first point of each test trajectory over its whole length, and compare.

    Args:
        network: the trained network. model: the true dynamics, an ODE or a PDE (for ε_θ, J_e and the
            conserved quantities).
        test: held-out trajectories (each is evaluated at its own parameters).
        dt: the model step used in training (default the data's). method: its integrator.
        jacobian: "exact" (form J_{F_θ} by `jax.jacfwd`, J_F from the model, for small states),
            "hutchinson" (`directions` Gaussian probes through JVPs, eq. 5), or "auto"
            (exact up to 64 state entries, as the seed does for the ODEs and not for KS).
        key: PRNG key of the Hutchinson probes.
        diverged_above: the final relative error from which a rollout counts as diverged.
        devices: the devices the rollouts are split over, by trajectory (all by default); the result is one device's.

    Example:
        >>> report = evaluate(trained.network, model, test)
        >>> report.relative_error.shape, report.jacobian_error
    """
    lowered = model.lower() if isinstance(model, Model) else model
    if not isinstance(lowered, AbstractLoweredModel):
        raise TypeError(f"model must be a Model or a lowered model, not {type(model).__name__}")
    if tuple(test.names) != network.state_names or network.state_names != lowered.state_names:
        raise ValueError(
            f"states differ: network {network.state_names}, model {lowered.state_names}, test {test.names}"
        )
    if jacobian not in ("auto", "exact", "hutchinson"):
        raise ValueError(f"jacobian must be 'auto', 'exact' or 'hutchinson', not {jacobian!r}")
    if not float(diverged_above) > 0:
        raise ValueError(f"diverged_above must be a number > 0, not {diverged_above!r}")
    if test.states.shape[2:] != lowered.state_shape:
        raise ValueError(f"the test data has states of shape {test.states.shape[2:]}; the model {lowered.state_shape}")
    if jacobian == "auto":
        jacobian = "exact" if np.prod(lowered.state_shape) <= EXACT_JACOBIAN_LIMIT else "hutchinson"
    integrator = get(method)
    mesh = device_mesh(devices)
    every = test.every(dt)
    dt = test.dt * every
    dtype = jnp.result_type(float)
    network = in_precision(network, dtype)  # a float32 network evaluated in float64 computes in float64
    truth = jnp.asarray(test.states[:, ::every], dtype)
    t = jnp.asarray(test.t[::every], dtype)
    p = jnp.asarray(test.parameters, dtype)
    if p.shape[-1] != len(lowered.parameter_names):
        raise ValueError(f"the test data has parameters {test.parameter_names}; the model {lowered.parameter_names}")

    n_steps = truth.shape[1] - 1
    predicted = over_rows(  # one rollout per trajectory, the trajectories split over the devices
        lambda x0, network, t0: _rollouts(network, x0, t0, dt, n_steps, integrator), truth[:, 0], mesh, network, t[0]
    )
    truth_np = np.asarray(truth)
    with np.errstate(all="ignore"):
        relative = np.sqrt(squared_norm(predicted - truth_np, leading=2) / squared_norm(truth_np, leading=2))
        relative = np.where(np.isfinite(relative), relative, np.inf)
        trajectory_loss = float(np.mean((predicted - truth_np) ** 2))
    conserved, conserved_relative = _conserved_error(lowered, t, truth, jnp.asarray(predicted), p)

    points = truth.reshape(-1, *lowered.state_shape)
    times = jnp.broadcast_to(t, truth.shape[:2]).reshape(-1)
    point_p = jnp.repeat(p, truth.shape[1], axis=0)
    key = jax.random.PRNGKey(0) if key is None else key
    offline, jacobian_error = _network_errors(network, lowered, times, points, point_p, jacobian, directions, key)
    estimate = "exact" if jacobian == "exact" else f"hutchinson, {directions} directions"
    return Evaluation(
        t=np.asarray(t),
        predicted=predicted,
        relative_error=relative,
        conserved_names=lowered.conserved_names,
        conserved_error=conserved,
        trajectory_loss=trajectory_loss if np.isfinite(trajectory_loss) else float("inf"),
        offline_error=offline,
        jacobian_error=jacobian_error,
        jacobian_estimate=estimate,
        diverged_above=float(diverged_above),
        conserved_relative=conserved_relative,
    )


@eqx.filter_jit
def _rollouts(network, x0, t0, dt, n_steps, integrator):
    return jax.vmap(lambda x: integrate(network, x, t0, dt, n_steps, method=integrator, throw=False))(x0)


def _conserved_error(lowered: AbstractLoweredModel, t, truth, predicted, p) -> tuple[np.ndarray, tuple[bool, ...]]:
    """(M, T, C) errors of the conserved quantities along the rollouts, and which are relative: a quantity
    whose true values are all zero (below √ε of the states' scale, ε the precision's) is compared absolutely."""
    if not lowered.conserved_names:
        return np.zeros(truth.shape[:2] + (0,)), ()
    values = jax.vmap(jax.vmap(lambda t_i, x, p_i: lowered.conserved(t_i, x, p_i), (0, 0, None)), (None, 0, 0))
    true, learned = np.asarray(values(t, truth, p)), np.asarray(values(t, predicted, p))
    scale = float(np.sqrt(np.mean(np.asarray(truth) ** 2)))
    zero = np.sqrt(np.finfo(true.dtype).eps) * max(scale, np.finfo(true.dtype).tiny)
    relative = np.max(np.abs(true), axis=(0, 1)) > zero
    with np.errstate(all="ignore"):
        error = np.abs(learned - true) / np.where(relative, np.abs(true), 1.0)
    return np.where(np.isfinite(error), error, np.inf), tuple(bool(r) for r in relative)


def _network_errors(network, lowered, t, x, p, jacobian: str, directions: int, key) -> tuple[float, float]:
    """ε_θ and J_e, averaged over the points in batches (the Jacobians of a million points do not fit at once)."""
    f_errors, j_errors = _point_errors(
        network, lowered, t, x, p, jax.random.split(key, x.shape[0]), jacobian, directions
    )
    return float(jnp.mean(f_errors)), float(jnp.mean(j_errors))


@eqx.filter_jit
def _point_errors(network, lowered, t, x, p, keys, jacobian: str, directions: int):
    n = x[0].size

    def point(args):
        t_i, x_i, p_i, k = args
        f_error = network(t_i, x_i) - lowered.rhs(t_i, x_i, p_i)
        v = None if jacobian == "exact" else probe_directions(k, (directions, *x_i.shape), "gaussian", x_i.dtype)
        return jnp.mean(f_error**2), jacobian_error(network, lowered, t_i, x_i, p_i, v) / n**2

    return jax.lax.map(point, (t, x, p, keys), batch_size=_POINTS_PER_BATCH)
