"""The training objective: the trajectory loss through an integrator (seed eq. 2) and the Jacobian regularizers
L_AD (known dynamics, eqs. 5-7) and L_FD (unknown dynamics, eqs. 8-10)."""

import abc
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..data import Chunks
from ..integrators import AbstractIntegrator, integrate
from ..lower import AbstractLoweredModel
from ..model import Model
from ._networks import AbstractNetwork

_DISTRIBUTIONS = ("gaussian", "rademacher")
_JACOBIANS = ("auto", "exact", "hutchinson")


def rollout(
    network: AbstractNetwork, chunks: Chunks, dt: float, integrator: AbstractIntegrator
) -> Float[Array, "K N+1 *state"]:
    """F_θ integrated from each chunk's first point over its N steps: (K, N + 1, *state)."""
    n_steps = chunks.states.shape[1] - 1

    def one(x0, t0):
        return integrate(network, x0, t0, dt, n_steps, method=integrator, throw=False)

    return jax.vmap(one)(chunks.states[:, 0], chunks.t[:, 0])


def trajectory_loss(
    network: AbstractNetwork, chunks: Chunks, dt: float, integrator: AbstractIntegrator
) -> Float[Array, ""]:
    """Seed eq. 2, as a mean: ‖x(t_i) − x̃_θ(t_i)‖² averaged over the chunks' points i = 0..N."""
    error = rollout(network, chunks, dt, integrator) - chunks.states
    return jnp.mean(squared_norm(error, leading=2))


def squared_norm(a: jax.Array, leading: int) -> jax.Array:
    """‖·‖² over the state axes of `a`, those after its first `leading` axes (an ODE's one, a grid's several)."""
    return jnp.sum(a**2, axis=tuple(range(leading, a.ndim)))


class AbstractRegularizer(eqx.Module):
    """A penalty on the learned Jacobian, added to the trajectory loss with its `weight` λ (seed eq. 4)."""

    weight: eqx.AbstractVar[jax.Array]

    @abc.abstractmethod
    def __call__(self, network: AbstractNetwork, chunks: Chunks, dt: float, key: jax.Array) -> jax.Array:
        """The penalty on a minibatch of chunks (without the weight)."""

    @property
    @abc.abstractmethod
    def name(self) -> str: ...

    def with_weight(self, weight: float) -> "AbstractRegularizer":
        return eqx.tree_at(lambda r: r.weight, self, jnp.asarray(weight, self.weight.dtype))


def _weight(weight: float) -> jax.Array:
    weight = float(weight)
    if not weight >= 0:
        raise ValueError(f"weight must be a number >= 0, not {weight}")
    return jnp.asarray(weight, jnp.result_type(float))


class JacobianAD(AbstractRegularizer):
    """L_AD (seed eqs. 5-7): ‖J_{F_θ} − J_F‖²_F at every trajectory point, formed or estimated.

    Hutchinson's estimate (eqs. 6-7) is ‖(J_{F_θ} − J_F)(x) v‖² averaged over V random directions
    v per point: J_F v is the model's exact, symbolic Jacobian-vector product (the lowered model's
    `jvp`, at each trajectory's own parameters), J_{F_θ} v forward-mode autodiff of the network.
    For a PDE the state is the whole grid and J_F v the linearised operator applied to v: one
    product, never a matrix. Where the state has no more entries d than V, the Jacobians formed
    (d products of the network, the model's symbolic Jacobian) cost less and carry no variance:
    `jacobian="auto"` takes them then (the seed's two-body and rigid body, d = 4 and 3 for V = 10).

    Args:
        model: the true dynamics, an ODE or a PDE, as a `Model` (lowered here) or lowered.
        weight: λ. directions: V (the seed's 10). distribution: "gaussian" (the seed's) or
            "rademacher" (lower variance).
        jacobian: "exact" (the Jacobians formed), "hutchinson" (V probes), or "auto": exact when
            d ≤ V.

    Example:
        >>> reg = JacobianAD(symdyn.load("examples/two_body.sdyn"), weight=1e-3)
        >>> reg.jacobian
        'exact'
    """

    model: AbstractLoweredModel
    weight: jax.Array
    directions: int = eqx.field(static=True)
    distribution: str = eqx.field(static=True)
    jacobian: str = eqx.field(static=True)

    def __init__(
        self,
        model: Model | AbstractLoweredModel,
        weight: float,
        *,
        directions: int = 10,
        distribution="gaussian",
        jacobian: str = "auto",
    ):
        if isinstance(model, Model):
            model = model.lower()
        if not isinstance(model, AbstractLoweredModel):
            raise TypeError(f"model must be a Model or a lowered model, not {type(model).__name__}")
        if not isinstance(directions, int) or isinstance(directions, bool) or directions < 1:
            raise ValueError(f"directions must be a positive int, not {directions!r}")
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(_DISTRIBUTIONS)}, not {distribution!r}")
        if jacobian not in _JACOBIANS:
            raise ValueError(f"jacobian must be one of {', '.join(_JACOBIANS)}, not {jacobian!r}")
        if jacobian == "auto":
            jacobian = "exact" if math.prod(model.state_shape) <= directions else "hutchinson"
        self.model, self.weight = model, _weight(weight)
        self.directions, self.distribution, self.jacobian = directions, distribution, jacobian

    @property
    def name(self) -> str:
        return "L_AD"

    def __call__(self, network: AbstractNetwork, chunks: Chunks, dt: float, key: jax.Array) -> jax.Array:
        state = chunks.states.shape[2:]
        x = chunks.states.reshape(-1, *state)
        t = chunks.t.reshape(-1)
        p = jnp.repeat(chunks.p, chunks.states.shape[1], axis=0)
        if self.jacobian == "exact":
            return jnp.mean(jax.vmap(lambda *point: jacobian_error(network, self.model, *point))(t, x, p))
        v = directions(key, (x.shape[0], self.directions, *state), self.distribution, x.dtype)
        return jnp.mean(jax.vmap(lambda *point: jacobian_error(network, self.model, *point))(t, x, p, v))


