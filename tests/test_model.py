"""Exact symbolic forms of a Model: rhs, Jacobian, JVP (ODE and PDE), first-order form."""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import EXAMPLES, LORENZ, ODE_FILES

import symdyn


def sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def test_lorenz_jacobian_is_the_hand_written_one():
    model = symdyn.parse(LORENZ)
    x, y, z, σ, ρ, β = map(sym, ["x", "y", "z", "σ", "ρ", "β"])
    assert model.rhs() == sp.Matrix([σ * (y - x), x * (ρ - z) - y, x * y - β * z])
    assert model.jacobian() == sp.Matrix([[-σ, σ, 0], [ρ - z, -1, -x], [y, x, -β]])


@pytest.mark.parametrize("path", ODE_FILES, ids=lambda p: p.stem)
def test_jvp_is_the_jacobian_times_the_direction(path):
    model = symdyn.load(path)
    v = sp.Matrix(model.direction())
    assert sp.simplify(model.jvp() - model.jacobian() * v) == sp.zeros(len(v), 1)
    w = [sp.Integer(k + 1) for k in range(len(v))]
    assert sp.simplify(model.jvp(w) - model.jacobian() * sp.Matrix(w)) == sp.zeros(len(v), 1)


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
