"""Property tests: broken model files give located SymdynErrors and nothing else; printing round-trips."""

from __future__ import annotations

import sympy as sp
from conftest import EXAMPLE_FILES, model_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symdyn

TEXTS = [p.read_text(encoding="utf-8") for p in EXAMPLE_FILES]
# Characters that matter to the language, and a few that do not belong in it.
ALPHABET = list("()~=^*/+-,;@#.\n 0123456789xyztDσπ∂∫∈ₓ₁'\"$!{}[]") + [
    "end",
    "begin",
    "model",
    "@variables",
    "D(",
    "^2",
    "∂y(",
    "+ D(x)",
    "gamma",
]


def mutate(data: st.DataObject) -> str:
    text = data.draw(st.sampled_from(TEXTS))
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate_line"]))
        at = data.draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:at] + data.draw(st.sampled_from(ALPHABET)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 8)) :]
        elif kind == "replace":
            text = text[:at] + data.draw(st.sampled_from(ALPHABET)) + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        else:
            lines = text.split("\n")
            row = data.draw(st.integers(0, len(lines) - 1))
            lines.insert(row, lines[row])
            text = "\n".join(lines)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_fail_only_with_located_symdyn_errors(data):
    text = mutate(data)
    try:
        symdyn.parse(text, filename="mutated.sdyn")
    except symdyn.SymdynError as error:
        lines = text.split("\n")
        assert 1 <= error.line <= len(lines), (error.line, len(lines))
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1
        assert error.filename == "mutated.sdyn"
        assert str(error).startswith(f"mutated.sdyn:{error.line}:{error.column}: ")


# Random expressions over the states x, y and the parameters a, b.
_atoms = st.sampled_from(["x", "y", "a", "b", "2", "3", "0.5", "1.25e-3", "π", "t", "(1/3)"])
_unary = ["sin", "cos", "exp", "tanh", "atan", "abs", "sqrt", "log", "sech"]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    power = st.tuples(children, st.sampled_from(["2", "3", "-1", "(1/2)", "a"])).map(lambda t: f"{t[0]}^{t[1]}")
    call = st.tuples(st.sampled_from(_unary), children).map(lambda t: f"{t[0]}(1 + {t[1]}^2)")
    return binary | power | call | children.map(lambda c: f"-{c}") | st.sampled_from(["2x", "3a^2", "1/2y"])


expressions = st.recursive(_atoms, _combine, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(expressions, expressions)
def test_printing_round_trips_any_expression(first, second):
    text = model_text("@parameters a = 1/2  b", "@variables x(t) = 1  y(t)", f"D(x) ~ {first}", f"D(y) ~ {second}")
    try:
        model = symdyn.parse(text)
    except symdyn.SymdynSemanticError:
        return  # e.g. a division by zero the generator stumbled on
    again = symdyn.parse(str(model))
    assert again == model
    assert str(again) == str(model)
    assert all(sp.simplify(p - q) == 0 for p, q in zip(again.rhs(), model.rhs()))
