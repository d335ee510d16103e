"""SymPy expressions as readable `jax.numpy` source, and Python names for model symbols."""

from __future__ import annotations

import keyword

import sympy as sp

from ..model import SymdynPrinter, ascii_name

_JNP_FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh",
    "exp": "exp", "log": "log", "sign": "sign", "Abs": "abs",
}  # fmt: skip
_RECIPROCALS = {"sec": "cos", "csc": "sin", "cot": "tan", "sech": "cosh", "csch": "sinh", "coth": "tanh"}


class JaxPrinter(SymdynPrinter):
    """Prints `jnp.sin(x)`, `x**2`, `1/x`; every constant stays a Python scalar (weakly typed)."""

    power, sqrt, pi, e = "**", "jnp.sqrt", "jnp.pi", "jnp.e"

    def _print_Function(self, expr: sp.Function) -> str:
        name = expr.func.__name__
        arguments = ", ".join(self._print(a) for a in expr.args)
        if name in _JNP_FUNCTIONS:
            return f"jnp.{_JNP_FUNCTIONS[name]}({arguments})"
        if name in _RECIPROCALS:
            return f"1/jnp.{_RECIPROCALS[name]}({arguments})"
        if name == "erf":
            return f"jax.scipy.special.erf({arguments})"
        if name == "Heaviside":
            return f"jnp.heaviside({self._print(expr.args[0])}, 0.5)"
        if name == "DiracDelta":  # the derivative of sign and Heaviside, zero almost everywhere
            return f"jnp.zeros_like({self._print(expr.args[0])})"
        if name in ("Min", "Max"):
            reduce = "jnp.minimum" if name == "Min" else "jnp.maximum"
            text = self._print(expr.args[0])
            for argument in expr.args[1:]:
                text = f"{reduce}({text}, {self._print(argument)})"
            return text
        raise NotImplementedError(f"symdyn cannot lower the function {name} to JAX")

    _print_Abs = _print_Min = _print_Max = _print_Function

    def _print_Derivative(self, expr):
        raise NotImplementedError("derivatives are replaced by jet symbols before lowering")


def python_name(name: str, taken: set[str]) -> str:
    """An ASCII Python identifier for a model name (`σ₁` -> `sigma1`), distinct from those in `taken`."""
    candidate = ascii_name(name, subscript="")
    if not candidate.isidentifier() or keyword.iskeyword(candidate) or candidate in ("jnp", "jax"):
        candidate = "v_" + candidate
    unique, count = candidate, 2
    while unique in taken:
        unique, count = f"{candidate}_{count}", count + 1
    taken.add(unique)
    return unique
