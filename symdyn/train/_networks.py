"""Networks F_θ(t, x), the learned vector fields of neural ODEs and PDEs: an MLP, a periodic convolutional network,
or a model file plus either."""

import abc
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from ..lower import AbstractLoweredModel, LoweredPDE
from ..model import Model, parse


class AbstractNetwork(eqx.Module):
    """A vector field `network(t, x)` on one state `x` of shape `state_shape`; vmap it for batches.

    A state is `(n,)` for an ODE and `(n_fields, *grid)` for fields on a grid. `state_names` says
    which state (or field) each entry of the first axis is, so a trained network can be checked
    against the model and the data it meets. A concrete network declares its `kind`, the name
    its files record, and rebuilds itself from its `config`.
    """

    kind: ClassVar[str]
    state_names: eqx.AbstractVar[tuple[str, ...]]
    grid: eqx.AbstractVar[tuple[int, ...]]

    @abc.abstractmethod
    def __call__(self, t: Any, x: jax.Array) -> jax.Array: ...

    @property
    @abc.abstractmethod
    def config(self) -> dict:
        """What rebuilds the network's structure (JSON-ready), so a checkpoint can be read back alone."""

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: dict) -> "AbstractNetwork":
        """A network of the structure `config` describes, its weights placeholders until loaded."""

    @property
    def state_shape(self) -> tuple[int, ...]:
        return (len(self.state_names), *self.grid)

    @property
    def dtype(self) -> jnp.dtype:
        """The floating dtype of the weights (what the network was built or trained in)."""
        return jax.tree.leaves(eqx.filter(self, eqx.is_inexact_array))[0].dtype


def in_precision(network: AbstractNetwork, dtype) -> AbstractNetwork:
    """The network with its weights (and a hybrid's known parameters) in `dtype`."""
    return jax.tree.map(lambda leaf: leaf.astype(dtype) if eqx.is_inexact_array(leaf) else leaf, network)


def _positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")


