"""PDE lowering on grids, exponential and IMEX integrators, stability of a step, data generators."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, PDE_FILES, tolerance

import symdyn
from symdyn.data import FourierSeries, SumOfSines, Trajectories, Uniform, generate, preset
from symdyn.integrators import ModelVectorField, default_method, integrate
from symdyn.stability import pde_stability

KS = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn")
KDV = symdyn.load(EXAMPLES / "kdv.sdyn")
HEAT = symdyn.load(EXAMPLES / "heat_rod.sdyn")
BURGERS = EXAMPLES / "burgers.sdyn"  # u_t = −u u_x + ν u_xx on [0, 2π), u₀ = sin x
ROUGH = """model Rough
    @parameters ν = 0.1
    @domain x ∈ Periodic(0, 2π; points = 32)
    @variables u(t, x) = sin(x) + cos(5x)/2 + sin(6x)/3
    D(u) ~ -u*∂x(u) + ν*∂x^2(u)
end
"""  # Burgers from a field that differences resolve poorly and whose square has modes 10 and 11: the 2/3 rule's edge


def at_points(path, points: int, derivatives: str | None = None):
    text = path.read_text().replace("points = 256", f"points = {points}").replace("points = 101", f"points = {points}")
    return symdyn.parse(text).lower(derivatives=derivatives)


def test_linear_part_and_its_exact_fourier_symbol():
    k = sp.Symbol("k", real=True)
    assert sp.simplify(KS.linear_split().symbol(0) - (k**2 - k**4)) == 0
    assert sp.simplify(KDV.linear_split().symbol(0) - sp.I * k**3) == 0
    assert [str(r) for r in KS.linear_split().remainder] == ["-u*uˍx"]


def test_lowered_pde_contract_shapes():
    low = KS.lower()
    assert low.x0.shape == low.state_shape == (1, 256)
    assert low.grid[0].shape == (256,) and low.grid[0][1] == pytest.approx(0.25)
    assert low.rhs(0.0, low.x0, low.p).shape == (1, 256)
    batch = jnp.stack([low.x0, 2 * low.x0])
    assert low.rhs(0.0, batch, low.p).shape == (2, 1, 256)
    assert low.conserved(0.0, low.x0, low.p).shape == (1,)


@pytest.mark.parametrize("path", PDE_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("points", [32, pytest.param(64, marks=pytest.mark.exhaustive)])
def test_exact_jvp_matches_autodiff_of_rhs(path, points):
    text = path.read_text()
    for n in ("256", "101", "96"):
        text = text.replace(f"points = {n}", f"points = {points}")
    model = symdyn.parse(text)
    schemes = ["spectral", "fd4"] if all(c.periodic for c in model.domain) else ["fd2", "fd4"]
    for scheme in schemes:
        low = model.lower(derivatives=scheme)
        u = low.x0 + 0.1 * jax.random.normal(jax.random.PRNGKey(1), low.state_shape)
        v = jax.random.normal(jax.random.PRNGKey(2), low.state_shape)
        exact = low.jvp(0.3, u, low.p, v)
        autodiff = jax.jvp(lambda w, low=low: low.rhs(0.3, w, low.p), (u,), (v,))[1]
        tol = tolerance(1e-9, 2e-6)  # measured in float32: 2.4e-7 of the largest entry
        np.testing.assert_allclose(exact, autodiff, rtol=tol, atol=tol * float(jnp.abs(autodiff).max()))


def test_dense_jacobian_is_the_matrix_of_the_jvp_and_refuses_large_grids():
    low = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 32)
    u, v = low.x0, jax.random.normal(jax.random.PRNGKey(0), (1, 32))
    jac = low.jac(0.0, u, low.p)
    assert jac.shape == (1, 32, 1, 32)
    product = jac.reshape(32, 32) @ v.ravel()
    np.testing.assert_allclose(product, low.jvp(0.0, u, low.p, v).ravel(), atol=tolerance(1e-10, 1e-5))  # f32: 9e-7
    big = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 8192)
    with pytest.raises(ValueError, match="dense Jacobian of 8192 state entries is too large"):
        big.jac(0.0, big.x0, big.p)


def test_generated_code_does_not_grow_with_the_grid():
    small = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 64)
    large = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 65536)
    assert small.source == large.source
    assert len(small.source) < 6000


@pytest.mark.float64  # orders of convergence, at errors down to 1e-10
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


@pytest.mark.float64  # an order of convergence from fd4 errors of 1e-7 and below
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
    low = HEAT.lower()
    xs = integrate(low, low.x0, 0.0, 5e-4, 2000, method="rk4", save_every=2000)
    x = low.grid[0]
    exact = np.exp(-0.1 * (np.pi / 2) ** 2) * np.sin(np.pi * x / 2)
    np.testing.assert_allclose(xs[-1, 0], exact, atol=2e-5)
    assert xs[-1, 0, 0] == 0.0  # Dirichlet at x = 0
    nodes, weights = low.derivatives.rows(0, 1)
    slope = float(jnp.sum(xs[-1, 0, nodes[-1]] * weights[-1]))
    # Neumann at x = 1, in the one-sided stencil that imposes it; in float32 the boundary node, stepped by its
    # rate, drifts off the condition by rounding (measured: 1.4e-5 after one step, 2.1e-4 after these 2000)
    assert abs(slope) < tolerance(1e-10, 5e-4)


def test_conserved_integrals_are_quadratures_on_the_grid():
    low = KDV.lower()
    mass = low.conserved(0.0, low.x0, low.p)[0]
    assert float(mass) == pytest.approx(12 * np.sqrt(0.5) + 12 * np.sqrt(0.25), rel=1e-6)  # ∫3c sech²(√c x/2)
    heat = HEAT.lower()
    assert float(heat.conserved(0.0, heat.x0, heat.p)[0]) == pytest.approx(2 / np.pi, abs=1e-4)


@pytest.mark.parametrize("name", ["kuramoto_sivashinsky", "gray_scott"])
@pytest.mark.parametrize("derivatives, dealias", [("spectral", False), ("spectral", True), ("fd4", False)])
def test_nonlinear_part_on_modes_is_the_nonlinear_part_in_space(name, derivatives, dealias):
    text = (EXAMPLES / f"{name}.sdyn").read_text()
    low = symdyn.parse(re.sub(r"points = \d+", "points = 32", text)).lower(derivatives=derivatives, dealias=dealias)
    u = 0.3 * jax.random.normal(jax.random.PRNGKey(1), (3, *low.state_shape)) + 0.5
    modes = low.domain.to_modes(u)
    expected = low.domain.to_modes(low.nonlinear(0.0, u, low.p))
    # float32: relative to the largest mode (sums over the grid); measured ≤ 2e-7
    atol = tolerance(1e-9, 1e-6 * float(jnp.abs(expected).max()))
    np.testing.assert_allclose(low.nonlinear_of_modes(0.0, modes, low.p), expected, atol=atol)


FLUXES = """model Fluxes
    @domain x ∈ Periodic(0, 2π; points = 32)
    @variables u(t, x) v(t, x)
    D(u) ~ -∂x(u^2) + ∂x^2(u) - u*v
    D(v) ~ -u*∂x(v) - ∂x(u)*v - v*∂x^3(v) + ∂x^2(v)
