"""Encoders and decoders of mechanistic networks: C frames of n fields in, per-point features out.

An encoder maps one context (C, n, *grid) to features (n, *grid, k): one feature vector per field
and grid point, each point's ODE in the per-point scalar layout of the seed's KdV experiment
(Section 5.3: "the temporal evolution at each spatial point as an independent ODE").
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


class AbstractEncoder(eqx.Module):
    """Context (C, n, *grid) → features (n, *grid, k); `config` rebuilds its structure."""

    kind: ClassVar[str]

    @abc.abstractmethod
    def __call__(self, x: Float[Array, "C n *grid"]) -> Float[Array, "n *grid k"]: ...

    @property
    @abc.abstractmethod
    def config(self) -> dict: ...


class _PeriodicConv(eqx.Module):
    conv: eqx.nn.Conv1d
    reach: int = eqx.field(static=True)

    def __init__(self, channels_in: int, channels_out: int, kernel_size: int, *, key: jax.Array):
        self.conv = eqx.nn.Conv1d(channels_in, channels_out, kernel_size, key=key)
        self.reach = kernel_size // 2

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.conv(jnp.pad(x, ((0, 0), (self.reach, self.reach)), mode="wrap"))


class ResNet1D(AbstractEncoder):
    """A 1-D ResNet over (time, space) after Brandstetter et al. (2022): the C frames of each field are channels,
    a periodic convolution lifts them to `width` channels, `blocks` residual blocks of two convolutions with
    GELU follow, and a pointwise convolution projects to k features per field and point.

    Args:
        context: C. fields: n. features: k.
        width: hidden channels. blocks: residual blocks. kernel_size: points each convolution sees (odd).
        key: PRNG key of the weights.

    Example:
        >>> encoder = ResNet1D(10, 1, 31, key=jax.random.PRNGKey(0))
        >>> encoder(jnp.zeros((10, 1, 64))).shape
        (1, 64, 31)
    """

    kind: ClassVar[str] = "resnet1d"
    context: int = eqx.field(static=True)
    fields: int = eqx.field(static=True)
    features: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    kernel_size: int = eqx.field(static=True)
    lift: _PeriodicConv
    layers: tuple[tuple[_PeriodicConv, _PeriodicConv], ...]
    project: eqx.nn.Conv1d

    def __init__(
        self,
        context: int,
        fields: int,
        features: int,
        *,
        width: int = 32,
        blocks: int = 4,
        kernel_size: int = 5,
        key: jax.Array,
    ):
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (a centred stencil), not {kernel_size}")
        self.context, self.fields, self.features = context, fields, features
        self.width, self.kernel_size = width, kernel_size
        lift_key, project_key, *keys = jax.random.split(key, 2 + 2 * blocks)
        self.lift = _PeriodicConv(context * fields, width, kernel_size, key=lift_key)
        self.layers = tuple(
            (_PeriodicConv(width, width, kernel_size, key=a), _PeriodicConv(width, width, kernel_size, key=b))
            for a, b in zip(keys[::2], keys[1::2])
        )
        self.project = eqx.nn.Conv1d(width, fields * features, 1, key=project_key)

    def __call__(self, x):
        points = x.shape[-1]
        h = jax.nn.gelu(self.lift(x.reshape(self.context * self.fields, points)))
        for first, second in self.layers:
            h = h + second(jax.nn.gelu(first(h)))
            h = jax.nn.gelu(h)
        out = self.project(h).reshape(self.fields, self.features, points)
        return jnp.moveaxis(out, 1, -1)

    @property
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "context": self.context,
            "fields": self.fields,
            "features": self.features,
            "width": self.width,
            "blocks": len(self.layers),
            "kernel_size": self.kernel_size,
        }


class MLPEncoder(AbstractEncoder):
    """An MLP on the flattened context, for small ODE data (or tiny grids): (C·n·P) → (n·P·k), ReLU.

    Args:
        context: C. fields: n (an ODE's states). features: k. grid: the grid's shape (default none).
        width, depth: of the hidden layers. key: PRNG key of the weights.

    Example:
        >>> encoder = MLPEncoder(4, 3, 7, key=jax.random.PRNGKey(0))
        >>> encoder(jnp.zeros((4, 3))).shape
        (3, 7)
    """

    kind: ClassVar[str] = "mlp"
    context: int = eqx.field(static=True)
    fields: int = eqx.field(static=True)
    features: int = eqx.field(static=True)
    grid: tuple[int, ...] = eqx.field(static=True)
    mlp: eqx.nn.MLP

    def __init__(
        self,
        context: int,
        fields: int,
        features: int,
        *,
        grid: tuple[int, ...] = (),
        width: int = 64,
        depth: int = 2,
        key: jax.Array,
    ):
        self.context, self.fields, self.features, self.grid = context, fields, features, tuple(grid)
        points = math.prod(self.grid)
        self.mlp = eqx.nn.MLP(context * fields * points, fields * points * features, width, depth, jax.nn.relu, key=key)

    def __call__(self, x):
        return self.mlp(x.ravel()).reshape(self.fields, *self.grid, self.features)

    @property
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "context": self.context,
            "fields": self.fields,
            "features": self.features,
            "grid": list(self.grid),
            "width": self.mlp.width_size,
            "depth": self.mlp.depth,
        }


ENCODERS: dict[str, type[AbstractEncoder]] = {kind.kind: kind for kind in (ResNet1D, MLPEncoder)}


def encoder_from_config(config: dict, *, key: jax.Array) -> AbstractEncoder:
    """An encoder of the structure `config` describes, its weights drawn from `key`."""
    config = dict(config)
    kind = config.pop("kind")
    if kind not in ENCODERS:
        raise ValueError(f"unknown encoder {kind!r}; known: {', '.join(ENCODERS)}")
    if "grid" in config:
        config["grid"] = tuple(config["grid"])
    return ENCODERS[kind](**config, key=key)


class LinearDecoder(eqx.Module):
    """z_t = w·(y_t, y'_t, …, y^(R)_t) + b at each time point: a decoder on the solver's derivatives, initialised
    to read off y itself (the identity decoder), so that training starts from the plain solution."""

    weight: Float[Array, " R+1"]
    bias: Float[Array, ""]

    def __init__(self, order: int):
        self.weight = jnp.zeros(order + 1).at[0].set(1.0)
        self.bias = jnp.zeros(())

    def __call__(self, y: Float[Array, "... R+1"]) -> Float[Array, " ..."]:
        return y @ self.weight.astype(y.dtype) + self.bias.astype(y.dtype)
