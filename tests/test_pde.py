"""PDE lowering on grids, exponential and IMEX integrators, stability of a step, data generators."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, PDE_FILES

import symdyn
from symdyn.data import FieldDataset, SumOfSines, generate_fields, preset
from symdyn.integrators import integrate
from symdyn.stability import pde_stability

KS = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn")
KDV = symdyn.load(EXAMPLES / "kdv.sdyn")
HEAT = symdyn.load(EXAMPLES / "heat_rod.sdyn")


def at_points(path, points: int, derivatives: str | None = None):
    text = path.read_text().replace("points = 256", f"points = {points}").replace("points = 101", f"points = {points}")
    return symdyn.parse(text).lower(jnp.float64, derivatives=derivatives)


def test_linear_part_and_its_exact_fourier_symbol():
    k = sp.Symbol("k", real=True)
    assert sp.simplify(KS.linear_split().symbol(0) - (k**2 - k**4)) == 0
    assert sp.simplify(KDV.linear_split().symbol(0) - sp.I * k**3) == 0
    assert [str(r) for r in KS.linear_split().remainder] == ["-u*uˍx"]


def test_lowered_pde_contract_shapes():
    low = KS.lower(jnp.float64)
    assert low.x0.shape == low.state_shape == (1, 256)
    assert low.grid[0].shape == (256,) and low.grid[0][1] == pytest.approx(0.25)
    assert low.rhs(0.0, low.x0, low.p).shape == (1, 256)
    batch = jnp.stack([low.x0, 2 * low.x0])
    assert low.rhs(0.0, batch, low.p).shape == (2, 1, 256)
    assert low.conserved(0.0, low.x0, low.p).shape == (1,)


@pytest.mark.parametrize("path", PDE_FILES + [EXAMPLES / "burgers.sdyn", EXAMPLES / "gray_scott.sdyn"], ids=str)
@pytest.mark.parametrize("points", [32, 64])
def test_exact_jvp_matches_autodiff_of_rhs(path, points):
    text = path.read_text()
    for n in ("256", "101", "96"):
        text = text.replace(f"points = {n}", f"points = {points}")
    model = symdyn.parse(text)
    schemes = ["spectral", "fd4"] if all(c.periodic for c in model.domain) else ["fd2", "fd4"]
    for scheme in schemes:
        low = model.lower(jnp.float64, derivatives=scheme)
        u = low.x0 + 0.1 * jax.random.normal(jax.random.PRNGKey(1), low.state_shape)
        v = jax.random.normal(jax.random.PRNGKey(2), low.state_shape)
        exact = low.jvp(0.3, u, low.p, v)
        autodiff = jax.jvp(lambda w, low=low: low.rhs(0.3, w, low.p), (u,), (v,))[1]
        np.testing.assert_allclose(exact, autodiff, rtol=1e-9, atol=1e-9 * float(jnp.abs(autodiff).max()))


def test_dense_jacobian_is_the_matrix_of_the_jvp_and_refuses_large_grids():
    low = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 32)
    u, v = low.x0, jax.random.normal(jax.random.PRNGKey(0), (1, 32))
    jac = low.jac(0.0, u, low.p)
    assert jac.shape == (1, 32, 1, 32)
    np.testing.assert_allclose(jac.reshape(32, 32) @ v.ravel(), low.jvp(0.0, u, low.p, v).ravel(), atol=1e-10)
    big = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 8192)
    with pytest.raises(ValueError, match="dense Jacobian of 8192 state entries is too large"):
        big.jac(0.0, big.x0, big.p)


def test_generated_code_does_not_grow_with_the_grid():
    small = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 64)
    large = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 65536)
    assert small.source == large.source
    assert len(small.source) < 6000


def test_spectral_derivatives_are_exact_and_finite_differences_have_their_order():
    text = "model W\n @domain x ∈ Periodic(0, 2π; points = {n})\n @variables u(t, x) = sin(3x)\n D(u) ~ ∂x^3(u)\nend"
    low = symdyn.parse(text.format(n=64)).lower(jnp.float64)
    np.testing.assert_allclose(low.rhs(0.0, low.x0, low.p)[0], -27 * np.cos(3 * low.grid[0]), atol=1e-10)
    for accuracy in (2, 4):
        errors = []
        for n in (64, 128):
            low = symdyn.parse(text.format(n=n)).lower(jnp.float64, derivatives=f"fd{accuracy}")
            errors.append(float(jnp.abs(low.rhs(0.0, low.x0, low.p)[0] + 27 * jnp.cos(3 * low.grid[0])).max()))
        assert np.log2(errors[0] / errors[1]) == pytest.approx(accuracy, abs=0.15)


def test_bounded_finite_differences_keep_their_order_up_to_the_ends():
    text = "model B\n @domain x ∈ Interval(0, 1; points = {n})\n @variables u(t, x) = exp(x)\n D(u) ~ ∂x^2(u)\nend"
    errors = []
    for n in (41, 81):
        text_n = text.format(n=n)
        # a rod without boundary conditions is refused by the model; add u's own values as Dirichlet data
        text_n = text_n.replace("end", "@boundary u(t, 0) ~ exp(t)\n @boundary u(t, 1) ~ exp(1 + t)\nend", 1)
        text_n = text_n.replace("model B\n", "model B\n", 1)
        low = symdyn.parse(text_n.replace("exp(1 + t)\nend", "exp(1 + t)\nend")).lower(jnp.float64, derivatives="fd4")
        f = low.rhs(0.0, low.x0, low.p)[0]
        errors.append(float(jnp.abs(f - jnp.exp(low.grid[0])).max()))
    assert np.log2(errors[0] / errors[1]) > 3.5


def test_heat_rod_with_dirichlet_and_neumann_conditions_matches_its_closed_form():
    low = HEAT.lower(jnp.float64)
    xs = integrate(low, low.x0, 0.0, 5e-4, 2000, method="rk4", save_every=2000)
    x = low.grid[0]
    exact = np.exp(-0.1 * (np.pi / 2) ** 2) * np.sin(np.pi * x / 2)
    np.testing.assert_allclose(xs[-1, 0], exact, atol=2e-5)
    assert xs[-1, 0, 0] == 0.0  # Dirichlet at x = 0
    nodes, weights = low.derivatives.rows(0, 1)
    slope = float(jnp.sum(xs[-1, 0, nodes[-1]] * weights[-1]))
    assert abs(slope) < 1e-10  # Neumann at x = 1, in the one-sided stencil that imposes it


def test_conserved_integrals_are_quadratures_on_the_grid():
    low = KDV.lower(jnp.float64)
    mass = low.conserved(0.0, low.x0, low.p)[0]
    assert float(mass) == pytest.approx(12 * np.sqrt(0.5) + 12 * np.sqrt(0.25), rel=1e-6)  # ∫3c sech²(√c x/2)
    heat = HEAT.lower(jnp.float64)
    assert float(heat.conserved(0.0, heat.x0, heat.p)[0]) == pytest.approx(2 / np.pi, abs=1e-4)


@pytest.mark.parametrize("name", ["kuramoto_sivashinsky", "gray_scott"])
@pytest.mark.parametrize("derivatives, dealias", [("spectral", False), ("spectral", True), ("fd4", False)])
def test_nonlinear_part_on_modes_is_the_nonlinear_part_in_space(name, derivatives, dealias):
    text = (EXAMPLES / f"{name}.sdyn").read_text()
    low = symdyn.parse(text.replace("points = 256", "points = 32")).lower(
        jnp.float64, derivatives=derivatives, dealias=dealias
    )
    u = 0.3 * jax.random.normal(jax.random.PRNGKey(1), (3, *low.state_shape), jnp.float64) + 0.5
    modes = low.domain.to_modes(u)
    expected = low.domain.to_modes(low.nonlinear(0.0, u, low.p))
    np.testing.assert_allclose(low.nonlinear_of_modes(0.0, modes, low.p), expected, atol=1e-9)


def _orders(low, method, t_end, steps):
    reference = integrate(low, low.x0, 0.0, t_end / 4096, 4096, method="etdrk4", save_every=4096)[-1]
    errors = []
    for n in steps:
        u = integrate(low, low.x0, 0.0, t_end / n, n, method=method, save_every=n)[-1]
        errors.append(float(jnp.linalg.norm(u - reference) / jnp.linalg.norm(reference)))
    return np.polyfit(np.log(t_end / np.asarray(steps)), np.log(errors), 1)[0]


@pytest.mark.parametrize("model", [KS, KDV], ids=["ks", "kdv"])
@pytest.mark.parametrize(
    "method, order", [("etd1", 1), ("etd2", 2), ("etdrk4", 4), ("imex_euler", 1), ("imex_trapezoid", 2)]
)
def test_split_methods_converge_at_their_order(model, method, order):
    low = model.lower(jnp.float64)
    # stiff KS shows ETDRK4's order reduction before h → 0: 3.2 over h = 0.1 ... 0.025, 3.7 here
    assert _orders(low, method, 5.0, (200, 400, 800)) == pytest.approx(order, abs=0.35)


def test_etdrk4_conserves_the_kdv_invariants():
    low = KDV.lower(jnp.float64)
    xs = integrate(low, low.x0, 0.0, 0.05, 400, method="etdrk4", save_every=400)
    before, after = low.conserved(0.0, xs[0], low.p), low.conserved(20.0, xs[-1], low.p)
    np.testing.assert_allclose(after, before, rtol=1e-6)


def test_split_methods_refuse_fields_without_a_split():
    with pytest.raises(TypeError, match="etdrk4 steps a PDE split"):
        integrate(lambda t, x: -x, jnp.ones(3), 0.0, 0.1, 2, method="etdrk4")
    low = HEAT.lower(jnp.float64)
    with pytest.raises(ValueError, match="bounded domain has no Fourier multiplier"):
        integrate(low, low.x0, 0.0, 0.1, 2, method="etdrk4")
    with pytest.raises(ValueError, match="spectral derivatives need a periodic domain"):
        HEAT.lower(jnp.float64, derivatives="spectral")


def test_stability_report_says_rk4_at_the_seeds_ks_step_is_unstable():
    low = KS.lower(jnp.float64)
    report = pde_stability(low, "rk4", 0.2)
    assert not report.stable
    assert report.worst.real == pytest.approx(0.2 * (np.pi * 4) ** 2 - 0.2 * (np.pi * 4) ** 4, rel=1e-9)
    assert 1.0e-4 < report.largest_stable_dt < 1.2e-4  # RK4's real reach 2.785 over max |k² − k⁴|
    assert pde_stability(low, "etdrk4", 0.2).stable
    assert "UNSTABLE" in str(report)


def test_generate_fields_is_deterministic_and_saves_and_loads(tmp_path):
    low = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 64)
    options = dict(samples=3, steps=5, dt=0.2, substeps=2, warmup=3, key=jax.random.PRNGKey(0), progress=False)
    data = generate_fields(low, SumOfSines(), **options)
    again = generate_fields(low, SumOfSines(), **options)
    assert data.states.shape == (3, 5, 1, 64)
    np.testing.assert_array_equal(data.states, again.states)
    np.testing.assert_allclose(data.t, 0.6 + 0.2 * np.arange(5))
    assert float(jnp.abs(data.states[:, 0].mean(axis=-1)).max()) < 1e-12  # zero mass, as the seed's sines
    data.save(tmp_path / "ks.npz")
    loaded = FieldDataset.load(tmp_path / "ks.npz")
    np.testing.assert_array_equal(loaded.states, data.states)
    assert loaded.coordinate_names == ("x",) and loaded.grid[0].shape == (64,)


def test_seed_sum_of_sines_uses_wavenumbers_one_and_two():
    low = KS.lower(jnp.float64)
    u = SumOfSines().sample(jax.random.PRNGKey(3), low, low.p)
    spectrum = np.abs(np.fft.rfft(np.asarray(u[0])))
    assert set(np.flatnonzero(spectrum > 1e-9 * spectrum.max())) <= {1, 2}


def test_presets_match_the_seeds_settings():
    ks, kdv = preset("ks"), preset("kdv")
    assert ks.splits == {"train": (512, 140), "validation": (128, 140), "test": (128, 640)}
    assert (ks.dt, ks.warmup) == (0.2, 360)
    assert kdv.warmup + kdv.splits["train"][1] == 250
    data = kdv.generate("train", key=jax.random.PRNGKey(0), samples=2, progress=False, dtype=jnp.float64)
    assert data.states.shape == (2, 140, 1, 256)
    assert np.all((data.parameters[:, 0] >= 115.2) & (data.parameters[:, 0] <= 140.8))
    with pytest.raises(ValueError, match="unknown preset 'kss'; did you mean 'ks'"):
        preset("kss")


def test_simulate_command_for_a_pde_and_a_preset(tmp_path, capsys):
    from symdyn.cli import main

    out = tmp_path / "ks.npz"
    assert (
        main(
            [
                "simulate",
                str(EXAMPLES / "kuramoto_sivashinsky.sdyn"),
                "--t-end",
                "2",
                "--dt",
                "0.5",
                "-o",
                str(out),
                "--plot",
                str(tmp_path / "ks.png"),
            ]
        )
        == 0
    )
    assert FieldDataset.load(out).states.shape == (1, 5, 1, 256)
    assert (tmp_path / "ks.png").stat().st_size > 0
    assert main(["simulate", "--preset", "ks", "--samples", "2", "-o", str(tmp_path / "p.npz")]) == 0
    assert FieldDataset.load(tmp_path / "p.npz").states.shape == (2, 140, 1, 256)
    assert main(["stability", "rk4", "--model", str(EXAMPLES / "kuramoto_sivashinsky.sdyn"), "--dt", "0.2"]) == 1
    assert "UNSTABLE" in capsys.readouterr().out


def test_simulate_names_a_bad_parameter_of_a_pde(tmp_path, capsys):
    from symdyn.cli import main

    base = ["simulate", str(EXAMPLES / "burgers.sdyn"), "--t-end", "0.1", "--dt", "0.05", "-o", str(tmp_path / "b.npz")]
    assert main([*base, "--param", "ν=fast"]) == 2
    assert "--param 'ν=fast': 'fast' is not a number" in capsys.readouterr().err
    assert main([*base, "--draw", "μ=0:1"]) == 2
    assert "--draw 'μ=0:1': expected NAME=LOW:HIGH with NAME one of ν" in capsys.readouterr().err
    assert main([*base, "--param", "ν=0.1", "--trajectories", "2", "--draw", "ν=0.04:0.06"]) == 0
