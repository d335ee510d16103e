"""The names and defaults the parsers offer, written out so that `symdyn COMMAND --help` loads neither
JAX nor SymPy; a test holds each equal to the registry or class it stands for."""

from __future__ import annotations

# symdyn.integrators.available(split=False): methods for any vector field
INTEGRATORS_ANY = (
    "euler",
    "heun",
    "midpoint",
    "rk3",
    "rk4",
    "implicit_euler",
    "implicit_midpoint",
    "trapezoid",
    "gauss_legendre4",
    "leapfrog",
)
# symdyn.integrators.available(): those and the methods for a PDE's split u' = L u + N(u)
INTEGRATORS = (*INTEGRATORS_ANY, "etd1", "etd2", "etdrk4", "imex_euler", "imex_trapezoid")
PRESETS = ("kdv", "ks")  # sorted(symdyn.data.PRESETS)

# the defaults of symdyn.discovery.SMNN and WeakForm
SMNN_DEFAULTS = {"steps": None, "batch_size": 512, "sequence_length": 50, "learning_rate": 0.1, "order": 3}
WEAK_DEFAULTS = {"width": 41, "space_width": 41}
