"""Parts (d) and (e) of benchmarks/discovery.py: Lorenz with noise, strong and weak form, and PDE discovery from the
KS and KdV presets, each against PySINDy on the same data when it is installed.

Every row says whether the discovered support is the true one and the largest relative error of a true
coefficient (inf where a true term was lost), and the wall time of the fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

import symdyn
from symdyn.data import Trajectories, generate, preset
from symdyn.discovery import SMNN, DerivativeLibrary, PolynomialLibrary, SavitzkyGolay, Sparse, WeakForm

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LORENZ = {"D(x): x": -10, "D(x): y": 10, "D(y): x": 28, "D(y): y": -1, "D(y): x*z": -1, "D(z): z": -8 / 3}
LORENZ |= {"D(z): x*y": 1}


def score(found: dict[str, float], truth: dict[str, float]) -> tuple[bool, float]:
    """(whether exactly the true terms were kept, the largest relative error of a true coefficient)."""
    errors = [abs(found.get(term, 0.0) - value) / abs(value) for term, value in truth.items()]
    return set(found) == set(truth), max(errors)


def timed(fit: Callable[..., dict[str, float]], *args) -> tuple[dict[str, float] | str, float]:
    """fit(*args) and its wall time; a failure as its message."""
    start = time.perf_counter()
    try:
        found = fit(*args)
    except Exception as error:  # a peer's failure is a row of the table, not the end of the run
        found = f"{type(error).__name__}: {error}"[:60]
    return found, time.perf_counter() - start


def symdyn_terms(template, data, method) -> dict[str, float]:
    found = symdyn.discover(template, data, method=method, progress=False)
    return {term: float(v) for term, v, kept in zip(found.terms, found.values, found.active) if kept}


def row(name: str, result, seconds: float, truth: dict[str, float]) -> str:
    if isinstance(result, str):
        return f"{name:<34} {'failed':>8} {'':>10} {seconds:>8.2f}  {result}"
    support, error = score(result, truth)
    return f"{name:<34} {'yes' if support else 'no':>8} {error:>10.2e} {seconds:>8.2f}"


HEADER = f"{'method':<34} {'support':>8} {'max error':>10} {'seconds':>8}"


def _pysindy_ode(data: Trajectories, weak: bool) -> dict[str, float]:
    import pysindy as ps

    names = {"x0": "x", "x1": "y", "x2": "z"}
    polynomial = ps.PolynomialLibrary(degree=2)
    if weak:
        library = ps.WeakPDELibrary(function_library=polynomial, spatiotemporal_grid=data.t, K=200, is_uniform=True)
        model = ps.SINDy(feature_library=library, optimizer=ps.STLSQ(threshold=0.1))
        model.fit(data.states[0], t=data.t)
    else:
        model = ps.SINDy(feature_library=polynomial, optimizer=ps.STLSQ(threshold=0.1))
        model.fit(data.states[0], t=data.dt)
    found = {}
    for state, row_ in zip("xyz", model.coefficients()):
        for feature, value in zip(model.get_feature_names(), row_):
            if value != 0:
                term = "*".join(names.get(f, f) for f in feature.split(" ")) if feature != "1" else "1"
                term = {"x^2": "x^2", "x*z": "x*z", "x*y": "x*y"}.get(term, term)
                found[f"D({state}): {term}"] = float(value)
    return found


def part_d(pysindy: bool) -> None:
    clean = generate(symdyn.load(EXAMPLES / "lorenz.sdyn"), duration=20.0, dt=0.01, key=jax.random.PRNGKey(0))
    library = PolynomialLibrary(2)
    print("\n(d) Lorenz with noise (one trajectory of 20 s, Δt = 0.01, degree-2 library, 30 candidate terms)")
    for level in (0.01, 0.05):
        data = clean.with_noise(level, seed=1)
        print(f"\nnoise {level:.0%} of each state's spread\n{HEADER}")
        methods = {
            "symdyn sparse, finite differences": "sparse",
            "symdyn sparse, Savitzky-Golay 21,3": Sparse(SavitzkyGolay(21, 3)),
            "symdyn weak form, width 41": WeakForm(width=41),
            "symdyn weak form, width 81": WeakForm(width=81),
            "symdyn S-MNN (500 steps)": SMNN(steps=500, smoother=SavitzkyGolay(21, 3)),
        }
        for name, method in methods.items():
            print(row(name, *timed(symdyn_terms, library, data, method), LORENZ))
        if pysindy:
            for weak in (False, True):
                name = f"PySINDy {'weak form (K = 200)' if weak else 'finite differences'}, STLSQ 0.1"
                print(row(name, *timed(_pysindy_ode, data, weak), LORENZ))


def _pysindy_pde(data: Trajectories, weak: bool) -> dict[str, float]:
    import pysindy as ps

    x = np.asarray(data.grid[0])
    u = np.moveaxis(data.states[0, :, 0], 0, 1)[..., None]  # (points, times, 1)
    polynomial = ps.PolynomialLibrary(degree=2, include_bias=False)
    if weak:
        grid = np.stack(np.meshgrid(x, data.t, indexing="ij"), axis=-1)
        library = ps.WeakPDELibrary(
            function_library=polynomial,
            derivative_order=4,
            spatiotemporal_grid=grid,
            include_bias=True,
            K=200,
            is_uniform=True,
            periodic=True,
        )
        model = ps.SINDy(feature_library=library, optimizer=ps.STLSQ(threshold=0.1, alpha=1e-5, normalize_columns=True))
        model.fit(u, t=data.dt)
    else:
        library = ps.PDELibrary(
            function_library=polynomial,
            derivative_order=4,
            spatial_grid=x,
            include_bias=True,
            is_uniform=True,
            periodic=True,
        )
        model = ps.SINDy(feature_library=library, optimizer=ps.STLSQ(threshold=0.1, alpha=1e-5, normalize_columns=True))
        model.fit(u, t=data.dt)
    derivative = {"x0_1": "∂x(u)", "x0_11": "∂x^2(u)", "x0_111": "∂x^3(u)", "x0_1111": "∂x^4(u)"}
    found = {}
    for feature, value in zip(model.get_feature_names(), model.coefficients()[0]):
        if value == 0:
            continue
        term = feature
        for key in sorted(derivative, key=len, reverse=True):
            term = term.replace(key, "*" + derivative[key])
        term = term.replace("x0x0", "u^2").replace("x0", "u").lstrip("*").replace("u*", "u*", 1)
        found[f"D(u): {term}"] = float(value)
    return found


def part_e(pysindy: bool) -> None:
    print("\n(e) PDE discovery from the presets' fields (one trajectory of 140 steps, 256 points), library")
    print("    1, u, u², ∂x(u) ... ∂x⁴(u) and their products with u and u² (15 terms); the weak form in space")
    print("    also with the conservative library 1, u, u², ∂x^k(u), ∂x^k(u²), k ≤ 4 (11 terms)")
    library = PolynomialLibrary(2) + PolynomialLibrary(2) * DerivativeLibrary(4)
    conservative = PolynomialLibrary(2) + DerivativeLibrary(4, of=PolynomialLibrary(2))  # 11 terms
    for name in ("ks", "kdv"):
        clean = preset(name).generate("train", key=jax.random.PRNGKey(0), samples=1, progress=False)
        if name == "ks":
            truth = {"D(u): u*∂x(u)": -1.0, "D(u): ∂x^2(u)": -1.0, "D(u): ∂x^4(u)": -1.0}
        else:  # the preset's rescaled coordinates: u_t = −(T/50)((128/L) u u_x + (128/L)³ u_xxx)
            length, duration = clean.parameters[0]
            scale = duration / 50
            truth = {"D(u): u*∂x(u)": -scale * 128 / length, "D(u): ∂x^3(u)": -scale * (128 / length) ** 3}
        # the same truth over the conservative library, where u·∂x(u) is ∂x(u^2)/2, written 2*u*∂x(u)
        conservative_truth = {
            (key.replace("u*∂x(u)", "2*u*∂x(u)") if key.endswith("u*∂x(u)") else key): (
                value / 2 if key.endswith("u*∂x(u)") else value
            )
            for key, value in truth.items()
        }
        for level in (0.0, 0.01, 0.05):
            data = clean.with_noise(level, seed=1)
            print(f"\n{name.upper()}, noise {level:.0%}\n{HEADER}")
            for label, method in (("symdyn sparse", "sparse"), ("symdyn weak form", WeakForm(width=21))):
                print(row(label, *timed(symdyn_terms, library, data, method), truth))
            label = "symdyn weak, poly2 + deriv4(poly2)"
            found = timed(symdyn_terms, conservative, data, WeakForm(width=21))
            print(row(label, *found, conservative_truth))
            if pysindy:
                for weak in (False, True):
                    label = f"PySINDy {'weak PDE-FIND' if weak else 'PDE-FIND'}, STLSQ"
                    print(row(label, *timed(_pysindy_pde, data, weak), truth))
