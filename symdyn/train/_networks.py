"""Networks F_θ(t, x), the learned vector fields of neural ODEs: a plain MLP, or a model file plus an MLP."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..lower import LoweredModel
from ..model import Model


class AbstractNetwork(eqx.Module):
    """A vector field `network(t, x) -> (n,)` on one state `x` of shape `(n,)`; vmap it for batches.

    `state_names` says which state each entry is, so a trained network can be checked
    against the model and the data it meets.
    """

    state_names: eqx.AbstractVar[tuple[str, ...]]

    @abc.abstractmethod
    def __call__(self, t: Any, x: jax.Array) -> jax.Array: ...

    @property
    @abc.abstractmethod
    def config(self) -> dict:
        """What rebuilds the network's structure (JSON-ready), so a checkpoint can be read back alone."""

    @property
    def dtype(self) -> jnp.dtype:
        """The floating dtype of the weights (what the network was built or trained in)."""
        return jax.tree.leaves(eqx.filter(self, eqx.is_inexact_array))[0].dtype


def in_precision(network: AbstractNetwork, dtype) -> AbstractNetwork:
    """The network with its weights (and a hybrid's known parameters) in `dtype`."""
    return jax.tree.map(lambda leaf: leaf.astype(dtype) if eqx.is_inexact_array(leaf) else leaf, network)


class MLP(AbstractNetwork):
    """The network of Yin et al. used by the seed: three linear layers, ReLU, hidden width 200.

    Args:
        state_names: the states, in order (the input and output size is their number).
        width: the hidden width. depth: the number of hidden layers (2 gives three linear layers).
        time_dependent: feed `t` to the network as one more input.
        key: the PRNG key of the initial weights (uniform ±1/√fan_in, as PyTorch's default).

    Example:
        >>> network = MLP(("x", "v"), key=jax.random.PRNGKey(0))
        >>> network(0.0, jnp.ones(2)).shape
        (2,)
    """

    state_names: tuple[str, ...] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    time_dependent: bool = eqx.field(static=True)
    network: eqx.nn.MLP

    def __init__(
        self,
        state_names: Sequence[str],
        *,
        width: int = 200,
        depth: int = 2,
        time_dependent: bool = False,
        outputs: int | None = None,
        key: jax.Array,
    ):
        self.state_names = tuple(state_names)
        if not self.state_names:
            raise ValueError("state_names must name at least one state")
        for name, value in (("width", width), ("depth", depth)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        self.width, self.depth, self.time_dependent = width, depth, bool(time_dependent)
        n = len(self.state_names)
        self.network = eqx.nn.MLP(
            n + self.time_dependent, n if outputs is None else outputs, width, depth, jax.nn.relu, key=key
        )

    def __call__(self, t: Any, x: jax.Array) -> jax.Array:
        if self.time_dependent:
            x = jnp.concatenate([x, jnp.reshape(jnp.asarray(t, x.dtype), (1,))])
        return self.network(x)

    @property
    def config(self) -> dict:
        return {
            "kind": "mlp",
            "state_names": list(self.state_names),
            "width": self.width,
            "depth": self.depth,
            "time_dependent": self.time_dependent,
            "dtype": self.dtype.name,
        }


class Hybrid(AbstractNetwork):
    """A known part from a model file plus a network that learns the rest: F_θ = F_known + mask · MLP.

    Args:
        known: the model of the known part (a `Model`, lowered here at JAX's default float
            dtype); the network has its states, in order. Its parameters stay fixed at `p`
            (default the model's own).
        learned: the states the network adds to (default all); the others follow the known part exactly.
        width, depth, time_dependent: the network, as in `MLP`.
        key: the PRNG key of the network's initial weights.

    Example:
        >>> known = symdyn.load("examples/two_body.sdyn")
        >>> network = Hybrid(known, learned=("vx", "vy"), key=jax.random.PRNGKey(0))
        >>> network(0.0, jnp.array([0.4, 0.0, 0.0, 2.0])).shape
        (4,)
    """

    known: LoweredModel
    learned: tuple[str, ...] = eqx.field(static=True)
    network: MLP
    model_text: str = eqx.field(static=True, repr=False)

    def __init__(
        self,
        known: Model,
        *,
        learned: Sequence[str] | None = None,
        p: Any = None,
        width: int = 200,
        depth: int = 2,
        time_dependent: bool = False,
        key: jax.Array,
    ):
        if not isinstance(known, Model):
            raise TypeError(f"known must be a Model (symdyn.load(...)), not {type(known).__name__}")
        model_text = str(known)
        known = known.lower()
        params = known.p if p is None else jnp.asarray(p, jnp.result_type(float))
        if params is None:
            raise ValueError(f"{known.name}: a parameter has no default; pass p (in order {known.parameter_names})")
        learned = known.state_names if learned is None else tuple(learned)
        unknown = [name for name in learned if name not in known.state_names]
        if unknown or not learned:
            raise ValueError(
                f"learned must name states of {known.name} ({', '.join(known.state_names)}), not {unknown}"
            )
        self.known = eqx.tree_at(lambda m: m.p, known, params)
        self.learned = learned
        self.model_text = model_text
        self.network = MLP(
            known.state_names, width=width, depth=depth, time_dependent=time_dependent, outputs=len(learned), key=key
        )

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.known.state_names

    def __call__(self, t: Any, x: jax.Array) -> jax.Array:
        known = self.known.rhs(t, x, jax.lax.stop_gradient(self.known.p))
        rows = jnp.asarray([self.state_names.index(name) for name in self.learned])
        return known.at[rows].add(self.network(t, x))

    @property
    def config(self) -> dict:
        return {
            "kind": "hybrid",
            "state_names": list(self.state_names),
            "learned": list(self.learned),
            "p": [float(v) for v in self.known.p],
            "width": self.network.width,
            "depth": self.network.depth,
            "time_dependent": self.network.time_dependent,
            "model": self.model_text,
            "dtype": self.dtype.name,
        }
