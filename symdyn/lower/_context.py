"""What every generated module of one model shares: exact expressions, the names of t and p, its origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import sympy as sp

from ..model import Model
from ._source import SymbolTable


@dataclass(frozen=True, eq=False)
class LoweringContext:
    """A model made ready for code generation.

    Attributes:
        model: the model.
        constants: each @constants symbol and its exact value (substituted before printing).
        coefficients: the entries of the coefficient vector p: parameters, then unknowns.
    """

    model: Model
    constants: dict[sp.Symbol, sp.Expr]
    coefficients: tuple[sp.Symbol, ...]

    @classmethod
    def of(cls, model: Model) -> LoweringContext:
        defaults = model.defaults
        return cls(
            model=model,
            constants={c.symbol: defaults[c.symbol] for c in model.constants},
            coefficients=tuple(p.symbol for p in model.parameters) + tuple(u.symbol for u in model.unknowns),
        )

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.coefficients)

    def names(self) -> dict[str, Any]:
        """The names a lowered model carries: the model's, its states', its coefficients', its quantities'."""
        model = self.model
        return {
            "name": model.name,
            "state_names": tuple(s.name for s in model.state_vector),
            "parameter_names": self.parameter_names,
            "observed_names": tuple(d.name for d in model.observed),
            "conserved_names": tuple(d.name for d in model.conserved),
        }

    def exact(self, expr: Any) -> sp.Expr:
        """`expr` in the symbols of the first-order form (jets for derivatives), constants substituted."""
        return self.model.system.to_jets(sp.sympify(expr)).xreplace(self.constants)

    def symbol_table(self) -> SymbolTable:
        """Python names for t (`_t`) and the entries of p (`_p[..., i]`), to which a module adds its own."""
        names = SymbolTable()
        names.add(self.model.time, "_t")
        for i, symbol in enumerate(self.coefficients):
            names.add(symbol, f"_p[..., {i}]")
        return names

    def docstring(self, what: str) -> str:
        """The first lines of a generated module: the model, where it came from, and `what` the module holds."""
        origin = f" from {self.model.filename}" if self.model.filename else ""
        return f"{self.model.name}, lowered by symdyn{origin}.\n\n{what}\np = ({', '.join(self.parameter_names)})\n"

    def default_parameters(self, dtype: Any):
        """p at the model's defaults (unknowns at their guesses), or None when a parameter has no default."""
        values = self.model.parameter_values
        return None if any(v is None for v in values) else jnp.asarray([float(v) for v in values], dtype=dtype)
