"""The textbook polynomial systems of benchmarks/systems: their data, and how well a discovered right-hand side fits.

A fit succeeds when its right-hand side is within 1 % of the true one, ‖f_found − f_true‖ / ‖f_true‖ < 0.01
over all points and states, both on the training trajectory and on a trajectory of the true model from the
initial state made 10 % larger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

import symdyn
import symdyn.data
from symdyn.integrators import integrate

SYSTEMS = Path(__file__).resolve().parent / "systems"
TOLERANCE = 1e-2
PERTURBATION = 1.1

# file name: (duration, dt) of the one training trajectory
SPANS = {
    "lorenz": (20, 0.01),
    "rossler": (100, 0.01),
    "chen": (10, 0.005),
    "lu": (10, 0.005),
    "rabinovich_fabrikant": (50, 0.01),
    "sprott_a": (50, 0.01),
    "sprott_b": (50, 0.01),
    "sprott_c": (50, 0.01),
    "sprott_d": (50, 0.01),
    "sprott_e": (50, 0.01),
    "lotka_volterra": (30, 0.01),
    "competitive_lotka_volterra": (100, 0.01),
    "van_der_pol": (30, 0.01),
    "duffing": (50, 0.01),
    "brusselator": (30, 0.01),
    "selkov": (50, 0.01),
    "fitzhugh_nagumo": (100, 0.01),
    "hindmarsh_rose": (200, 0.01),
    "sir": (60, 0.01),
    "seir": (100, 0.01),
    "rikitake": (50, 0.01),
    "chua": (50, 0.01),
    "linear_damped_oscillator": (25, 0.01),
    "linear_3d": (25, 0.01),
    "cubic_oscillator": (25, 0.01),
    "hopf": (20, 0.01),
    "halvorsen": (20, 0.01),
    "genesio_tesi": (100, 0.01),
    "arneodo": (50, 0.01),
    "burke_shaw": (20, 0.005),
    "mean_field": (50, 0.01),
    "lorenz84": (50, 0.01),
    "moore_spiegel": (50, 0.01),
}


@dataclass(frozen=True)
class System:
    """One system: its trajectory from the model's initial state (`data`) and the true rhs there (`f_train`),
    a trajectory from the perturbed initial state (`x_test`) and the true rhs there (`f_test`)."""

    name: str
    model: symdyn.Model
    data: symdyn.data.Trajectories
    x_test: np.ndarray
    f_train: np.ndarray
    f_test: np.ndarray

    @property
    def terms(self) -> int:
        """The monomials of the true right-hand side."""
        defaults = self.model.defaults
        return sum(len(sp.Add.make_args(sp.expand(f.subs(defaults)))) for f in self.model.rhs() if f != 0)

    def error(self, rhs) -> float:
        """The larger relative error of `rhs(x)` ((T, V) to (T, V)) on the training and the test trajectory."""
        x_train = np.asarray(self.data.states[0])
        return max(
            np.linalg.norm(np.asarray(rhs(x)) - f) / np.linalg.norm(f)
            for x, f in ((x_train, self.f_train), (self.x_test, self.f_test))
        )

    def model_error(self, model: symdyn.Model) -> float:
        """`error` of a discovered model's right-hand side."""
        low = model.lower(jnp.float64)
        return self.error(lambda x: low.rhs(0.0, x, low.p))


def load(name: str) -> System:
    """The system of benchmarks/systems/<name>.sdyn with its training and test trajectories."""
    model = symdyn.load(SYSTEMS / f"{name}.sdyn")
    duration, dt = SPANS[name]
    data = symdyn.data.generate(
        model, samples=1, duration=duration, dt=dt, key=jax.random.PRNGKey(0), dtype=jnp.float64, progress=False
    )
    low = model.lower(jnp.float64)
    x_train = data.states[0]
    x_test = integrate(low, PERTURBATION * x_train[0], 0.0, dt, x_train.shape[0] - 1)
    rhs = lambda x: np.asarray(low.rhs(0.0, x, low.p))
    return System(name, model, data, np.asarray(x_test), rhs(x_train), rhs(x_test))


def names() -> list[str]:
    """The systems, in the order of `SPANS`; every file of benchmarks/systems has its span."""
    files = {path.stem for path in SYSTEMS.glob("*.sdyn")}
    if files != set(SPANS):
        raise ValueError(f"benchmarks/systems and SPANS differ: {sorted(files ^ set(SPANS))}")
    return list(SPANS)