def _names(state_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(state_names)
    if not names:
        raise ValueError("state_names must name at least one state")
    return names


class MLP(AbstractNetwork):
    """The network of Yin et al. used by the seed: three linear layers, ReLU, hidden width 200, on the
    flattened state (for KS on 256 points: 256 → 200 → 200 → 256).

    Args:
        state_names: the states (or fields), in order.
        grid: the grid's shape for fields (default none: an ODE's state `(n,)`).
        width: the hidden width. depth: the number of hidden layers (2 gives three linear layers).
        time_dependent: feed `t` to the network as one more input.
        outputs: how many states (fields) it returns (default all; a `Hybrid` learns fewer).
        key: the PRNG key of the initial weights (uniform ±1/√fan_in, as PyTorch's default).

    Example:
        >>> network = MLP(("x", "v"), key=jax.random.PRNGKey(0))
        >>> network(0.0, jnp.ones(2)).shape
        (2,)
    """

    kind: ClassVar[str] = "mlp"
    state_names: tuple[str, ...] = eqx.field(static=True)
    grid: tuple[int, ...] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    time_dependent: bool = eqx.field(static=True)
    outputs: int = eqx.field(static=True)
    network: eqx.nn.MLP

    def __init__(
        self,
        state_names: Sequence[str],
        *,
        grid: Sequence[int] = (),
        width: int = 200,
        depth: int = 2,
        time_dependent: bool = False,
        outputs: int | None = None,
        key: jax.Array,
    ):
        self.state_names, self.grid = _names(state_names), tuple(int(n) for n in grid)
        self.outputs = len(self.state_names) if outputs is None else outputs
        _positive(width=width, depth=depth, outputs=self.outputs)
        self.width, self.depth, self.time_dependent = width, depth, bool(time_dependent)
        points = math.prod(self.grid)
        size = len(self.state_names) * points + self.time_dependent
        self.network = eqx.nn.MLP(size, self.outputs * points, width, depth, jax.nn.relu, key=key)

    def __call__(self, t: Any, x: jax.Array) -> jax.Array:
        flat = x.ravel()
        if self.time_dependent:
            flat = jnp.concatenate([flat, jnp.reshape(jnp.asarray(t, x.dtype), (1,))])
        return self.network(flat).reshape(self.outputs, *self.grid)

    @property
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "state_names": list(self.state_names),
            "grid": list(self.grid),
            "width": self.width,
            "depth": self.depth,
            "time_dependent": self.time_dependent,
            "outputs": self.outputs,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "MLP":
        options = {k: config[k] for k in ("width", "depth", "time_dependent") if k in config}
        grid, outputs = config.get("grid", ()), config.get("outputs")
        return cls(config["state_names"], grid=grid, outputs=outputs, **options, key=jax.random.PRNGKey(0))


class PeriodicCNN(AbstractNetwork):
    """Convolutions with circular padding on a periodic grid, ReLU between them: translation-equivariant,
    as the seed suggests for KS ("a better adapted architecture such as a Convolutional Neural Network").

    Its fields are the channels; every layer sees `kernel_size` neighbours along each axis, so the
    network's reach is depth·(kernel_size − 1)/2 points and its size does not grow with the grid.

    Args:
        state_names: the fields. grid: the grid's shape (1-D or 2-D, periodic).
        width: channels of the hidden layers. depth: hidden layers. kernel_size: an odd width.
        outputs: fields it returns (default all). key: the PRNG key of the initial weights.

    Example:
        >>> network = PeriodicCNN(("u",), grid=(256,), key=jax.random.PRNGKey(0))
        >>> network(0.0, jnp.ones((1, 256))).shape
        (1, 256)
    """

    kind: ClassVar[str] = "cnn"
    state_names: tuple[str, ...] = eqx.field(static=True)
    grid: tuple[int, ...] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    kernel_size: int = eqx.field(static=True)
    outputs: int = eqx.field(static=True)
    layers: tuple[eqx.nn.Conv, ...]

    def __init__(
        self,
        state_names: Sequence[str],
        *,
        grid: Sequence[int],
        width: int = 32,
        depth: int = 3,
        kernel_size: int = 5,
        outputs: int | None = None,
        key: jax.Array,
    ):
        self.state_names, self.grid = _names(state_names), tuple(int(n) for n in grid)
        if len(self.grid) not in (1, 2):
            raise ValueError(f"PeriodicCNN works on 1-D and 2-D grids, not a grid of shape {self.grid}")
        self.outputs = len(self.state_names) if outputs is None else outputs
        _positive(width=width, depth=depth, kernel_size=kernel_size, outputs=self.outputs)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (centred on each point), not {kernel_size}")
        self.width, self.depth, self.kernel_size = width, depth, kernel_size
        channels = [len(self.state_names), *[width] * depth, self.outputs]
        keys = jax.random.split(key, len(channels) - 1)
        self.layers = tuple(
            eqx.nn.Conv(
                len(self.grid), c_in, c_out, kernel_size, padding=kernel_size // 2, padding_mode="CIRCULAR", key=k
            )
            for c_in, c_out, k in zip(channels[:-1], channels[1:], keys)
        )

    def __call__(self, t: Any, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)

    @property
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "state_names": list(self.state_names),
            "grid": list(self.grid),
            "width": self.width,
            "depth": self.depth,
            "kernel_size": self.kernel_size,
            "outputs": self.outputs,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "PeriodicCNN":
        options = {k: config[k] for k in ("width", "depth", "kernel_size", "outputs")}
        return cls(config["state_names"], grid=config["grid"], **options, key=jax.random.PRNGKey(0))


class Hybrid(AbstractNetwork):
    """A known part from a model file plus a network that learns the rest: F_θ = F_known + mask · network.

    Args:
        known: the model of the known part, an ODE or a PDE (a `Model`, lowered here at JAX's default
            float dtype); the network has its states (fields, grid), in order. Its parameters stay
            fixed at `p` (default the model's own).
        learned: the states (fields) the network adds to (default all); the others follow the known part.
        network: "mlp" or, on a periodic grid, "cnn"; `options` go to it (width, depth, ...).
        key: the PRNG key of the network's initial weights.

    Example:
        >>> known = symdyn.load("examples/two_body.sdyn")
        >>> network = Hybrid(known, learned=("vx", "vy"), key=jax.random.PRNGKey(0))
        >>> network(0.0, jnp.array([0.4, 0.0, 0.0, 2.0])).shape
        (4,)
    """

    kind: ClassVar[str] = "hybrid"
    known: AbstractLoweredModel
    learned: tuple[str, ...] = eqx.field(static=True)
    network: AbstractNetwork
    model_text: str = eqx.field(static=True, repr=False)

    def __init__(
        self,
        known: Model,
        *,
        learned: Sequence[str] | None = None,
        p: Any = None,
        network: str = "mlp",
        key: jax.Array,
        **options: Any,
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
        if network not in ("mlp", "cnn"):
            raise ValueError(f"a hybrid's network is 'mlp' or 'cnn', not {network!r}")
        self.known = eqx.tree_at(lambda m: m.p, known, params)
        self.learned = learned
        self.model_text = model_text
        grid = known.domain.shape if isinstance(known, LoweredPDE) else ()
        self.network = network_kind(network)(known.state_names, grid=grid, outputs=len(learned), key=key, **options)

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.known.state_names

    @property
    def grid(self) -> tuple[int, ...]:
        return self.network.grid

    def __call__(self, t: Any, x: jax.Array) -> jax.Array:
        known = self.known.rhs(t, x, jax.lax.stop_gradient(self.known.p))
        rows = jnp.asarray([self.state_names.index(name) for name in self.learned])
        return known.at[rows].add(self.network(t, x))

    @property
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "learned": list(self.learned),
            "p": [float(v) for v in self.known.p],
            "model": self.model_text,
            "network": self.network.config,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Hybrid":
        inner = dict(config.get("network") or {"kind": "mlp", **config})  # files before networks nested
        options = {k: v for k, v in inner.items() if k in ("width", "depth", "time_dependent", "kernel_size")}
        return cls(
            parse(config["model"]),
            learned=config["learned"],
            p=config["p"],
            network=inner["kind"],
            key=jax.random.PRNGKey(0),
            **options,
        )


NETWORKS: dict[str, type[AbstractNetwork]] = {cls.kind: cls for cls in (MLP, PeriodicCNN, Hybrid)}


def network_kind(kind: str) -> type[AbstractNetwork]:
    """The network class called `kind` ("mlp", "cnn", "hybrid")."""
    if kind not in NETWORKS:
        raise ValueError(f"unknown network kind {kind!r}; known: {', '.join(NETWORKS)}")
    return NETWORKS[kind]
