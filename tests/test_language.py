"""What the language means: each construct of the reference, parsed into exact SymPy."""

from __future__ import annotations

import sympy as sp
from conftest import EXAMPLES, LORENZ, model_text

import symdyn

t = sp.Symbol("t", real=True)


def fn(name: str, *args: sp.Symbol) -> sp.Expr:
    return sp.Function(name, real=True)(*(args or (t,)))


def sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def rhs_of(*body: str) -> sp.Expr:
    """The right-hand side of the last equation in a model with states x, y and parameters a, b."""
    model = symdyn.parse(model_text("@parameters a b", "@variables x(t) y(t)", "D(y) ~ y", *body))
    return model.equations[-1].rhs


def test_lorenz_parses_into_its_parts():
    model = symdyn.parse(LORENZ, filename="lorenz.sdyn")
    assert model.name == "Lorenz"
    assert [p.name for p in model.parameters] == ["σ", "ρ", "β"]
    assert [p.default for p in model.parameters] == [10, 28, sp.Rational(8, 3)]
    assert isinstance(model.parameters[2].default, sp.Rational)
    assert [s.name for s in model.states] == ["x", "y", "z"]
    assert model.state_vector == (sym("x"), sym("y"), sym("z"))
    assert model.initial_state() == (1, 1, 1)
    x, y, z = fn("x"), fn("y"), fn("z")
    ρ, β = sym("ρ"), sym("β")
    assert model.equations[0].lhs == sp.Derivative(x, t)
    assert model.equations[1].rhs == x * (ρ - z) - y
    assert model.equations[2].rhs == x * y - β * z
    assert model.filename == "lorenz.sdyn"


def test_comments_blocks_commas_and_bracket_continuation():
    text = """
# a comment line
model M   # trailing comment
    #= a block
       comment =#
    @parameters begin
        a = 1, b = 2

        c
    end
    @variables x(t) = 1, y(t)
    @initial y = (a +
                  b)
    D(x) ~ -(a*x +
             b*y)
    @equations begin
        D(y) ~ c*x
    end
end
"""
    model = symdyn.parse(text)
    assert [p.name for p in model.parameters] == ["a", "b", "c"]
    assert model.parameters[2].default is None
    assert model.initial_state() == (1, sym("a") + sym("b"))
    assert model.equations[0].rhs == sp.Mul(-1, sym("a") * fn("x") + sym("b") * fn("y"), evaluate=False)
    assert model.equations[1].rhs == sym("c") * fn("x")


def test_unicode_and_ascii_names_are_different_names():
    model = symdyn.parse(
        model_text("@parameters σ = 1  sigma = 2  x₁ = 3  x1 = 4", "@variables u(t)", "D(u) ~ σ + sigma + x₁ + x1")
    )
    assert model.equations[0].rhs == sym("σ") + sym("sigma") + sym("x₁") + sym("x1")
    assert model.defaults[sym("σ")] == 1 and model.defaults[sym("sigma")] == 2


def test_implicit_multiplication_follows_julia_precedence():
    x, a = fn("x"), sym("a")
    assert rhs_of("D(x) ~ 2x") == 2 * x
    assert rhs_of("D(x) ~ 3a^2") == 3 * a**2  # juxtaposition binds looser than ^
    assert rhs_of("D(x) ~ 1/2x") == 1 / (2 * x)  # ... and tighter than /
    assert rhs_of("D(x) ~ -2x") == -2 * x
    assert rhs_of("D(x) ~ 2sin(x)") == 2 * sp.sin(x)
    assert rhs_of("D(x) ~ 2.5e-1x") == sp.Float(0.25) * x
    assert rhs_of("D(x) ~ 2e3") == sp.Float(2000.0)  # a float literal, not 2*e3
    assert rhs_of("D(x) ~ 2π*x") == 2 * sp.pi * x
    assert rhs_of("D(x) ~ x^2a") == x ** (2 * a)  # Julia: a^2x is a^(2x)


def test_operators_and_precedence():
    x, y, a, b = fn("x"), fn("y"), sym("a"), sym("b")
    assert rhs_of("D(x) ~ -x^2") == -(x**2)
    assert rhs_of("D(x) ~ x^y^2") == x ** (y**2)
    assert rhs_of("D(x) ~ a - b - x") == a - b - x
    assert rhs_of("D(x) ~ a/b/x") == a / b / x
    assert rhs_of("D(x) ~ 2^-1*x") == x / 2
    assert rhs_of("D(x) ~ +x - -y") == x + y