def jacobian_error(
    network: AbstractNetwork, model: AbstractLoweredModel, t: jax.Array, x: jax.Array, p: jax.Array, v=None
) -> jax.Array:
    """‖(J_{F_θ} − J_F)(x)‖²_F at one point `x` (*state): with the Jacobians formed (`jax.jacfwd` of the
    network, the model's symbolic `jac`), or with probes `v` (V, *state) Hutchinson's estimate, the mean of
    ‖(J_{F_θ} − J_F)(x) v_k‖² (one linearization of the network for all V, the model's `jvp`)."""
    if v is None:
        learned = jax.jacfwd(lambda y: network(t, y))(x)
        return jnp.sum((learned - model.jac(t, x, p)) ** 2)
    _, learned = jax.linearize(lambda y: network(t, y), x)
    error = jax.vmap(learned)(v) - jax.vmap(lambda w: model.jvp(t, x, p, w))(v)
    return jnp.mean(squared_norm(error, leading=1))


class JacobianFD(AbstractRegularizer):
    """L_FD (seed eqs. 8-10): the Jacobian error along the trajectory, from the data alone.

    For consecutive points x_i, x_{i+1}, x_{i+2} of a chunk (step Δt), F(x_{i+1}) − F(x_i) is
    replaced by (x_{i+2} − 2x_{i+1} + x_i)/Δt, so the true F is never evaluated:
    ‖F_θ(x_{i+1}) − F_θ(x_i) − (x_{i+2} − 2x_{i+1} + x_i)/Δt‖² / ‖x_{i+1} − x_i‖², averaged.
    Needs rollouts of N ≥ 2 steps.

    Example:
        >>> reg = JacobianFD(weight=1e-2)
    """

    weight: jax.Array

    def __init__(self, weight: float):
        self.weight = _weight(weight)

    @property
    def name(self) -> str:
        return "L_FD"

    def __call__(self, network: AbstractNetwork, chunks: Chunks, dt: float, key: jax.Array) -> jax.Array:
        x, t = chunks.states, chunks.t
        if x.shape[1] < 3:
            raise ValueError("L_FD needs chunks of at least 2 steps (3 points); use a rollout N >= 2")
        f = jax.vmap(jax.vmap(network))(t[:, :-1], x[:, :-1])
        learned = f[:, 1:] - f[:, :-1]
        true = (x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]) / dt
        step = squared_norm(x[:, 1:-1] - x[:, :-2], leading=2)
        return jnp.mean(squared_norm(learned - true, leading=2) / step)


def directions(key: jax.Array, shape: tuple[int, ...], distribution: str, dtype: Any) -> jax.Array:
    """Random probe vectors with E[v vᵀ] = I: standard normal, or Rademacher (±1)."""
    if distribution == "gaussian":
        return jax.random.normal(key, shape, dtype)
    return jax.random.rademacher(key, shape, dtype)


def objective(
    network: AbstractNetwork,
    chunks: Chunks,
    key: jax.Array,
    dt: float,
    integrator: AbstractIntegrator,
    regularizer: AbstractRegularizer | None,
) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    """L_traj + λ·L_reg (seed eq. 4), and the two parts."""
    trajectory = trajectory_loss(network, chunks, dt, integrator)
    if regularizer is None:
        return trajectory, (trajectory, jnp.zeros_like(trajectory))
    penalty = regularizer(network, chunks, dt, key)
    return trajectory + regularizer.weight * penalty, (trajectory, penalty)


class AbstractObjective(eqx.Module):
    """What `fit` minimises: a loss on a minibatch of samples, and the held-out score that selects the best model.

    Samples are any pytree of arrays with one leading sample axis (`Chunks`, `Windows`); a minibatch
    is the same pytree indexed along it.
    """

    @abc.abstractmethod
    def __call__(self, model: Any, batch: Any, key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        """The loss on `batch`, and its two parts (the data term and the weighted penalty's unweighted value)."""

    @abc.abstractmethod
    def validation(self, model: Any, samples: Any) -> jax.Array:
        """The score on held-out samples (lower is better)."""


class TrajectoryObjective(AbstractObjective):
    """The seed's objective for neural ODEs: L_traj + λ·L_reg on chunks (eq. 4), validated by L_traj."""

    dt: float = eqx.field(static=True)
    integrator: AbstractIntegrator
    regularizer: AbstractRegularizer | None

    def __call__(self, model, batch, key):
        return objective(model, batch, key, self.dt, self.integrator, self.regularizer)

    def validation(self, model, samples):
        return trajectory_loss(model, samples, self.dt, self.integrator)