end
"""  # u: a flux and a pointwise term; v: ∂x(u·v) written expanded, and v·v_xxx, no flux of the fields alone


def _spectral(u, counts, length):
    """∂x^counts of real fields on a periodic grid by NumPy's FFT (Nyquist mode of odd orders zeroed)."""
    n = u.shape[-1]
    ik = 2j * np.pi * np.fft.rfftfreq(n, length / n)
    if counts % 2:
        ik[-1] = 0
    return np.fft.irfft(ik**counts * np.fft.rfft(u), n)


@pytest.mark.float64  # a comparison to rounding
def test_total_derivatives_are_one_spectral_derivative_of_their_flux():
    """KS as the seed writes it (−u·u_x) and in the conservative form (−∂x(u²)/2) lower to the same program, which
    reads no u_x: −∂x(u²/2) is one spectral derivative of u²/2 (against NumPy on a random field), the rhs and
    the split agree, and the preset lowers the same way."""
    text = (EXAMPLES / "kuramoto_sivashinsky.sdyn").read_text()
    seed = symdyn.parse(text).lower(jnp.float64)
    written = symdyn.parse(text.replace("-u*∂x(u)", "-∂x(u^2)/2")).lower(jnp.float64)
    assert seed.source == written.source
    assert "_j = (u, uˍxx, uˍxxxx)" in seed.source and "return _fields([-u**2/2], _j[0], 1)" in seed.source
    assert "return _fields([-u**2/2], _j[0], 1)" in preset("ks").model().lower().source
    u = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (3, 1, 256)))
    advection = -_spectral(u**2 / 2, 1, 64.0)
    linear = -_spectral(u, 2, 64.0) - _spectral(u, 4, 64.0)
    scale = float(np.abs(linear).max())
    np.testing.assert_allclose(seed.rhs(0.0, u, seed.p), advection + linear, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(seed.nonlinear(0.0, u, seed.p), advection, rtol=0, atol=1e-13 * scale)
    modes = seed.nonlinear_of_modes(0.0, seed.domain.to_modes(u), seed.p)
    np.testing.assert_allclose(seed.domain.from_modes(modes), advection, rtol=0, atol=1e-13 * scale)


@pytest.mark.float64  # a comparison to rounding
@pytest.mark.parametrize("dealias, top", [(False, 63), (True, 85)])
def test_conservative_and_jet_forms_differ_by_aliasing_only(dealias, top):
    """−∂x(u²)/2 and −u·u_x on 256 points agree to rounding for modes up to 63 (u² resolved), with the 2/3 rule
    up to 85 (what aliases is cut); with all modes they differ."""
    low = KS.lower(jnp.float64, dealias=dealias)
    x = low.grid[0]
    keep = np.abs(2 * np.pi * np.fft.rfftfreq(256, 0.25)) < (2 / 3) * np.pi * 4 if dealias else True
    for highest, agree in ((top, True), (128, False)):
        rng = np.random.default_rng(highest)
        m = np.arange(1, highest + 1)[:, None]
        u = np.sum(
            rng.uniform(-1, 1, (highest, 1)) * np.cos(2 * np.pi * m * x / 64 + rng.uniform(0, 7, (highest, 1))), 0
        )
        jet = np.fft.irfft(keep * np.fft.rfft(-u * _spectral(u, 1, 64.0)), 256)
        difference = float(np.abs(low.nonlinear(0.0, u[None], low.p)[0] - jet).max() / np.abs(jet).max())
        assert (difference < 1e-13) if agree else (difference > 1e-3), (highest, difference)


@pytest.mark.parametrize("dealias", [pytest.param(False, marks=pytest.mark.exhaustive), True])
def test_fluxes_of_several_fields_through_rhs_split_jvp_and_jacobian(dealias):
    """Two fields with fluxes beside pointwise terms: the rhs against NumPy, the split on modes against the one in
    space, the jvp against autodiff of the rhs, the coloured Jacobian against jacfwd (the fluxes' reach counted)."""
    low = symdyn.parse(FLUXES).lower(dealias=dealias)
    assert "_j = (u, v, uˍxx, vˍxx, vˍxxx)" in low.source  # no uˍx, vˍx: −∂x(u²) and −∂x(u·v) are fluxes
    key_u, key_v = jax.random.split(jax.random.PRNGKey(3))
    u = 0.5 * jax.random.normal(key_u, (2, *low.state_shape))
    v = jax.random.normal(key_v, low.state_shape)
    tol = tolerance(1e-11, 2e-5)
    if not dealias:
        a, b = np.asarray(u[:, 0], np.float64), np.asarray(u[:, 1], np.float64)
        d = lambda w, k: _spectral(w, k, 2 * np.pi)
        expected = np.stack([-d(a**2, 1) + d(a, 2) - a * b, -d(a * b, 1) - b * d(b, 3) + d(b, 2)], axis=1)
        scale = float(np.abs(expected).max())
        np.testing.assert_allclose(low.rhs(0.0, u, low.p), expected, rtol=0, atol=tol * scale)
    modes = low.nonlinear_of_modes(0.0, low.domain.to_modes(u), low.p)
    in_space = low.domain.to_modes(low.nonlinear(0.0, u, low.p))
    np.testing.assert_allclose(modes, in_space, rtol=0, atol=tol * float(jnp.abs(in_space).max()))
    exact = low.jvp(0.0, u[0], low.p, v)
    autodiff = jax.jvp(lambda w: low.rhs(0.0, w, low.p), (u[0],), (v,))[1]
    np.testing.assert_allclose(exact, autodiff, rtol=0, atol=tol * float(jnp.abs(autodiff).max()))
    jacobian = jax.jacfwd(lambda w: low.rhs(0.0, w, low.p))(u[0])
    np.testing.assert_allclose(low.jac(0.0, u[0], low.p), jacobian, rtol=0, atol=tol * float(jnp.abs(jacobian).max()))


def _orders(low, method, t_end, steps):
    reference = integrate(low, low.x0, 0.0, t_end / 4096, 4096, method="etdrk4", save_every=4096)[-1]
    errors = []
    for n in steps:
        u = integrate(low, low.x0, 0.0, t_end / n, n, method=method, save_every=n)[-1]
        errors.append(float(jnp.linalg.norm(u - reference) / jnp.linalg.norm(reference)))
    return np.polyfit(np.log(t_end / np.asarray(steps)), np.log(errors), 1)[0]


@pytest.mark.float64  # orders of convergence, to errors far below float32's
@pytest.mark.parametrize("model", [KS, KDV], ids=["ks", "kdv"])
@pytest.mark.parametrize(
    "method, order",
    [
        pytest.param("etd1", 1, marks=pytest.mark.exhaustive),
        pytest.param("etd2", 2, marks=pytest.mark.exhaustive),
        ("etdrk4", 4),
        pytest.param("imex_euler", 1, marks=pytest.mark.exhaustive),
        ("imex_trapezoid", 2),
    ],
)
def test_split_methods_converge_at_their_order(model, method, order):
    low = model.lower(jnp.float64)
    # stiff KS shows ETDRK4's order reduction before h → 0: 3.2 over h = 0.1 ... 0.025, 3.7 here
    assert _orders(low, method, 5.0, (200, 400, 800)) == pytest.approx(order, abs=0.35)


def test_etdrk4_conserves_the_kdv_invariants():
    low = KDV.lower()
    xs = integrate(low, low.x0, 0.0, 0.05, 400, method="etdrk4", save_every=400)
    before, after = low.conserved(0.0, xs[0], low.p), low.conserved(20.0, xs[-1], low.p)
    np.testing.assert_allclose(after, before, rtol=tolerance(1e-6, 3e-4))  # float32: the energy drifts 7e-5


@pytest.mark.exhaustive
def test_split_methods_refuse_fields_without_a_split():
    """A callable has no split; a bounded grid has one (the matrix L, not a Fourier multiplier), and ETD's dense
    coefficients are refused beyond DENSE_SPLIT_LIMIT entries, by integrate and by the stability report alike."""
    with pytest.raises(TypeError, match="etdrk4 steps a PDE split"):
        integrate(lambda t, x: -x, jnp.ones(3), 0.0, 0.1, 2, method="etdrk4")
    low = HEAT.lower()
    with pytest.raises(ValueError, match="bounded domain has no Fourier multiplier"):
        low.linear(low.p)
    assert low.linear_matrix(low.p).shape == (101, 101)
    assert np.all(np.isfinite(integrate(low, low.x0, 0.0, 0.1, 2, method="etdrk4")))
    big = at_points(EXAMPLES / "heat_rod.sdyn", 4096)
    for refuse in (
        lambda: integrate(big, big.x0, 0.0, 0.1, 2, method="etdrk4"),
        lambda: pde_stability(big, "etdrk4", 0.1),
    ):
        with pytest.raises(ValueError, match="dense matrices over the 4096 state entries.*use imex_euler"):
            refuse()
    assert default_method(big) == "imex_trapezoid" and default_method(low) == "etdrk4"
    with pytest.raises(ValueError, match="spectral derivatives need a periodic domain"):
        HEAT.lower(derivatives="spectral")


ALLEN_CAHN = (EXAMPLES / "allen_cahn.sdyn").read_text().replace("points = 256", "points = 96")
BOUNDED = {  # Allen-Cahn held at both ends, and with time-dependent data at one end and no flux at the other
    "dirichlet": ALLEN_CAHN,
    "neumann": ALLEN_CAHN.replace("u(t, -1) ~ -1", "u(t, -1) ~ -1 + sin(t)/4").replace(
        "u(t, 1) ~ 1", "∂x(u(t, 1)) ~ 0"
    ),
}
TWO_D = """model Bounded2D
    @parameters d = 0.1
    @domain x ∈ Interval(0, 1; points = 9)
    @domain y ∈ Interval(0, 1; points = 7)
    @variables u(t, x, y) = sin(π*x)*sin(π*y)  v(t, x, y) = x*y
    D(u) ~ d*(∂x^2(u) + ∂y^2(u)) - u*v^2
    D(v) ~ d*∂y^2(v) + u*v - v
    @boundary u(t, 0, y) ~ 0
    @boundary ∂x(u(t, 1, y)) ~ 0
    @boundary u(t, x, 0) ~ 0
    @boundary u(t, x, 1) ~ 0
    @boundary v(t, x, 0) ~ x*cos(t)
    @boundary ∂y(v(t, x, 1)) ~ 0
end
"""  # two fields, both axes bounded, Dirichlet and Neumann on each: the banded ordering's hardest case here


@pytest.mark.parametrize("variant", BOUNDED)
@pytest.mark.parametrize(
    "method, float64, float32",  # max error at t = 2 after 20 steps of 0.1; measured (both variants, f64 / f32):
    [
        ("etdrk4", 4e-6, 1e-4),  # 1.3e-6 / 2.6e-5
        pytest.param("etd1", 4e-2, 4e-2, marks=pytest.mark.exhaustive),  # 1.8e-2
        pytest.param("imex_euler", 4e-2, 4e-2, marks=pytest.mark.exhaustive),  # 1.9e-2
        ("imex_trapezoid", 2e-3, 2e-3),  # 8.2e-4
    ],
)
def test_split_methods_on_a_bounded_grid_agree_with_fine_rk4(variant, method, float64, float32):
    """ETD and IMEX step L (the stencils' matrix with the boundary conditions) exactly or implicitly at h = 0.1,
    three times RK4's largest stable step on this grid, and land on RK4 at h = 0.001."""
    low = symdyn.parse(BOUNDED[variant]).lower()
    assert not pde_stability(low, "rk4", 0.1).stable and pde_stability(low, method, 0.1).stable
    reference = integrate(low, low.x0, 0.0, 0.001, 2000, method="rk4", save_every=2000)[-1]
    u = integrate(low, low.x0, 0.0, 0.1, 20, method=method, save_every=20)[-1]
    assert float(jnp.abs(u - reference).max()) < tolerance(float64, float32)


@pytest.mark.parametrize(
    ("text", "derivatives"),
    [
        pytest.param(
            text,
            derivatives,
            id=f"{derivatives}-{name}",
            marks=[pytest.mark.exhaustive] * (name == "2d"),  # the 2-D colouring: exhaustive tier
        )
        for derivatives in ("fd2", "fd4")
        for name, text in [*BOUNDED.items(), ("2d", TWO_D)]
    ],
)
def test_coloured_jacobian_and_linear_matrix_are_the_dense_ones(text, derivatives):
    """The Jacobian and L from the colours' few products equal jax.jacfwd's dense matrices (every entry), and
    L u + N(u) is the rhs."""
    low = symdyn.parse(text).lower(derivatives=derivatives)
    u = low.x0 + 0.1 * jax.random.normal(jax.random.PRNGKey(0), low.state_shape)
    size = u.size
    if low.domain.ndim == 1:
        assert 4 * low.coupling.count < size  # a few products, not one per entry
    dense = jax.jit(jax.jacfwd(lambda w: low.rhs(0.3, w, low.p)))(u).reshape(size, size)  # jit: 4× faster here
    scale = float(jnp.abs(dense).max())
    tol = tolerance(1e-13, 1e-6) * scale  # measured: ≤ 4e-16 / 2e-7 of the Jacobian's largest entry
    np.testing.assert_allclose(jax.jit(low.jac)(0.3, u, low.p).reshape(size, size), dense, atol=tol)
    linear = jax.jit(jax.jacfwd(lambda w: low.linear_operator(low.p, w.reshape(u.shape)).ravel()))(u.ravel())
    np.testing.assert_allclose(low.linear_matrix(low.p), linear, atol=tol)
    rates = low.rhs(0.3, u, low.p)
    split = low.linear_operator(low.p, u) + low.nonlinear(0.3, u, low.p)
    np.testing.assert_allclose(split, rates, atol=tolerance(1e-12, 1e-5) * float(jnp.abs(rates).max()))


@pytest.mark.parametrize(
    "method, text, steps, gradients",
    [
        ("implicit_euler", BOUNDED["neumann"], 10, False),
        pytest.param("implicit_euler", BOUNDED["neumann"], 10, True, marks=pytest.mark.exhaustive),
        pytest.param("gauss_legendre4", TWO_D, 4, True, marks=pytest.mark.exhaustive),
    ],
    ids=["implicit_euler", "implicit_euler-gradients", "gauss_legendre4-2d-gradients"],
)
def test_banded_newton_steps_and_differentiates_as_the_dense_solve_does(method, text, steps, gradients):
    """Newton's banded block-LU solves give the steps and the gradients (implicit function theorem) of the dense
    LU of the same Jacobian (a ModelVectorField has no coupling: its Newton matrix is dense)."""
    low = symdyn.parse(text).lower()
    dense = ModelVectorField(low, low.p)

    def final(field, x0):
        return integrate(field, x0, 0.0, 0.1, steps, method=method, save_every=steps)[-1]

    banded_u, dense_u = final(low, low.x0), final(dense, low.x0)
    assert np.all(np.isfinite(banded_u))
    # relative to the largest value; measured ≤ 2e-16 / 3e-8 (steps), 4e-16 / 1.9e-7 (gradients) in f64 / f32
    tol = tolerance(1e-12, 2e-6)
    np.testing.assert_allclose(banded_u, dense_u, atol=tol * float(jnp.abs(dense_u).max()))
    if gradients:
        direction = jnp.cos(jnp.arange(low.x0.size, dtype=low.x0.dtype)).reshape(low.x0.shape)
        banded_g, dense_g = (jax.grad(lambda x, f=f: jnp.sum(direction * final(f, x)))(low.x0) for f in (low, dense))
        np.testing.assert_allclose(banded_g, dense_g, atol=tol * float(jnp.abs(dense_g).max()))


@pytest.mark.float64  # simulate computes in float64
@pytest.mark.parametrize(
    "method", ["rk4", "etdrk4", "imex_euler", pytest.param("implicit_euler", marks=pytest.mark.exhaustive)]
)
def test_stability_and_simulate_agree_on_allen_cahn(method, tmp_path, capsys):
    """What `symdyn stability --model` calls stable at dt = 0.1 simulates with --method to t = 2 inside
    [−1, 1] (Allen-Cahn's maximum principle); what it calls unstable (rk4) blows up and simulate says so."""
    from symdyn.cli import main

    path = str(EXAMPLES / "allen_cahn.sdyn")
    stable = main(["stability", method, "--model", path, "--dt", "0.1"]) == 0
    assert stable == (method != "rk4")
    out = tmp_path / "ac.npz"
    simulated = main(["simulate", path, "--t-end", "2", "--dt", "0.1", "--method", method, "-o", str(out)]) == 0
    assert simulated == stable, capsys.readouterr()
    if stable:
        states = Trajectories.load(out).states
        assert states.shape == (1, 21, 1, 256)
        assert np.all(np.isfinite(states)) and np.abs(states).max() <= 1 + 1e-9


def test_stability_report_says_rk4_at_the_seeds_ks_step_is_unstable():
    low = KS.lower()
    report = pde_stability(low, "rk4", 0.2)
    assert not report.stable
    worst = 0.2 * (np.pi * 4) ** 2 - 0.2 * (np.pi * 4) ** 4
    assert report.worst.real == pytest.approx(worst, rel=tolerance(1e-9, 5e-8))  # float32: 6e-9
    assert 1.0e-4 < report.largest_stable_dt < 1.2e-4  # RK4's real reach 2.785 over max |k² − k⁴|
    assert pde_stability(low, "etdrk4", 0.2).stable
    assert "UNSTABLE" in str(report)


def test_generate_is_deterministic_and_saves_and_loads(tmp_path):
    low = at_points(EXAMPLES / "kuramoto_sivashinsky.sdyn", 64)
    options = dict(samples=3, duration=0.8, dt=0.2, substeps=2, warmup=3, key=jax.random.PRNGKey(0), progress=False)
    data = generate(low, initial=SumOfSines(), **options)
    again = generate(low, initial=SumOfSines(), **options)
    assert data.states.shape == (3, 5, 1, 64)
    np.testing.assert_array_equal(data.states, again.states)
    np.testing.assert_allclose(data.t, 0.6 + 0.2 * np.arange(5))
    assert float(jnp.abs(data.states[:, 0].mean(axis=-1)).max()) < tolerance(1e-12, 1e-6)  # zero mass, as the sines
    data.save(tmp_path / "ks.npz")
    loaded = Trajectories.load(tmp_path / "ks.npz")
    np.testing.assert_array_equal(loaded.states, data.states)
    assert loaded.coordinate_names == ("x",) and loaded.grid[0].shape == (64,)


def test_seed_sum_of_sines_uses_wavenumbers_one_and_two():
    low = KS.lower()
    u = SumOfSines().sample(jax.random.PRNGKey(3), low, low.p)
    spectrum = np.abs(np.fft.rfft(np.asarray(u[0], np.float64)))
    assert set(np.flatnonzero(spectrum > tolerance(1e-9, 1e-6) * spectrum.max())) <= {1, 2}  # float32: 8e-8


def test_presets_match_the_seeds_settings():
    ks, kdv = preset("ks"), preset("kdv")
    assert ks.splits == {"train": (512, 140), "validation": (128, 140), "test": (128, 640)}
    assert (ks.dt, ks.warmup) == (0.2, 360)
    assert kdv.warmup + kdv.splits["train"][1] == 250
    data = kdv.generate("train", key=jax.random.PRNGKey(0), samples=2, progress=False)
    assert data.states.shape == (2, 140, 1, 256)
    assert np.all((data.parameters[:, 0] >= 115.2) & (data.parameters[:, 0] <= 140.8))
    with pytest.raises(ValueError, match="unknown preset 'kss'; did you mean 'ks'"):
        preset("kss")


@pytest.mark.exhaustive
@pytest.mark.float64
def test_a_presets_splits_compile_one_integration_and_keep_their_data():
    """KS's train (140 saved steps) and test (640) split integrate in pieces of 139 steps: the test split compiles
    nothing more, and its data are those of one integration over the whole duration."""
    from symdyn.integrators._integrate import _integrate as compiled

    ks = preset("ks")
    ks.generate("train", key=jax.random.PRNGKey(0), samples=1, progress=False)
    before = compiled._cached._cache_size()
    test = ks.generate("test", key=jax.random.PRNGKey(0), samples=1, progress=False)
    assert compiled._cached._cache_size() == before
    whole = generate(
        ks.model().lower(jnp.result_type(float)),
        initial=ks.initial,
        samples=1,
        duration=639 * ks.dt,
        dt=ks.dt,
        substeps=ks.substeps,
        warmup=ks.warmup,
        key=jax.random.fold_in(jax.random.PRNGKey(0), 2),
        progress=False,
    )
    np.testing.assert_allclose(test.states, whole.states, rtol=1e-13, atol=1e-13)


def test_simulate_command_for_a_pde_with_a_plot(tmp_path, capsys):
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
    assert Trajectories.load(out).states.shape == (1, 5, 1, 256)
    assert (tmp_path / "ks.png").stat().st_size > 0
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


def _burgers_rk4(u, nu, duration, steps):
    """NumPy RK4 of Burgers on 2π-periodic points: the semi-discrete system, derivatives by the full FFT, −u u_x
    in the conservative form −∂x(u²)/2 that spectral lowering evaluates."""
    k = np.fft.fftfreq(u.shape[-1], 1 / u.shape[-1])  # the integer wavenumbers

    def f(w):
        advection = -np.real(np.fft.ifft(1j * k * np.fft.fft(w**2))) / 2
        return advection - nu * np.real(np.fft.ifft(k**2 * np.fft.fft(w)))

    h = duration / steps
    for _ in range(steps):
        k1 = f(u)
        k2 = f(u + h / 2 * k1)
        k3 = f(u + h / 2 * k2)
        u = u + h / 6 * (k1 + 2 * k2 + 2 * k3 + f(u + h * k3))
    return u


def _burgers_saved(nu, first, dt, steps):
    """The states from u₀ = sin x at first, first + dt, ... (steps of them), by RK4 at steps of 0.002."""
    u = _burgers_rk4(np.sin(2 * np.pi * np.arange(32) / 32), nu, first, round(first / 0.002))
    saved = [u]
    for _ in range(steps - 1):
        saved.append(_burgers_rk4(saved[-1], nu, dt, round(dt / 0.002)))
    return np.stack(saved)


def test_generate_follows_the_pde_from_the_end_of_its_warmup():
    """generate(dt = 0.2, substeps = 4, warmup = 2) of Burgers at two drawn ν against NumPy RK4 at steps
    of 0.002: the first saved state is u₀ two saved steps on, each next one dt later (ETDRK4 at dt/4)."""
    low = at_points(BURGERS, 32)
    data = generate(
        low,
        samples=2,
        duration=0.6,
        dt=0.2,
        substeps=4,
        warmup=2,
        parameters={"ν": Uniform(0.05, 0.1)},
        key=jax.random.PRNGKey(0),
        progress=False,
    )
    nu = data.parameters[:, 0]
    assert np.all((nu >= 0.05) & (nu <= 0.1)) and nu[0] != nu[1]
    np.testing.assert_allclose(data.t, 0.4 + 0.2 * np.arange(4), rtol=1e-6)
    reference = np.stack([_burgers_saved(float(n), 0.4, 0.2, 4) for n in nu])
    # measured 3.8e-6 (float64 and float32): ETDRK4's error at h = 0.05; without the substeps it is
    # 8e-4, without the warm-up 0.25
    np.testing.assert_allclose(data.states[:, :, 0], reference, atol=2e-5)


@pytest.mark.float64  # simulate computes in float64
def test_simulate_follows_the_pde_with_substeps_and_warmup(tmp_path):
    """`symdyn simulate` of Burgers on 32 points with --substeps 4 --warmup 2 and two drawn ν against NumPy RK4."""
    from symdyn.cli import main

    model = tmp_path / "burgers.sdyn"
    model.write_text(BURGERS.read_text().replace("points = 256", "points = 32"))
    out = tmp_path / "b.npz"
    options = ["--t-end", "0.6", "--dt", "0.2", "--substeps", "4", "--warmup", "2", "--trajectories", "2"]
    assert main(["simulate", str(model), *options, "--draw", "ν=0.05:0.1", "--seed", "3", "-o", str(out)]) == 0
    data = Trajectories.load(out)
    assert data.states.shape == (2, 4, 1, 32)
    np.testing.assert_allclose(data.t, 0.4 + 0.2 * np.arange(4))
    nu = data.parameters[:, 0]
    assert np.all((nu >= 0.05) & (nu <= 0.1)) and nu[0] != nu[1]
    reference = np.stack([_burgers_saved(n, 0.4, 0.2, 4) for n in nu])
    np.testing.assert_allclose(data.states[:, :, 0], reference, atol=2e-5)  # measured 3.8e-6, as above


def _rough_rhs(scheme: str, dealias: bool) -> np.ndarray:
    """ROUGH's right-hand side at u₀ by NumPy: central differences of order 2 or 4, or the full FFT (2/3 rule on
    −u u_x: modes |k| ≤ 10 of 16 kept)."""
    x = 2 * np.pi * np.arange(32) / 32
    h, u = x[1], np.sin(x) + np.cos(5 * x) / 2 + np.sin(6 * x) / 3
    k = np.fft.fftfreq(32, 1 / 32)

    def at(j):  # u at x + j h
        return np.roll(u, -j)

    if scheme == "fd2":
        ux, uxx = (at(1) - at(-1)) / (2 * h), (at(1) - 2 * u + at(-1)) / h**2
    elif scheme == "fd4":
        ux = (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h)
        uxx = (16 * (at(1) + at(-1)) - (at(2) + at(-2)) - 30 * u) / (12 * h**2)
    else:
        ux, uxx = (np.real(np.fft.ifft((1j * k) ** n * np.fft.fft(u))) for n in (1, 2))
    advection = -u * ux
    if dealias:
        advection = np.real(np.fft.ifft(np.fft.fft(advection) * (np.abs(k) <= 10)))
    return advection + 0.1 * uxx


@pytest.mark.float64  # simulate computes in float64; the comparison is to rounding
@pytest.mark.parametrize("derivatives, dealias", [(None, True), ("fd2", False), ("fd4", False)])
def test_simulate_steps_the_model_lowered_with_its_derivatives_and_dealias(tmp_path, derivatives, dealias):
    """--derivatives and --dealias give the steps of `model.lower(derivatives=..., dealias=...)` (spectral when not
    given), whose rhs at u₀ is the NumPy one of that scheme: Euler with --substeps 2 --warmup 1 is u + h·rhs(u)
    at h = dt/2, from two steps on."""
    from symdyn.cli import main

    (tmp_path / "rough.sdyn").write_text(ROUGH)
    flags = (["--derivatives", derivatives] if derivatives else []) + (["--dealias"] if dealias else [])
    command = ["simulate", str(tmp_path / "rough.sdyn"), "--t-end", "0.02", "--dt", "0.01", "--method", "euler"]
    assert main([*command, "--substeps", "2", "--warmup", "1", *flags, "-o", str(tmp_path / "r.npz")]) == 0
    states = Trajectories.load(tmp_path / "r.npz").states[0]
    low = symdyn.parse(ROUGH).lower(jnp.float64, derivatives=derivatives or "spectral", dealias=dealias)
    rates = low.rhs(0.0, low.x0, low.p)[0]
    # measured ≤ 1e-15 of the largest rate; another scheme or dealiasing toggled: 0.03 or more
    np.testing.assert_allclose(rates, _rough_rhs(derivatives or "spectral", dealias), atol=1e-12 * np.abs(rates).max())
    u, expected = low.x0, []
    for step in range(6):
        u = u + 0.005 * low.rhs(0.005 * step, u, low.p)
        if step % 2:
            expected.append(u)
    # measured ≤ 2.3e-16; another scheme, dealiasing toggled, no substeps or no warm-up: 2.6e-3 or more
    np.testing.assert_allclose(states, np.stack(expected), rtol=1e-12, atol=1e-12)


@pytest.mark.float64  # simulate computes in float64
@pytest.mark.parametrize("family", ["fourier", "sines"])
def test_simulate_draws_its_initial_fields_from_the_named_family(tmp_path, family):
    """--initial-field fourier|sines saves, for --seed 5, what FourierSeries() / SumOfSines() draw from the keys
    generate splits from PRNGKey(5); a Fourier series is scaled to max |u₀| = amplitude."""
    from symdyn.cli import main

    (tmp_path / "rough.sdyn").write_text(ROUGH)
    command = ["simulate", str(tmp_path / "rough.sdyn"), "--t-end", "0.01", "--dt", "0.01", "--method", "euler"]
    options = ["--initial-field", family, "--trajectories", "2", "--seed", "5"]
    assert main([*command, *options, "-o", str(tmp_path / "r.npz")]) == 0
    saved = Trajectories.load(tmp_path / "r.npz").states[:, 0]
    low = symdyn.parse(ROUGH).lower(jnp.float64)
    drawn = FourierSeries() if family == "fourier" else SumOfSines()
    keys = jax.random.split(jax.random.split(jax.random.PRNGKey(5))[1], 2)  # generate: (parameters, initial states)
    expected = np.stack([drawn.sample(k, low, low.p) for k in keys])
    np.testing.assert_allclose(saved, expected, rtol=1e-12, atol=1e-12)
    assert not np.allclose(saved[0], saved[1])
    spectrum = np.abs(np.fft.rfft(saved[:, 0]))
    modes = set(np.flatnonzero((spectrum > 1e-9 * spectrum.max()).any(axis=0)))
    if family == "fourier":
        assert modes <= {1, 2, 3, 4}  # max_wavenumber 4, no mean
        np.testing.assert_allclose(np.abs(saved).max(axis=(1, 2)), 1.0, rtol=1e-12)
        smaller = FourierSeries(max_wavenumber=2, amplitude=0.3).sample(keys[0], low, low.p)
        assert float(jnp.abs(smaller).max()) == pytest.approx(0.3, rel=1e-12)
        assert set(np.flatnonzero(np.abs(np.fft.rfft(smaller[0])) > 1e-9)) <= {1, 2}
    else:
        assert modes <= {1, 2}  # the seeds' wavenumbers


@pytest.mark.exhaustive
def test_simulate_writes_each_split_of_a_preset(tmp_path):
    """--preset ks --split train|validation|test --samples 1: the preset's saved steps (140, 140, 640) after its
    360 warm-up steps of 0.2, from different draws."""
    from symdyn.cli import main

    first = {}
    for split in ("train", "validation", "test"):
        out = tmp_path / f"{split}.npz"
        assert main(["simulate", "--preset", "ks", "--split", split, "--samples", "1", "-o", str(out)]) == 0
        data = Trajectories.load(out)
        steps = preset("ks").splits[split][1]
        assert data.states.shape == (1, steps, 1, 256)
        np.testing.assert_allclose(data.t, 0.2 * (360 + np.arange(steps)), rtol=1e-12)
        first[split] = data.states[0, 0, 0]
    for one, other in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert np.abs(first[one] - first[other]).max() > 0.1, (one, other)


@pytest.mark.parametrize("name", ["lorenz", "kuramoto_sivashinsky", "kdv", "heat_rod", "allen_cahn", "gray_scott"])
def test_a_lowered_pdes_functions_jit_as_an_odes_do(name):
    """`jax.jit(low.rhs)` and `jax.jit(low.jvp)` compile a lowered PDE's functions as they are, as an ODE's (they
    raised "unhashable type" when they were methods of a module holding arrays): equal to the eager calls, the
    JVP to JAX's own of `rhs`, and one compilation for every state."""
    low = at_points(EXAMPLES / f"{name}.sdyn", 32)
    u = low.x0 if low.x0 is not None else jnp.ones(low.state_shape)
    v = jnp.roll(u, 3, axis=-1) + 0.5
    # the compiled program fuses, and rounds a little differently, relative to each function's largest value; in
    # float32 the heat rod's (u₋ − 2u + u₊)/h² cancels terms ~400 times its result: 2.9e-5 of it apart measured
    rtol = tolerance(1e-13, 1e-4)
    rhs, jvp = jax.jit(low.rhs), jax.jit(low.jvp)
    eager = low.rhs(0.1, u, low.p)
    np.testing.assert_allclose(rhs(0.1, u, low.p), eager, rtol=rtol, atol=rtol * float(jnp.abs(eager).max()))
    _, reference = jax.jvp(lambda w: low.rhs(0.1, w, low.p), (u,), (v,))
    scale = float(jnp.abs(reference).max())
    np.testing.assert_allclose(jvp(0.1, u, low.p, v), low.jvp(0.1, u, low.p, v), rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(jvp(0.1, u, low.p, v), reference, rtol=rtol, atol=rtol * scale)
    rhs(0.2, 2 * u, low.p), jvp(0.2, 2 * u, low.p, -v)
    assert rhs._cache_size() == jvp._cache_size() == 1
    assert isinstance(low, symdyn.lower.AbstractLoweredModel)
    assert isinstance(KS.lower(), type(low)) == (name != "lorenz")