def test_numbers_are_exact_integers_rationals_or_float64():
    assert rhs_of("D(x) ~ 8/3") == sp.Rational(8, 3)
    assert rhs_of("D(x) ~ 0.1") == sp.Float(0.1)
    assert rhs_of("D(x) ~ .5") == sp.Float(0.5)
    assert rhs_of("D(x) ~ 1e-3") == sp.Float(0.001)
    assert isinstance(rhs_of("D(x) ~ 10"), sp.Integer)
    assert rhs_of("D(x) ~ 0.0^206").is_zero  # a float zero to a large power is no overflow


def test_elementary_functions_and_julia_spellings():
    x, y = fn("x"), fn("y")
    cases = {
        "sin(x)": sp.sin(x),
        "cos(x)": sp.cos(x),
        "tan(x)": sp.tan(x),
        "exp(x)": sp.exp(x),
        "log(x)": sp.log(x),
        "log(2, x)": sp.log(x, 2),
        "sqrt(x)": sp.sqrt(x),
        "abs(x)": sp.Abs(x),
        "tanh(x)": sp.tanh(x),
        "sinh(x)": sp.sinh(x),
        "cosh(x)": sp.cosh(x),
        "atan(x)": sp.atan(x),
        "atan(y, x)": sp.atan2(y, x),
        "sech(x)": sp.sech(x),
        "min(x, y)": sp.Min(x, y),
        "max(x, y, 1)": sp.Max(x, y, 1),
        "ℯ^x": sp.exp(x),
        "pi": sp.pi,
    }
    for text, expected in cases.items():
        assert rhs_of(f"D(x) ~ {text}") == expected, text


def test_derivative_spellings_agree_and_reduce_to_first_order():
    forms = ["D(D(x)) ~ -x", "D^2(x) ~ -x", "Dt^2(x) ~ -x", "D(D(x)) + x ~ 0"]
    models = [symdyn.parse(model_text("@variables x(t)", form)) for form in forms]
    for model in models:
        assert model.states[0].order == 2
        assert [s.name for s in model.state_vector] == ["x", "xˍt"]
        assert model.rhs() == sp.Matrix([sym("xˍt"), -sym("x")])
    assert models[0].equations[0].lhs == sp.Derivative(fn("x"), (t, 2))


def test_total_time_derivative_of_an_expression_expands():
    model = symdyn.parse(model_text("@parameters m = 2", "@variables x(t) v(t)", "D(m*x) ~ v", "D(x*v) ~ -x"))
    x, v, m = sym("x"), sym("v"), sym("m")
    solved = model.rhs()
    assert sp.simplify(solved[0] - v / m) == 0
    assert sp.simplify(solved[1] - (-x - v * v / m) / x) == 0


def test_implicit_and_coupled_equations_are_solved_for_the_highest_derivatives():
    rc = symdyn.parse(model_text("@parameters c₀ c₁ c₂", "@variables y(t)", "y/c₁ + c₂*D(y) ~ c₀"))
    c0, c1, c2, y = sym("c₀"), sym("c₁"), sym("c₂"), sym("y")
    assert sp.simplify(rc.rhs()[0] - (c0 - y / c1) / c2) == 0
    coupled = symdyn.parse(model_text("@variables x(t) y(t)", "D(x) + D(y) ~ x", "D(x) - D(y) ~ y"))
    x, y = sym("x"), sym("y")
    assert sp.simplify(coupled.rhs() - sp.Matrix([(x + y) / 2, (x - y) / 2])) == sp.zeros(2, 1)


def test_observed_quantities_substitute_into_equations_and_each_other():
    model = symdyn.parse(
        model_text(
            "@parameters k = 1",
            "@variables x(t) = 1  v(t) = 0",
            "@observed force = -k*x",
            "@observed power = force*v",
            "D(x) ~ v",
            "D(v) ~ force",
        )
    )
    x, v, k = sym("x"), sym("v"), sym("k")
    assert model.rhs() == sp.Matrix([v, -k * x])
    assert [d.name for d in model.observed] == ["force", "power"]
    assert model.system.to_jets(model.observed[1].expression) == -k * x * v


