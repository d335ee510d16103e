"""A Model's exact first-order forms as the source of a small JAX module, with common subexpressions shared.

The module defines `rhs(t, x, p)`, `jac(t, x, p)`, `jvp(t, x, p, v)`, `observed(t, x, p)`,
`conserved(t, x, p)` and, when every initial value is given, `initial(p)`. Each
works on the last axis of its arrays, so it broadcasts over leading batch axes and
composes with `jit`, `vmap` and `grad`. `symdyn codegen FILE` prints this source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ..model import Model
from ._printer import JaxPrinter, python_name

_HELPERS = '''

def _stack(entries, like):
    """The entries broadcast to the batch shape of `like` and stacked on a new last axis."""
    entries = [jnp.asarray(e, like.dtype) if isinstance(e, (int, float)) else e for e in entries]
    return jnp.stack(jnp.broadcast_arrays(like, *entries)[1:], axis=-1)


def _matrix(rows, like):
    """Rows of entries as a (..., n, m) matrix, stacked row by row (which XLA fuses better)."""
    return jnp.stack(jnp.broadcast_arrays(*(_stack(row, like) for row in rows)), axis=-2)
'''


@dataclass(frozen=True)
class GeneratedModule:
    """The generated source and the names of what its arrays hold, entry by entry."""

    source: str
    state_names: tuple[str, ...]
    parameter_names: tuple[str, ...]
    observed_names: tuple[str, ...]
    conserved_names: tuple[str, ...]
    has_initial: bool


class _Names:
    """Python names for the symbols of one model, and the lines that unpack them from arrays."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.of: dict[sp.Symbol, sp.Symbol] = {}
        self.unpack: dict[sp.Symbol, str] = {}

    def add(self, symbol: sp.Symbol, source: str, name: str | None = None) -> None:
        name = python_name(name or symbol.name, self.taken)
        self.of[symbol] = sp.Symbol(name)
        self.unpack[self.of[symbol]] = source


def _shared_subexpressions(exprs: list[sp.Expr]) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """SymPy's CSE, with one-operation temporaries (`-y`, `x*y`) put back inline for readability."""
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_t"), order="none")
    rename: dict[sp.Symbol, sp.Expr] = {}
    kept = []
    for symbol, expr in replacements:
        expr = expr.xreplace(rename)
        if sp.count_ops(expr) <= 1:
            rename[symbol] = expr
        else:
            rename[symbol] = sp.Symbol(f"_c{len(kept)}")
            kept.append((rename[symbol], expr))
    return kept, [e.xreplace(rename) for e in reduced]


def _function(
    name: str,
    arguments: str,
    doc: str,
    outputs: Sequence[sp.Expr] | Sequence[Sequence[sp.Expr]],
    names: _Names,
    like: str,
) -> str:
    is_matrix = bool(outputs) and isinstance(outputs[0], (list, tuple))
    flat = [e for row in outputs for e in row] if is_matrix else list(outputs)
    flat = [sp.sympify(e).xreplace(names.of) for e in flat]
    replacements, reduced = _shared_subexpressions(flat)
    used = set().union(*(e.free_symbols for e in reduced), *(e.free_symbols for _, e in replacements))
    printer = JaxPrinter()
    lines = [f"def {name}({arguments}):", f'    """{doc}"""']
    lines += [f"    {s.name} = {source}" for s, source in names.unpack.items() if s in used]
    lines += [f"    {s.name} = {printer.doprint(e)}" for s, e in replacements]
    entries = [printer.doprint(e) for e in reduced]
    if is_matrix:
        width = len(outputs[0])
        rows = [entries[i : i + width] for i in range(0, len(entries), width)]
        body = ",\n".join(f"        [{', '.join(row)}]" for row in rows)
        lines.append(f"    return _matrix([\n{body},\n    ], {like})")
    elif entries:
        lines.append(f"    return _stack([{', '.join(entries)}], {like})")
    else:
        lines.append(f"    return jnp.zeros({like}.shape + (0,), {like}.dtype)")
    return "\n".join(lines)


def generate_module(model: Model) -> GeneratedModule:
    """The JAX source of `model`'s first-order forms, generated once, constants substituted."""
    if model.is_pde:
        raise NotImplementedError(
            f"{model.name} is a PDE: lowering fields to grid arrays is not available yet. "
            "Its exact symbolic forms are: model.rhs() and model.jvp()."
        )
    defaults = model.defaults
    constants = {c.symbol: defaults[c.symbol] for c in model.constants}
    vector = model.state_vector
    coefficients = [p.symbol for p in model.parameters] + [u.symbol for u in model.unknowns]
    direction = model.direction()

    names = _Names()
    names.add(model.time, "_t")
    for i, symbol in enumerate(vector):
        names.add(symbol, f"_x[..., {i}]")
    for i, symbol in enumerate(coefficients):
        names.add(symbol, f"_p[..., {i}]")
    for i, (symbol, state) in enumerate(zip(direction, vector)):
        names.add(symbol, f"_v[..., {i}]", name="d_" + state.name)

    def exact(expr: sp.Expr) -> sp.Expr:
        return model.system.to_jets(sp.sympify(expr)).xreplace(constants)

    rhs = [exact(e) for e in model.rhs()]
    jacobian = sp.Matrix(rhs).jacobian(vector)
    jvp = [exact(e) for e in model.jvp()]
    observed = [exact(d.expression) for d in model.observed]
    conserved = [exact(d.expression) for d in model.conserved]
    initial = model.initial_state()

    state_list = ", ".join(s.name for s in vector)
    functions = [
        _function("rhs", "_t, _x, _p", f"D({state_list}) of {model.name}.", rhs, names, "_x[..., 0]"),
        _function(
            "jac",
            "_t, _x, _p",
            "The exact Jacobian of rhs, (..., n, n).",
            [list(jacobian.row(i)) for i in range(jacobian.rows)],
            names,
            "_x[..., 0]",
        ),
        _function(
            "jvp", "_t, _x, _p, _v", "The exact Jacobian of rhs times _v, without forming it.", jvp, names, "_x[..., 0]"
        ),
        _function("observed", "_t, _x, _p", "The @observed quantities.", observed, names, "_x[..., 0]"),
        _function("conserved", "_t, _x, _p", "The @conserved quantities.", conserved, names, "_x[..., 0]"),
    ]
    has_initial = all(value is not None for value in initial)
    if has_initial:
        values = [exact(value) for value in initial]
        functions.append(
            _function(
                "initial",
                "_p",
                "The initial state, from the parameters.",
                values,
                names,
                "jnp.zeros(_p.shape[:-1], _p.dtype)",
            )
        )

    body = "\n\n\n".join(functions)
    imports = "import jax.numpy as jnp\n" + ("import jax.scipy.special\n" if "jax.scipy" in body else "")
    source = "\n".join(
        [
            f'"""{model.name}, lowered by symdyn{f" from {model.filename}" if model.filename else ""}.',
            "",
            f"x = ({state_list})",
            f"p = ({', '.join(s.name for s in coefficients)})",
            '"""',
            "",
            imports + _HELPERS,
            "",
            body,
            "",
        ]
    )
    return GeneratedModule(
        source=source,
        state_names=tuple(s.name for s in vector),
        parameter_names=tuple(s.name for s in coefficients),
        observed_names=tuple(d.name for d in model.observed),
        conserved_names=tuple(d.name for d in model.conserved),
        has_initial=has_initial,
    )
