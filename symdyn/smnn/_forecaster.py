"""Forecasters: C frames of fields in, the next H frames out; the mechanistic network and a direct baseline.

`MechanisticForecaster` is the seed's encoder → S-MNN → decoder (Section 2, Algorithms 5 and 6):
each field at each grid point gets its own linear ODE over the H + 1 frames from the last context
frame, whose value is that frame's. `DirectForecaster` is the same encoder predicting the H
frames' increments over the last frame: the plain autoregressive network with the same budget.
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._encoders import AbstractEncoder, LinearDecoder, encoder_from_config
from ._layer import AbstractLinearODESolver, MechanisticLayer


class AbstractForecaster(eqx.Module):
    """Contexts (B, C, n, *grid) → forecasts (B, H, n, *grid); `config` rebuilds its structure."""

    kind: ClassVar[str]

    @property
    @abc.abstractmethod
    def context(self) -> int:
        """C, the frames read."""

    @property
    @abc.abstractmethod
    def horizon(self) -> int:
        """H, the frames forecast."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, "B C n *grid"]) -> Float[Array, "B H n *grid"]: ...

    @property
    @abc.abstractmethod
    def config(self) -> dict: ...

    @property
    def dtype(self) -> jnp.dtype:
        return jax.tree.leaves(eqx.filter(self, eqx.is_inexact_array))[0].dtype


class MechanisticForecaster(AbstractForecaster):
    """Encoder → one linear ODE of order R per field and point over H + 1 frames → optional decoder.

    The encoder predicts each ODE's coefficients c_0..c_{R-1} and right-hand side d at the H + 1
    frames and its initial derivatives y'_0..y^(R-1)_0; the leading coefficient is 1, the steps are
    the data's `step`, and y_0 is the last context frame. The forecast is y (or the decoder's
    output) at the H frames after it.

    Args:
        encoder: a callable of `encoder_for(layer)` shape, usually `ResNet1D(C, n, layer.size)`.
        layer: `MechanisticLayer(R, H + 1, step=dt)`.
        decoder: `LinearDecoder(R)` or None (y itself).

    Example:
        >>> layer = MechanisticLayer(2, 10, step=0.2)
        >>> net = MechanisticForecaster(ResNet1D(10, 1, layer.size, key=key), layer)
        >>> net(jnp.zeros((4, 10, 1, 256))).shape
        (4, 9, 1, 256)
    """

    kind: ClassVar[str] = "mechanistic"
    encoder: AbstractEncoder
    layer: MechanisticLayer
    decoder: LinearDecoder | None

    def __init__(self, encoder: AbstractEncoder, layer: MechanisticLayer, decoder: LinearDecoder | None = None):
        if layer.equations != 1 or layer.variables != 1 or not layer.given_value:
            raise ValueError("a forecaster's layer is one scalar ODE per point whose value y_0 is given")
        if encoder.features != layer.size:
            raise ValueError(f"the encoder gives {encoder.features} features per point; the layer takes {layer.size}")
        self.encoder, self.layer, self.decoder = encoder, layer, decoder

    @property
    def context(self) -> int:
        return self.encoder.context

    @property
    def horizon(self) -> int:
        return self.layer.times - 1

    def __call__(self, x):
        batch, _, *state = x.shape
        systems = batch * math.prod(state)
        features = jax.vmap(self.encoder)(x).reshape(systems, self.layer.size)
        y = self.layer(features, x[:, -1].reshape(systems, 1))[:, 1:, 0]  # (systems, H, R+1)
        z = y[..., 0] if self.decoder is None else self.decoder(y)
        return jnp.moveaxis(z.reshape(batch, *state, self.horizon), -1, 1)

    @property
    def config(self) -> dict:
        return {
            "kind": self.kind,
            "encoder": self.encoder.config,
            "layer": self.layer.config,
            "decoder": self.decoder is not None,
        }


class DirectForecaster(AbstractForecaster):
    """The encoder alone: its H features per point are the forecast's increments over the last context frame.

    Example:
        >>> net = DirectForecaster(ResNet1D(10, 1, 9, key=key))
        >>> net(jnp.zeros((4, 10, 1, 256))).shape
        (4, 9, 1, 256)
    """

    kind: ClassVar[str] = "direct"
    encoder: AbstractEncoder

    @property
    def context(self) -> int:
        return self.encoder.context

    @property
    def horizon(self) -> int:
        return self.encoder.features

    def __call__(self, x):
        increments = jnp.moveaxis(jax.vmap(self.encoder)(x), -1, 1)
        return x[:, -1:] + increments

    @property
    def config(self) -> dict:
        return {"kind": self.kind, "encoder": self.encoder.config}


def mechanistic_forecaster(
    encoder: str,
    *,
    context: int,
    horizon: int,
    fields: int,
    step: float,
    order: int = 2,
    solver: AbstractLinearODESolver | None = None,
    decoder: bool = False,
    grid: tuple[int, ...] = (),
    key: jax.Array,
    **shape,
) -> MechanisticForecaster:
    """A `MechanisticForecaster` with a fresh encoder ("resnet1d" or "mlp") sized for its layer.

    `shape` goes to the encoder (width, blocks, kernel_size for the ResNet; width, depth for the MLP).
    """
    layer = MechanisticLayer(order, horizon + 1, step=step, solver=solver)
    options = {"grid": tuple(grid)} if encoder == "mlp" else {}
    config = {"kind": encoder, "context": context, "fields": fields, "features": layer.size, **options, **shape}
    return MechanisticForecaster(encoder_from_config(config, key=key), layer, LinearDecoder(order) if decoder else None)


def forecaster_from_config(config: dict) -> AbstractForecaster:
    """A forecaster of the structure `config` describes, its weights placeholders until loaded."""
    key = jax.random.PRNGKey(0)
    if config["kind"] == MechanisticForecaster.kind:
        layer = MechanisticLayer.from_config(config["layer"])
        decoder = LinearDecoder(layer.order) if config["decoder"] else None
        return MechanisticForecaster(encoder_from_config(config["encoder"], key=key), layer, decoder)
    if config["kind"] == DirectForecaster.kind:
        return DirectForecaster(encoder_from_config(config["encoder"], key=key))
    raise ValueError(f"unknown forecaster {config['kind']!r}; known: mechanistic, direct")