def test_constants_unknowns_and_defaults_that_refer_to_each_other():
    model = symdyn.parse(
        model_text(
            "@constants g = 981/100",
            "@parameters L = 2g  ω = sqrt(g/L)",
            "@unknowns a₁ = 1/2  a₂",
            "@variables θ(t) = ω",
            "D(θ) ~ a₁*θ + a₂",
        )
    )
    g = sp.Rational(981, 100)
    assert model.defaults[sym("L")] == 2 * g
    assert model.defaults[sym("ω")] == sp.sqrt(sp.Rational(1, 2))
    assert model.defaults[sym("a₁")] == sp.Rational(1, 2)
    assert sym("a₂") not in model.defaults
    assert [u.name for u in model.unknowns] == ["a₁", "a₂"]
    assert model.constants[0].value == g


def test_conserved_quantities_of_the_seed_systems():
    two_body = symdyn.load(EXAMPLES / "two_body.sdyn")
    x, y, vx, vy = two_body.state_vector
    assert two_body.conserved[0].expression.xreplace({fn(s.name): s for s in two_body.state_vector}) == x * vy - y * vx
    rigid = symdyn.load(EXAMPLES / "rigid_body.sdyn")
    casimir = rigid.system.to_jets(rigid.conserved[0].expression)
    assert sp.simplify(casimir - sum(s**2 for s in rigid.state_vector) / 2) == 0


def test_pde_fields_keep_spatial_operators_as_operators():
    model = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn")
    x = sym("x")
    u = fn("u", t, x)
    assert model.is_pde
    (coordinate,) = model.domain
    assert (coordinate.name, coordinate.kind, coordinate.lower, coordinate.upper, coordinate.points) == (
        "x",
        "Periodic",
        0,
        64,
        256,
    )
    assert model.equations[0].rhs == -u * sp.Derivative(u, x) - sp.Derivative(u, (x, 2)) - sp.Derivative(u, (x, 4))
    jet = {s.name: s for s in model.system.jets}
    assert model.rhs()[0] == -jet["u"] * jet["uˍx"] - jet["uˍxx"] - jet["uˍxxxx"]
    assert model.conserved[0].expression == sp.Integral(u, (x, 0, 64))


def test_ascii_spatial_derivatives_match_the_unicode_ones():
    unicode = "D(u) ~ ∂x^2(u) + ∂x(u*∂x(u))"
    ascii = "D(u) ~ Dxx(u) + u*Dx^2(u) + Dx(u)^2"
    models = [
        symdyn.parse(model_text("@domain x in Periodic(0, 2pi; points = 32)", "@variables u(t, x)", body))
        for body in (unicode, ascii)
    ]
    assert models[0].rhs() == models[1].rhs()
    assert models[0].domain[0].upper == 2 * sp.pi


def test_bounded_domains_carry_boundary_conditions():
    model = symdyn.load(EXAMPLES / "heat_rod.sdyn")
    x = sym("x")
    u = fn("u", t, x)
    dirichlet, neumann = model.boundary_conditions
    assert (dirichlet.coordinate, dirichlet.at, dirichlet.lhs, dirichlet.rhs) == (x, 0, u, 0)
    assert (neumann.at, neumann.lhs) == (1, sp.Derivative(u, x))


def test_latex_of_ode_and_pde_models():
    latex = symdyn.parse(LORENZ).to_latex()
    assert latex.startswith("\\begin{aligned}")
    assert r"\frac{\mathrm{d} x}{\mathrm{d} t} &= \sigma \left(- x + y\right)" in latex
    assert r"\beta" in latex and r"\rho" in latex
    pde = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn").to_latex()
    assert r"\frac{\partial^{4} u}{\partial x^{4}}" in pde
    second = symdyn.load(EXAMPLES / "pendulum.sdyn").to_latex()
    assert r"\frac{\mathrm{d}^{2} \theta}{\mathrm{d} t^{2}}" in second


def test_latex_of_a_pde_shows_its_domain_and_boundary_conditions():
    heat = symdyn.load(EXAMPLES / "heat_rod.sdyn").to_latex().split(" \\\\\n")
    assert heat[0] == "\\begin{aligned}\nx &\\in [0, 1] \\quad \\text{101 points}"
    assert heat[2] == r"u &= 0 \quad \text{at } x = 0"
    assert heat[3] == r"\frac{\partial u}{\partial x} &= 0 \quad \text{at } x = 1" + "\n\\end{aligned}"
    ks = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn").to_latex()
    assert r"x &\in [0, 64) \quad \text{periodic, 256 points}" in ks
