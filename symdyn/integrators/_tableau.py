"""Butcher tableaus in exact rationals, and the stability function R(z) they imply."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp


@dataclass(frozen=True, eq=False)
class ButcherTableau:
    """The coefficients `a` (s×s), `b` (s) and `c` (s) of an s-stage Runge-Kutta method, exact.

    Entries are anything SymPy takes exactly (ints, `sp.Rational`, `sp.sqrt(3)/6`).
    Checked on construction: shapes agree and each c_i is the row sum of a.
    """

    a: tuple[tuple, ...]
    b: tuple
    c: tuple

    def __post_init__(self) -> None:
        a, b, c = self.matrix_a, self.vector_b, self.vector_c
        s = len(self.b)
        if a.shape != (s, s) or c.shape != (s, 1):
            raise ValueError(f"a tableau of {s} stages needs a of shape ({s}, {s}) and c of length {s}")
        for i in range(s):
            if sp.simplify(sum(a.row(i)) - c[i]) != 0:
                raise ValueError(f"row {i} of a sums to {sum(a.row(i))}, but c[{i}] = {c[i]}")
        if sp.simplify(sum(b) - 1) != 0:
            raise ValueError(f"the weights b sum to {sum(b)}, not 1")

    @cached_property
    def matrix_a(self) -> sp.Matrix:
        return sp.Matrix([[sp.sympify(v) for v in row] for row in self.a])

    @cached_property
    def vector_b(self) -> sp.Matrix:
        return sp.Matrix([sp.sympify(v) for v in self.b])

    @cached_property
    def vector_c(self) -> sp.Matrix:
        return sp.Matrix([sp.sympify(v) for v in self.c])

    @property
    def stages(self) -> int:
        return len(self.b)

    @property
    def explicit(self) -> bool:
        """True when a is strictly lower triangular: each stage uses only earlier ones."""
        a = self.matrix_a
        return all(a[i, j] == 0 for i in range(self.stages) for j in range(i, self.stages))

    @cached_property
    def numeric(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`a`, `b`, `c` as float64 arrays (compile-time constants of a step)."""

        def to_array(matrix: sp.Matrix) -> np.ndarray:
            return np.array(matrix.evalf(20).tolist(), dtype=np.float64)

        return to_array(self.matrix_a), to_array(self.vector_b).ravel(), to_array(self.vector_c).ravel()

    def stability_function(self, z: sp.Symbol | None = None) -> sp.Expr:
        """R(z) = 1 + z bᵀ (I − zA)⁻¹ 1, exactly: x_{n+1} = R(hλ) x_n for x' = λx.

        Written as det(I − zA + z 1 bᵀ) / det(I − zA), a polynomial for explicit methods.
        """
        z = sp.Symbol("z") if z is None else z
        s = self.stages
        identity, ones = sp.eye(s), sp.ones(s, 1)
        numerator = (identity - z * self.matrix_a + z * ones * self.vector_b.T).det(method="berkowitz")
        denominator = (identity - z * self.matrix_a).det(method="berkowitz")
        return sp.cancel(sp.expand(numerator) / sp.expand(denominator))
