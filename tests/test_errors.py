"""Malformed model files: the exact message, line and column of each error, and how it is shown."""

from __future__ import annotations

import pytest
from conftest import LORENZ, model_text

import symdyn
from symdyn.language import SYNTAX_MISTAKES

# (model text, message, line, column): one table for the semantic checks.
SEMANTIC_ERRORS = {
    "undeclared name": (model_text("@variables x(t)", "D(x) ~ -k*x"), "`k` is not declared", 3, 13),
    "misspelt name": (
        model_text("@parameters sigma", "@variables x(t)", "D(x) ~ -sigm*x"),
        "`sigm` is not declared",
        4,
        13,
    ),
    "state without an equation": (
        model_text("@variables x(t) y(t)", "D(x) ~ -x"),
        "the state `y` has no equation",
        2,
        21,
    ),
    "two equations for one state": (
        model_text("@variables x(t) y(t)", "D(x) ~ -x", "D(x) ~ y"),
        "a second equation for D(x)",
        4,
        5,
    ),
    "derivative of a parameter": (
        model_text("@parameters k", "@variables x(t)", "D(x) ~ D(k)"),
        "`k` is a parameter: it has no derivative",
        4,
        14,
    ),
    "wrong arity": (model_text("@variables x(t)", "D(x) ~ sin(x, 2)"), "`sin` takes 1 argument, not 2", 3, 12),
    "unknown function": (model_text("@variables x(t)", "D(x) ~ sinn(x)"), "unknown function `sinn`", 3, 12),
    "name declared twice": (
        model_text("@parameters a", "@variables a(t)", "D(a) ~ 1"),
        "`a` is declared twice",
        3,
        16,
    ),
    "built-in name declared": (
        model_text("@parameters sin", "@variables x(t)", "D(x) ~ 1"),
        "`sin` is a built-in function and cannot be declared",
        2,
        17,
    ),
    "not linear in the derivative": (
        model_text("@variables x(t)", "D(x)^2 ~ x"),
        "this equation is not linear in D(x)",
        3,
        5,
    ),
    "singular system": (
        model_text("@variables x(t) y(t)", "D(x) + D(y) ~ x", "2D(x) + 2D(y) ~ y"),
        "these equations do not determine D(x), D(y)",
        3,
        5,
    ),
    "algebraic equation": (
        model_text("@variables x(t) y(t)", "D(x) ~ y", "0 ~ x + y"),
        "this equation holds no highest derivative of any state",
        4,
        5,
    ),
    "division by zero": (
        model_text("@variables x(t)", "D(x) ~ x/0"),
        "this expression is infinite or undefined",
        3,
        12,
    ),
    "complex value": (model_text("@variables x(t)", "D(x) ~ sqrt(-2)*x"), "this expression is complex", 3, 12),
    "function as a value": (model_text("@variables x(t)", "D(x) ~ sin*x"), "`sin` is a function", 3, 12),
    "parameter called": (
        model_text("@parameters k", "@variables x(t)", "D(x) ~ k(x)"),
        "`k` is a parameter, not a function",
        4,
        12,
    ),
    "power of a function": (
        model_text("@variables x(t)", "D(x) ~ sin^2(x)"),
        "only derivative operators take a power before their bracket",
        3,
        12,
    ),
    "state in a default": (
        model_text("@parameters k = x", "@variables x(t)", "D(x) ~ k"),
        "a parameter's default cannot use the state `x`",
        2,
        21,
    ),
    "cyclic defaults": (
        model_text("@parameters a = b  b = a", "@variables x(t)", "D(x) ~ a"),
        "the value of `a` depends on itself",
        2,
        17,
    ),
    "default from a parameter without one": (
        model_text("@parameters a = b  b = c  c", "@variables x(t)", "D(x) ~ a"),
        "the value of `b` uses `c`, which has no default",
        2,
        24,
    ),
    "cyclic observed": (
        model_text("@variables x(t)", "@observed p = q", "@observed q = p", "D(x) ~ p"),
        "`p` is defined in terms of itself (p → q → p)",
        4,
        19,
    ),
    "no states": (model_text("@parameters a"), "the model `M` declares no states", 1, 7),
    "initial derivative beyond the order": (
        model_text("@variables x(t)", "@initial D(x) = 1", "D(x) ~ -x"),
        "`x` is of order 1: its initial state has no derivatives",
        3,
        14,
    ),
    "initial value twice": (
        model_text("@variables x(t) = 1", "@initial x = 2", "D(x) ~ -x"),
        "a second initial value for the same quantity",
        3,
        14,
    ),
    "huge power": (model_text("@variables x(t)", "D(x) ~ 10^10^10"), "this power is too large to compute", 3, 12),
    "huge number": (
        model_text("@variables x(t)", "D(x) ~ 1e999"),
        "the number `1e999` is beyond the range of 64-bit floats",
        3,
        12,
    ),
    "state at another time": (
        model_text("@variables x(t)", "D(x) ~ x(s)"),
        "`x` is evaluated at its own arguments here",
        3,
        14,
    ),
    "two independent variables": (
        model_text("@variables x(t) y(s)", "D(x) ~ 1", "D(y) ~ 1"),
        "`y` depends on `s`, another state on `t`",
        2,
        23,
    ),
    "undeclared coordinate": (
        model_text("@variables u(t, x)", "D(u) ~ 1"),
        "`x` is not a coordinate of the domain",
        2,
        21,
    ),
    "boundary on a periodic coordinate": (
        model_text(
            "@domain x ∈ Periodic(0, 1; points = 8)", "@variables u(t, x)", "D(u) ~ ∂x^2(u)", "@boundary u(t, 0) ~ 0"
        ),
        "`x` is periodic: it has no boundary",
        5,
        20,
    ),
    "missing boundary condition": (
        model_text(
            "@domain x ∈ Interval(0, 1; points = 8)", "@variables u(t, x)", "D(u) ~ ∂x^2(u)", "@boundary u(t, 0) ~ 0"
        ),
        "`u` has derivatives in `x` but no boundary condition at x = 1",
        3,
        16,
    ),
    "unknown domain": (
        model_text("@domain x ∈ Circle(0, 1; points = 8)", "@variables u(t, x)", "D(u) ~ ∂x^2(u)"),
        "unknown domain `Circle`",
        2,
        17,
    ),
    "domain without points": (
        model_text("@domain x ∈ Periodic(0, 1)", "@variables u(t, x)", "D(u) ~ ∂x^2(u)"),
        "a coordinate needs its number of grid points",
        2,
        13,
    ),
    "integral in an equation": (
        model_text("@domain x ∈ Periodic(0, 1; points = 8)", "@variables u(t, x)", "D(u) ~ ∫(u, x)"),
        "an equation cannot contain integrals",
        4,
        12,
    ),
    "spatial derivative of an ODE state": (
        model_text(
            "@domain x ∈ Periodic(0, 1; points = 8)", "@variables u(t, x)  y(t)", "D(u) ~ ∂x(u)", "D(y) ~ ∂x(y)"
        ),
        "this expression does not depend on x",
        5,
        15,
    ),
    "derivative order too high": (
        model_text("@variables x(t)", "D^40(x) ~ x"),
        "derivatives of order 40 are not supported",
        3,
        5,
    ),
    "name of a generated state": (
        model_text("@parameters xˍt", "@variables x(t)", "D^2(x) ~ xˍt"),
        "`xˍt` is the name of a derivative of `x` in the first-order form",
        2,
        17,
    ),
    "D as a value": (model_text("@variables x(t)", "D(x) ~ D"), "`D` is the time derivative", 3, 12),
    "derivatives that cancel": (
        model_text("@variables x(t)", "D(x) ~ D(x) + 1"),
        "the D(x) terms of this equation cancel",
        3,
        5,
    ),
    "derivatives that cancel in a second equation": (
        model_text("@variables x(t) y(t)", "D(x) ~ y", "D^2(y) ~ D^2(y) - x"),
        "the D^2(y) terms of this equation cancel",
        4,
        5,
    ),
    "partial derivative in a coordinate the domain lacks": (
        model_text("@domain x ∈ Periodic(0, 1; points = 8)", "@variables u(t, x)", "D(u) ~ ∂y(u)"),
        "`y` is not a coordinate of the domain",
        4,
        12,
    ),
    "ASCII partial derivative in a coordinate the domain lacks": (
        model_text("@domain x ∈ Periodic(0, 1; points = 8)", "@variables u(t, x)", "D(u) ~ Dxy(u)"),
        "`y` is not a coordinate of the domain",
        4,
        12,
    ),
}

