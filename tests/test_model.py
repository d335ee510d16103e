"""Exact symbolic forms of a Model: rhs, Jacobian, JVP (ODE and PDE), first-order form."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, LORENZ, ODE_FILES

import symdyn
from symdyn.cli import main


def sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def test_lorenz_jacobian_is_the_hand_written_one():
    model = symdyn.parse(LORENZ)
    x, y, z, σ, ρ, β = map(sym, ["x", "y", "z", "σ", "ρ", "β"])
    assert model.rhs() == sp.Matrix([σ * (y - x), x * (ρ - z) - y, x * y - β * z])
    assert model.jacobian() == sp.Matrix([[-σ, σ, 0], [ρ - z, -1, -x], [y, x, -β]])


# The first-order right-hand sides of the ODE examples, written out by hand from the model files
# (x: the state vector, p: coefficient values by name; NumPy, so that complex steps go through).
HAND_WRITTEN = {
    "damped_harmonic_oscillator": lambda x, p: [x[1], -p["c₀"] * x[0] - p["c₁"] * x[1]],
    "damped_oscillator": lambda x, p: [-p["α"] * x[0] - p["ω"] * x[1], p["ω"] * x[0] - p["α"] * x[1]],
    "harmonic_oscillator": lambda x, p: [x[1], -p["c₀"] * x[0]],
    "language_death": lambda x, p: [p["c₀"] - (p["c₀"] + p["c₁"]) * x[0]],
    "lorenz": lambda x, p: [
        p["σ"] * (x[1] - x[0]),
        x[0] * (p["ρ"] - x[2]) - x[1],
        x[0] * x[1] - p["β"] * x[2],
    ],
    "lorenz_template": lambda x, p: [
        p["a₁"] * x[0] + p["a₂"] * x[1],
        p["a₃"] * x[0] + p["a₄"] * x[1] + p["a₅"] * x[0] * x[2],
        p["a₆"] * x[2] + p["a₇"] * x[0] * x[1],
    ],
    "lotka_volterra": lambda x, p: [
        p["α"] * x[0] - p["β"] * x[0] * x[1],
        p["δ"] * x[0] * x[1] - p["γ"] * x[1],
    ],
    "driven_pendulum": lambda x, p: [x[1], -4 * np.sin(x[0]) - p["γ"] * x[1] + p["F"] * np.cos(p["Ω"] * p["t"])],
    "forced_oscillator": lambda x, p: [x[1], -p["k"] * x[0] - p["c"] * x[1] + p["F"]],  # F: the input's value
    "pendulum": lambda x, p: [x[1], -9.81 / p["L"] * np.sin(x[0])],
    "population_growth": lambda x, p: [p["c₀"] * x[0]],
    "rc_circuit": lambda x, p: [(p["c₀"] - x[0] / p["c₁"]) / p["c₂"]],
    "rigid_body": lambda x, p: [
        (1 / p["I₃"] - 1 / p["I₂"]) * x[1] * x[2],
        (1 / p["I₁"] - 1 / p["I₃"]) * x[2] * x[0],
        (1 / p["I₂"] - 1 / p["I₁"]) * x[0] * x[1],
    ],
    "third_order": lambda x, p: [x[1], x[2], -x[1] - x[2]],
    "two_body": lambda x, p: [
        x[2],
        x[3],
        -x[0] / (x[0] ** 2 + x[1] ** 2) ** 1.5,
        -x[1] / (x[0] ** 2 + x[1] ** 2) ** 1.5,
    ],
}


@pytest.mark.parametrize("path", ODE_FILES, ids=lambda p: p.stem)
def test_rhs_jacobian_and_jvp_against_hand_written_equations(path):
    """rhs() against the equations written by hand; jacobian() and jvp() against complex-step derivatives of them.

    A complex step, Im f(x + iεv)/ε with ε = 1e-30, is a finite difference without cancellation:
    exact to round-off, so the tolerances are round-off: 1e-15 (1 + |value|), 3.4e-16 measured.
    """
    if path.stem not in HAND_WRITTEN:
        pytest.fail(f"write the equations of {path.name} by hand in HAND_WRITTEN")
    model, hand = symdyn.load(path), HAND_WRITTEN[path.stem]
    rng = np.random.default_rng(0)
    coefficients = [*model.parameters, *model.unknowns, *model.inputs]  # an input's value at t: a number too
    p = {c.name: rng.uniform(0.5, 2.0) for c in coefficients}
    constants = {c.symbol: model.defaults[c.symbol] for c in model.constants}
    n = len(model.state_vector)
    t = 0.7  # the time the equations are evaluated at (a forcing depends on it); hand() reads it as p["t"]
    w = [sp.Integer(k + 1) for k in range(n)]  # a given direction, besides the symbols of direction()

    def numeric(matrix: sp.Matrix, *direction):
        arguments = [*model.state_vector, *direction, *(c.symbol for c in coefficients), model.time]
        f = sp.lambdify(arguments, matrix.xreplace(constants), "numpy")
        return lambda *values: np.array(f(*values, *p.values(), t), dtype=float).reshape(matrix.shape)

    rhs, jacobian = numeric(model.rhs()), numeric(model.jacobian())
    jvp, jvp_w = numeric(model.jvp(), *model.direction()), numeric(model.jvp(w))
    for _ in range(3):
        x, v = rng.uniform(0.5, 2.0, n), rng.standard_normal(n)

        def along(u, x=x):
            return np.imag(np.array(hand(x + 1e-30j * np.asarray(u, dtype=float), {**p, "t": t}))) / 1e-30

        expected = np.column_stack([along(e) for e in np.eye(n)])
        np.testing.assert_allclose(rhs(*x)[:, 0], hand(x, {**p, "t": t}), rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(jacobian(*x), expected, rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(jvp(*x, *v)[:, 0], along(v), rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(jvp_w(*x)[:, 0], along(w), rtol=1e-15, atol=1e-15)


def test_direction_symbols_avoid_names_the_model_uses():
    model = symdyn.parse("model M\n    @parameters δx = 1\n    @variables x(t)\n    D(x) ~ -δx*x\nend\n")
    (direction,) = model.direction()
    assert direction.name == "δx′"
    assert model.jvp()[0] == -sym("δx") * direction


def test_second_order_pendulum_reduces_to_first_order():
    model = symdyn.load(EXAMPLES / "pendulum.sdyn")
    θ, ω, g, L = sym("θ"), sym("θˍt"), sym("g"), sym("L")
    assert model.state_vector == (θ, ω)
    assert model.rhs() == sp.Matrix([ω, -g * sp.sin(θ) / L])
    assert model.jacobian() == sp.Matrix([[0, 1], [-g * sp.cos(θ) / L, 0]])
    assert model.initial_state() == (sp.Float(0.5), 0)
    reduced = model.first_order()
    assert [s.name for s in reduced.states] == ["θ", "θˍt"]
    assert all(s.order == 1 for s in reduced.states)
    assert reduced.rhs() == model.rhs()
    t = sym("t")
    θ_t, ω_t = sp.Function("θ", real=True)(t), sp.Function("θˍt", real=True)(t)
    assert reduced.conserved[0].expression == ω_t**2 / 2 - g * sp.cos(θ_t) / L


def test_kuramoto_sivashinsky_jvp_is_the_linearised_operator():
    model = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn")
    u, ux, δu, δux, δuxx, δuxxxx = map(sym, ["u", "uˍx", "δu", "δuˍx", "δuˍxx", "δuˍxxxx"])
    assert model.jvp()[0] == -u * δux - ux * δu - δuxx - δuxxxx
    with pytest.raises(ValueError, match="is a PDE"):
        model.jacobian()


def test_total_derivatives_of_a_pde_rhs_are_exact_and_keep_the_rest():
    """∂^k(g) pieces with g a nonlinear function of the fields; what is left expands back to the term."""
    from symdyn.model import total_derivatives

    x = sym("x")
    u, ux, uxx, uxxx = map(sym, ["u", "uˍx", "uˍxx", "uˍxxx"])
    cases = {
        "-u*∂x(u)": ({((x, 1),): -(u**2) / 2}, 0),
        "-∂x(u^2)/2": ({((x, 1),): -(u**2) / 2}, 0),  # the file's conservative form, expanded by the language
        "∂x^2(u^3) + sin(u)*∂x(u)": ({((x, 2),): u**3, ((x, 1),): -sp.cos(u)}, 0),
        "u*∂x(u) + u*∂x^3(u)": ({((x, 1),): u**2 / 2}, u * uxxx),  # u·u_xxx is ∂x(u·u_xx − u_x²/2): not of u
        "∂x(u)^2 + u*∂x^2(u)": ({((x, 2),): u**2 / 2}, 0),
        "∂x(u)*∂x^2(u)": ({}, ux * uxx),  # ∂x(u_x²/2), whose g holds a derivative
        "sin(x)*u*∂x(u)": ({}, u * ux * sp.sin(x)),  # depends on x itself
        "t*∂x(u)": ({}, sym("t") * ux),  # linear: stays a derivative of the field
    }
    for rhs, (fluxes, rest) in cases.items():
        model = symdyn.parse(
            f"model M\n @domain x ∈ Periodic(0, 1; points = 8)\n @variables u(t, x)\n D(u) ~ {rhs}\nend"
        )
        term = model.rhs()[0]
        found, left = total_derivatives(term, model.system, model.coordinates)
        assert {f.space: f.flux for f in found} == fluxes, rhs
        assert sp.expand(left - rest) == 0, rhs
        applied = model.states[0].applied  # u(t, x): ∂^k of each flux in the jet symbols
        derivatives = [sp.diff(f.flux.subs(u, applied), *f.space) for f in found]
        assert sp.simplify(model.system.to_jets(sp.Add(*derivatives)) + left - term) == 0, rhs
    two = symdyn.parse(
        "model T\n @domain x ∈ Periodic(0, 1; points = 8)\n @variables u(t, x) v(t, x)\n"
        " D(u) ~ -∂x(u*v) + ∂x(u)*v\n D(v) ~ 0\nend"
    )
    found, left = total_derivatives(two.rhs()[0], two.system, two.coordinates)  # −u·v_x: no total derivative alone
    assert found == () and left == -sym("u") * sym("vˍx")


def test_pde_jvp_of_a_given_direction_field_differentiates_it():
    model = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn")
    x = sym("x")
    v = sp.sin(x)
    u, ux = sym("u"), sym("uˍx")
    expected = -u * sp.cos(x) - ux * sp.sin(x) + sp.sin(x) - sp.sin(x)
    assert sp.simplify(model.jvp([v])[0] - expected) == 0


def test_models_compare_by_content_not_by_layout():
    compact = symdyn.parse(LORENZ)
    spread = symdyn.parse(
        """model Lorenz
    @parameters begin
        σ = 10
        ρ = 28
        β = 8/3
    end
    @variables x(t)  y(t)  z(t)
    @initial x = 1  y = 1  z = 1
    @equations begin
        D(x) ~ σ*(y - x)
        D(y) ~ x*(ρ - z) - y
        D(z) ~ x*y - β*z
    end
