"""The seeds' PDE data sets as presets: model, initial fields, steps and split sizes.

- `ks`: Kuramoto-Sivashinsky of Janvier, Salomon & Meunier (Section 4.3, Appendix B):
  u_t = −u u_x − u_xx − u_xxxx, L = 64, 256 points, Δt = 0.2, 360 warm-up steps dropped;
  train 512 × 140, validation 128 × 140, test 128 × 640 steps.
- `kdv`: the Korteweg-de Vries set behind S-MNN (Section 5.3): the generator solves
  u_t + u u_x + u_xxx = 0 (the paper prints y_t + y_xxx − 6 y y_x = 0, the same
  equation for u = −6y), L ~ U(115.2, 140.8) and T ~ U(45, 55) per trajectory, 256
  points, 250 steps of which the first 110 are dropped; 512 trajectories per split.
  To integrate all trajectories at once on one grid, the model is written in rescaled
  coordinates x̃ = 128 x/L ∈ [0, 128), t̃ = 50 t/T: trajectory i has x = x̃ L_i/128 and
  t = t̃ T_i/50, with L_i and T_i in the data set's `parameters`.

Both start from the seeds' sum of sines: Σ_{m=1..10} A_m sin(2π l_m x/L + φ_m),
A ~ U(−0.5, 0.5), φ ~ U(0, 2π), l ∈ {1, 2}.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from typing import Any

import jax
import jax.numpy as jnp

from ..lower import LoweredPDE
from ..model import Model, parse
from ._generate import generate
from ._initial import AbstractInitialCondition, SumOfSines
from ._trajectories import Trajectories
from ._uniform import Uniform

KS_MODEL = """\
# Kuramoto-Sivashinsky as in Janvier, Salomon & Meunier (eq. 13): u_t + u_xx + u_xxxx + u u_x = 0.
model KuramotoSivashinsky
    @domain x ∈ Periodic(0, 64; points = 256)
    @variables u(t, x)
    D(u) ~ -u*∂x(u) - ∂x^2(u) - ∂x^4(u)
    @conserved mass = ∫(u, x)
end
"""

KDV_MODEL = """\
# Korteweg-de Vries, u_t + u u_x + u_xxx = 0, on x ∈ [0, L) over t ∈ [0, T], written in
# x̃ = 128x/L and t̃ = 50t/T so that trajectories of different L and T share one grid.
model KdVRescaled
    @parameters L = 128  T = 50
    @domain x ∈ Periodic(0, 128; points = 256)
    @variables u(t, x)
    D(u) ~ -(T/50)*((128/L)*u*∂x(u) + (128/L)^3*∂x^3(u))
    @conserved mass = ∫(u, x)
    @conserved momentum = ∫(u^2, x)
    @conserved energy = ∫(u^3/6 - (128/L)^2*∂x(u)^2/2, x)
end
"""


@dataclasses.dataclass(frozen=True)
class Preset:
    """A seed's data set: how to generate each of its splits."""

    name: str
    description: str
    model_text: str
    initial: AbstractInitialCondition
    dt: float
    substeps: int
    warmup: int
    splits: dict[str, tuple[int, int]]  # split → (samples, saved steps)
    parameters: dict[str, Uniform | float] = dataclasses.field(default_factory=dict)
    method: str = "etdrk4"

    def model(self) -> Model:
        return parse(self.model_text, filename=f"<preset {self.name}>")

    def generate(
        self,
        split: str,
        *,
        key: jax.Array,
        samples: int | None = None,
        progress: bool = True,
        dtype: Any = None,
        devices: int | None = None,
        rows: tuple[int, int] | None = None,
    ) -> Trajectories:
        """One split (`train`, `validation`, `test`), all of it or its first `samples` trajectories' worth.

        Each split draws from `jax.random.fold_in(key, i)` with i its place in `splits`, so the
        splits are independent and a split is the same whichever others are generated. The
        splits share one lowered model per precision and integrate in pieces of the shortest
        split's steps, so that their integration compiles once. `devices` and `rows` are `generate`'s.
        """
        if split not in self.splits:
            raise ValueError(f"preset {self.name} has splits {', '.join(self.splits)}, not {split!r}")
        count, steps = self.splits[split]
        data = generate(
            _lowered(self.name, jnp.dtype(dtype or jnp.result_type(float)).name),
            initial=self.initial,
            samples=count if samples is None else samples,
            duration=(steps - 1) * self.dt,
            dt=self.dt,
            substeps=self.substeps,
            warmup=self.warmup,
            method=self.method,
            segment=min(saved for _, saved in self.splits.values()) - 1,
            parameters=self.parameters,
            key=jax.random.fold_in(key, list(self.splits).index(split)),
            progress=progress,
            devices=devices,
            rows=rows,
        )
        return dataclasses.replace(data, model=self.model_text)


SEED_SINES = SumOfSines(terms=10, amplitude=(-0.5, 0.5), wavenumbers=(1, 2))

PRESETS: dict[str, Preset] = {
    "ks": Preset(
        name="ks",
        description="Kuramoto-Sivashinsky of Janvier, Salomon & Meunier: L = 64, 256 points, Δt = 0.2",
        model_text=KS_MODEL,
        initial=SEED_SINES,
        dt=0.2,
        substeps=4,
        warmup=360,
        splits={"train": (512, 140), "validation": (128, 140), "test": (128, 640)},
    ),
    "kdv": Preset(
        name="kdv",
        description="KdV u_t + u u_x + u_xxx = 0 behind S-MNN: L ~ U(115.2, 140.8), T ~ U(45, 55), 256 points",
        model_text=KDV_MODEL,
        initial=SEED_SINES,
        dt=0.2,  # in t̃: 250 steps cover t̃ ∈ [0, 50), i.e. t ∈ [0, T)
        substeps=4,
        warmup=110,
        splits={"train": (512, 140), "validation": (512, 140), "test": (512, 140)},
        parameters={"L": Uniform(115.2, 140.8), "T": Uniform(45.0, 55.0)},
    ),
}


@functools.cache
def _lowered(name: str, dtype: str) -> LoweredPDE:
    return PRESETS[name].model().lower(dtype)


def preset(name: str) -> Preset:
    """The preset called `name` (`ks`, `kdv`)."""
    if name not in PRESETS:
        close = difflib.get_close_matches(name, PRESETS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown preset {name!r}{hint} Known: {', '.join(PRESETS)}")
    return PRESETS[name]
