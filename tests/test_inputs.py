"""Control and forcing inputs: `@inputs` in the language, driven lowering, data columns, simulate and discover."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import EXAMPLES, model_text, tolerance

import symdyn
from symdyn.cli import main
from symdyn.data import Trajectories, generate, load_signal
from symdyn.discovery import PolynomialLibrary, Sparse, WeakForm
from symdyn.lower import InputSignal

FORCED = str(EXAMPLES / "forced_oscillator.sdyn")
DRIVEN = model_text(
    "@parameters k = 1  c = 0.2",
    "@inputs F(t)",
    "@variables x(t) = 1  v(t) = 0",
    "D(x) ~ v",
    "D(v) ~ -k*x - c*v + F",
    name="Driven",
)


def _force(t):
    return 0.5 * np.sin(0.7 * t) + 0.3 * np.cos(2.1 * t) + 0.2 * np.sin(3.3 * t + 1)


def _driven_data(duration: float = 20.0, dt: float = 0.01) -> Trajectories:
    times = np.linspace(0.0, duration + 1.0, 2001)
    low = symdyn.parse(DRIVEN).lower().with_inputs(InputSignal(times, _force(times)))
    return generate(low, duration=duration, dt=dt, key=jax.random.PRNGKey(0), substeps=4, progress=False)


def test_inputs_parse_print_and_keep_the_jacobian_of_the_states():
    model = symdyn.load(FORCED)
    (given,) = model.inputs
    assert given.name == "F" and str(given.signal) == "A*cos(t*ω)"
    assert symdyn.parse(str(model)) == model
    assert "@inputs F(t) = A*cos(t*ω)" in str(model)
    assert str(model.jacobian()) == "Matrix([[0, 1], [-k, -c]])"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (["@inputs F(x)", "@variables y(t) = 1", "D(y) ~ F"], "the input `F` depends on `x`"),
        (["@inputs F(t)", "@variables y(t) = 1", "D(y) ~ D(F)"], "`F` is an input: the model knows its values"),
        (["@inputs F(t)", "@parameters a = F", "@variables y(t) = 1", "D(y) ~ a"], "cannot use `F`, an input"),
        (
            ["@domain x ∈ Periodic(0, 1; points = 8)", "@inputs F(t)", "@variables u(t, x) = 0", "D(u) ~ F"],
            "the input `F` drives a PDE",
        ),
    ],
)
def test_bad_inputs_are_located_errors(body, message):
    with pytest.raises(symdyn.SymdynError, match=message) as error:
        symdyn.parse(model_text(*body))
    assert error.value.span is not None


def test_default_signal_and_a_given_signal_drive_every_function():
    low = symdyn.load(FORCED).lower()
    t = 0.7
    expected = -low.x0[0] + 0.5 * np.cos(1.3 * t)  # -k x - c v + A cos(ω t) at x = 1, v = 0
    np.testing.assert_allclose(low.rhs(t, low.x0, low.p)[1], expected, rtol=tolerance(1e-12, 1e-6))
    np.testing.assert_allclose(jax.jit(low.rhs)(t, low.x0, low.p)[1], expected, rtol=tolerance(1e-12, 1e-6))
    times = np.linspace(0.0, 2.0, 5)
    driven = low.with_inputs(InputSignal(times, 2 * times))  # F = 2t, linear: interpolated exactly
    x = jnp.asarray([0.3, -0.4], low.p.dtype)
    np.testing.assert_allclose(driven.rhs(t, x, low.p), [-0.4, -0.3 + 0.2 * 0.4 + 1.4], rtol=tolerance(1e-12, 1e-6))
    np.testing.assert_allclose(driven.jac(t, x, low.p), jax.jacfwd(driven.rhs, 1)(t, x, low.p))
    np.testing.assert_allclose(driven.jvp(t, x, low.p, x), driven.jac(t, x, low.p) @ x, rtol=1e-6)
    batched = jax.vmap(driven.rhs, (0, None, None))(jnp.asarray([0.5, 1.0]), x, low.p)
    np.testing.assert_allclose(batched[:, 1], [-0.3 + 0.08 + 1.0, -0.3 + 0.08 + 2.0], rtol=tolerance(1e-12, 1e-6))
    np.testing.assert_allclose(driven.inputs(jnp.asarray([3.0]), low.p), [[4.0]])  # held beyond the samples


def test_a_model_without_default_signals_says_how_to_drive_it():
    low = symdyn.parse(DRIVEN).lower()
    with pytest.raises(ValueError, match=r"inputs without a default signal \(F\).*with_inputs"):
        low.rhs(0.0, low.x0, low.p)
    with pytest.raises(ValueError, match="has 1 inputs \\(F\\); the signal gives 2"):
        low.with_inputs(InputSignal(np.arange(3.0), np.zeros((3, 2))))
    with pytest.raises(ValueError, match="declares no @inputs"):
        symdyn.load(EXAMPLES / "lorenz.sdyn").lower().with_inputs(InputSignal(np.arange(3.0), np.zeros(3)))
    with pytest.raises(ValueError, match="input times must be one increasing array"):
        InputSignal(np.array([0.0, 0.0, 1.0]), np.zeros(3))


def test_generated_data_carry_their_inputs_through_files(tmp_path):
    data = generate(symdyn.load(FORCED), duration=1.0, dt=0.1, key=jax.random.PRNGKey(0), samples=2, progress=False)
    np.testing.assert_allclose(data.inputs["F"][0], 0.5 * np.cos(1.3 * data.t), rtol=tolerance(1e-12, 1e-6))
    data.save(tmp_path / "forced.npz")
    loaded = Trajectories.load(tmp_path / "forced.npz")
    assert loaded.names == ("x", "v") and tuple(loaded.inputs) == ("F",)
    np.testing.assert_array_equal(loaded.inputs["F"], data.inputs["F"])
    table = np.column_stack([data.t, data.states[0], data.inputs["F"][0]])
    np.savetxt(tmp_path / "forced.csv", table, delimiter=",", header="t,x,v,F", comments="")
    from_csv = Trajectories.load(tmp_path / "forced.csv", inputs=["F"])
    assert from_csv.names == ("x", "v")
    np.testing.assert_allclose(from_csv.inputs["F"][0], data.inputs["F"][0], rtol=1e-12)
    with pytest.raises(ValueError, match="has no input 'G' \\(it has 'x', 'v', 'F'\\)"):
        Trajectories.load(tmp_path / "forced.csv", inputs=["G"])
    signal = load_signal(tmp_path / "forced.csv", ["F"])
    np.testing.assert_allclose(signal(jnp.asarray(data.t[3])), [data.inputs["F"][0, 3]], rtol=1e-6)


@pytest.mark.float64
@pytest.mark.parametrize("method", [Sparse(), WeakForm()], ids=["sparse", "weak"])
def test_a_library_over_states_and_inputs_finds_the_forced_oscillator(method):
    found = symdyn.discover(PolynomialLibrary(2), _driven_data(), method=method, progress=False)
    assert [i.name for i in found.model.inputs] == ["F"]
    rhs = found.model.rhs()
    x, v, force = sorted(rhs.free_symbols, key=lambda s: ["x", "v", "F"].index(s.name))
    coefficients = [rhs[1].coeff(s) for s in (x, v, force)]
    np.testing.assert_allclose([float(c) for c in coefficients], [-1.0, -0.2, 1.0], rtol=1e-3)
    assert len(rhs[1].args) == 3 and float(rhs[0].coeff(v)) == pytest.approx(1.0, rel=1e-4)


@pytest.mark.float64
def test_a_template_with_inputs_fits_its_unknowns():
    template = model_text(
        "@unknowns a b c",
        "@inputs F(t)",
        "@variables x(t)  v(t)",
        "D(x) ~ v",
        "D(v) ~ a*x + b*v + c*F",
        name="Template",
    )
    found = symdyn.discover(symdyn.parse(template), _driven_data(), method="sparse", progress=False)
    np.testing.assert_allclose(found.values, [-1.0, -0.2, 1.0], rtol=1e-3)
    with pytest.raises(ValueError, match="the template Template declares its own"):
        symdyn.discover(symdyn.parse(template), _driven_data(), method="sparse", inputs=("F",))


@pytest.mark.float64
def test_simulate_with_an_input_file_then_discover_from_csv_columns(tmp_path, capsys):
    times = np.linspace(0.0, 25.0, 2501)
    np.savetxt(tmp_path / "force.csv", np.c_[times, _force(times)], delimiter=",", header="t,F", comments="")
    data = str(tmp_path / "forced.npz")
    argv = ["simulate", FORCED, "--t-end", "20", "--dt", "0.01", "--substeps", "4", "-o", data]
    assert main([*argv, "--inputs", str(tmp_path / "force.csv")]) == 0
    saved = Trajectories.load(data)
    np.testing.assert_allclose(saved.inputs["F"][0], _force(saved.t), atol=1e-4)  # linear between samples
    table = np.column_stack([saved.t, saved.states[0], saved.inputs["F"][0]])
    np.savetxt(tmp_path / "forced.csv", table, delimiter=",", header="t,x,v,F", comments="")
    found = str(tmp_path / "found.sdyn")
    argv = ["discover", "--library", "poly2", "--data", str(tmp_path / "forced.csv"), "--inputs", "F"]
    assert main([*argv, "--method", "sparse", "-o", found, "--quiet"]) == 0
    model = symdyn.load(found)
    assert "@inputs F(t)" in str(model) and len(model.rhs()[1].args) == 3
    assert main(["simulate", found, "--t-end", "1", "--dt", "0.1", "-o", str(tmp_path / "again.npz")]) == 2
    assert "--inputs FILE (a .csv with columns t,F)" in capsys.readouterr().err