end
"""
    )
    assert spread == compact
    assert hash(spread) == hash(compact)
    assert symdyn.parse(LORENZ.replace("β = 8/3", "β = 2.6666666666666665")) != compact


def test_show_latex_of_a_pde_has_its_domain_and_writes_directions_with_delta(capsys):
    """`symdyn show --latex --jacobian`: the domain line, and `δuˍx` as `\\delta u_{x}`, not `deltau_{x}`."""
    assert main(["show", str(EXAMPLES / "kuramoto_sivashinsky.sdyn"), "--latex", "--jacobian"]) == 0
    out = capsys.readouterr().out
    assert "\\begin{aligned}\nx &\\in [0, 64) \\quad \\text{periodic, 256 points} \\\\\n" in out
    assert out.endswith("\n- u \\delta u_{x} - u_{x} \\delta u - \\delta u_{xx} - \\delta u_{xxxx}\n")


def test_check_of_a_template_counts_and_names_its_unknowns(capsys):
    assert main(["check", str(EXAMPLES / "lorenz_template.sdyn"), str(EXAMPLES / "lorenz.sdyn")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(
        "lorenz_template.sdyn: ok: ODE model LorenzTemplate, 3 first-order states, 0 parameters, "
        "7 unknowns to fit (a₁, a₂, a₃, a₄, a₅, a₆, a₇)"
    )
    assert out[1].endswith("lorenz.sdyn: ok: ODE model Lorenz, 3 first-order states, 3 parameters")