SYNTAX_ERRORS = {
    "truncated expression": (
        LORENZ.replace("D(z) ~ x*y - β*z", "D(z) ~ x*y - β*"),
        "the expression ends after an operator",
        7,
        20,
    ),
    "unclosed bracket": (LORENZ.replace("σ*(y - x)", "σ*(y - x"), "this `(` is never closed", 5, 14),
    "misspelt declaration": (
        LORENZ.replace("@parameters", "@parameter"),
        "unknown declaration `@parameter`",
        3,
        5,
    ),
    "stray character": (model_text("@variables x(t)", "D(x) ~ x $ 2"), "unexpected character `$`", 3, 14),
    "two values side by side": (
        model_text("@variables x(t)", "D(x) ~ x x"),
        "unexpected name `x`; expected end of line",
        3,
        14,
    ),
    "empty file": ("", "a model file starts with `model Name`", 1, 1),
    "bracket left open before ~": (
        model_text("@parameters A ω", "@variables θ(t)", "D(θ) ~ sin(θ ~ A*cos(ω*t)"),
        "this `(` is never closed",
        4,
        15,
    ),
    "bracket left open before =": (
        model_text("@variables x(t)", "@initial D(x = 1", "D^2(x) ~ -x"),
        "this `(` is never closed",
        3,
        15,
    ),
}


