"""Generated JAX source: Python names for symbols, straight-line functions with shared subexpressions.

Used for a model's first-order forms (`generate_module`) and for other exact
expressions that need to run as JAX, such as S-MNN coefficient templates.
"""

from __future__ import annotations

import linecache
from collections.abc import Sequence
from typing import Any

import sympy as sp

from ._printer import JaxPrinter, python_name

HELPERS = '''

def _stack(entries, like):
    """The entries broadcast to the batch shape of `like` and stacked on a new last axis."""
    entries = [jnp.asarray(e, like.dtype) if isinstance(e, (int, float)) else e for e in entries]
    return jnp.stack(jnp.broadcast_arrays(like, *entries)[1:], axis=-1)


def _matrix(rows, like):
    """Rows of entries as a (..., n, m) matrix, stacked row by row (which XLA fuses better)."""
    return jnp.stack(jnp.broadcast_arrays(*(_stack(row, like) for row in rows)), axis=-2)


def _fields(entries, like, ndim):
    """The entries broadcast to the shape of `like` and stacked on a new axis before its last `ndim` (a grid)."""
    entries = [jnp.asarray(e, like.dtype) if isinstance(e, (int, float)) else e for e in entries]
    return jnp.stack(jnp.broadcast_arrays(like, *entries)[1:], axis=-ndim - 1)
'''


class SymbolTable:
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


def function_source(
    name: str,
    arguments: str,
    doc: str,
    outputs: Sequence[sp.Expr] | Sequence[Sequence[sp.Expr]],
    names: SymbolTable,
    like: str,
    stacker: str = "_stack",
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
        lines.append(f"    return {stacker}([{', '.join(entries)}], {like})")
    elif stacker == "_fields":
        grid_like, ndim = like.rsplit(", ", 1)
        lines.append(f"    return jnp.zeros(({grid_like}).shape[:-{ndim}] + (0,) + ({grid_like}).shape[-{ndim}:])")
    else:
        lines.append(f"    return jnp.zeros({like}.shape + (0,), {like}.dtype)")
    return "\n".join(lines)


def module_source(docstring: str, functions: Sequence[str]) -> str:
    """A module of generated functions, with its imports and the helpers they call."""
    body = "\n\n\n".join(functions)
    imports = "import jax.numpy as jnp\n" + ("import jax.scipy.special\n" if "jax.scipy" in body else "")
    return "\n".join([f'"""{docstring}"""', "", imports + HELPERS, "", body, ""])


def compile_module(source: str, name: str) -> dict[str, Any]:
    """The namespace of generated `source`, registered so that tracebacks show its lines."""
    filename = f"<symdyn {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)  # generated code, never user text
    return namespace