@pytest.mark.parametrize("case", sorted(SEMANTIC_ERRORS))
def test_semantic_errors_are_located(case):
    text, message, line, column = SEMANTIC_ERRORS[case]
    with pytest.raises(symdyn.SymdynSemanticError) as caught:
        symdyn.parse(text, filename="m.sdyn")
    error = caught.value
    assert (error.message, error.line, error.column) == (message, line, column)
    assert error.filename == "m.sdyn"


@pytest.mark.parametrize("case", sorted(SYNTAX_ERRORS))
def test_syntax_errors_are_located(case):
    text, message, line, column = SYNTAX_ERRORS[case]
    with pytest.raises(symdyn.SymdynSyntaxError) as caught:
        symdyn.parse(text, filename="m.sdyn")
    assert (caught.value.message, caught.value.line, caught.value.column) == (message, line, column)


@pytest.mark.parametrize("label", sorted(SYNTAX_MISTAKES))
def test_every_example_of_a_common_mistake_is_recognised(label):
    mistake = SYNTAX_MISTAKES[label]
    for example in mistake.examples:
        with pytest.raises(symdyn.SymdynSyntaxError) as caught:
            symdyn.parse(example)
        assert (caught.value.message, caught.value.hint) == (mistake.message, mistake.hint), example


def test_an_error_shows_the_line_a_caret_and_a_hint():
    text = model_text("@parameters sigma", "@variables x(t)", "D(x) ~ -sigm*x")
    with pytest.raises(symdyn.SymdynError) as caught:
        symdyn.parse(text, filename="decay.sdyn")
    assert str(caught.value) == (
        "decay.sdyn:4:13: `sigm` is not declared\n"
        "   4 |     D(x) ~ -sigm*x\n"
        "     |             ^^^^\n"
        "hint: did you mean `sigma`?"
    )


@pytest.mark.parametrize(
    "text, hint",
    [
        (model_text("@parameters γ", "@variables x(t)", "D(x) ~ -gamma*x"), "did you mean `γ`?"),
        (model_text("@variables θ(t)", "D^2(θ) ~ -sin(theta)"), "did you mean `θ`?"),
        (
            model_text("@variables x(t)", "D(x) ~ D(x) + 1"),
            "what is left, `-1 ~ 0`, has no D(x); write D(x) on one side",
        ),
        (
            model_text(
                "@domain x ∈ Periodic(0, 1; points = 8)  y ∈ Periodic(0, 1; points = 8)",
                "@variables u(t, x, y)",
                "D(u) ~ ∂z(u)",
            ),
            "the coordinates of the domain are `x`, `y`",
        ),
        (
            model_text("@variables x(t)", "D(x) ~ ∂y(x)"),
            "the model has no @domain: declare it, as in `@domain y ∈ Periodic(0, 1; points = 64)`",
        ),
        (
            model_text("@variables x(t)", "D(x) ~ sin(x ~ 1"),
            "close it before `~`, which stands outside brackets",
        ),
    ],
    ids=["gamma", "theta", "cancel", "coordinates", "no domain", "open bracket"],
)
def test_hints_name_what_was_meant(text, hint):
    """A spelled-out Greek name gets the Greek one; the other hints say what to write."""
    with pytest.raises(symdyn.SymdynError) as caught:
        symdyn.parse(text)
    assert caught.value.hint == hint


def test_load_reports_the_path(tmp_path):
    path = tmp_path / "bad.sdyn"
    path.write_text(LORENZ.replace("ρ - z", "ρ - w"), encoding="utf-8")
    with pytest.raises(symdyn.SymdynError) as caught:
        symdyn.load(path)
    assert caught.value.filename == str(path)
    assert caught.value.location == f"{path}:6:19"


def test_parse_wants_text():
    with pytest.raises(TypeError, match="use load"):
        symdyn.parse(b"model M end")
