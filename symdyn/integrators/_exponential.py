"""Methods for stiff PDEs that treat the linear part exactly (exponential) or implicitly (IMEX).

They step u' = L u + N(t, u), L the linear constant-coefficient part of a lowered PDE:
exponential time differencing (Cox & Matthews 2002) integrates L exactly, IMEX methods
implicitly, and both take N explicitly. Each step is written once, against a basis
(`AbstractSplitBasis`) in which a step's coefficients are operators:

- `FourierBasis` (periodic domains): the `rfftn` modes, where L is diagonal and every
  coefficient is a multiplier. The φ-functions are means over a circle of radius 1
  around each h·L (Kassam & Trefethen 2005), which avoids the cancellation of their
  closed forms near 0. The means stay complex: for a dispersive L (KdV's ∂x³, purely
  imaginary) keeping only their real part would make the schemes first order.
- `GridBasis` (bounded domains): the flattened grid state, where L is the matrix of the
  rhs's own stencils and homogeneous boundary conditions, and N = rhs − L u holds the
  nonlinear terms and the inhomogeneous boundary data. φ-functions of h·L are dense
  matrices, by Taylor series at h·L/2^s and s modified squarings (Skaflestad & Wright
  2009): L is never inverted (a Neumann Laplacian is singular). The IMEX resolvents are
  banded LU factorisations (`BlockTridiagonal`), so IMEX methods run on grids of any
  size, while ETD's dense matrices limit it to `DENSE_SPLIT_LIMIT` state entries.

Applied to u' = λu with λ in the linear part, ETD methods are exact (R = e^z) and
the IMEX methods have the R of their implicit half; with λ in N they reduce to
explicit Runge-Kutta methods (`explicit_stability_function`).
"""

import abc
import math
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import sympy as sp

from .._results import RESULTS
from ._field import AbstractVectorField, PDEVectorField
from ._integrator import AbstractOneStepIntegrator, Z
from ._newton import colour_products, shifted_banded

CONTOUR_POINTS = 32
# ETD on a bounded grid keeps dense n×n coefficients (6 for ETDRK4) and computes them in O(n³): 0.2 s and
# 50 MB at 1024 entries, 1.4 s and 200 MB at 2048 (2-core CPU, float64); a 64×64 grid would take minutes
DENSE_SPLIT_LIMIT = 2048
MAX_SQUARINGS = 64  # ‖hL‖ up to 2⁶³: fourth derivatives on fine grids reach 1e10
TAYLOR_THETA = 0.5  # Taylor series at ‖hL/2^s‖₁ ≤ 1/2: the remainder of 16 terms is below 2e-18 (10: 6e-10)


def contour_mean(function, z: jax.Array, points: int = CONTOUR_POINTS) -> jax.Array:
    """The mean of `function` over the circle of radius 1 around each entry of the complex `z`."""
    angles = 2 * jnp.pi * (jnp.arange(points, dtype=jnp.finfo(z.dtype).dtype) + 0.5) / points
    circle = jnp.exp(1j * angles.astype(z.dtype))
    return jnp.mean(function(z[..., None] + circle), axis=-1)


def matrix_phi(a: jax.Array, k: int) -> tuple[jax.Array, ...]:
    """φ_0(A) = e^A, φ_1(A), ..., φ_k(A) of a square matrix, φ_j(z) = Σ_i z^i/(i + j)!.

    Scaling and modified squaring (Skaflestad & Wright 2009): a Taylor series at B = A/2^s with
    ‖B‖₁ ≤ 1/2, then s doublings φ_j(2B) = 2^{-j} [e^B φ_j(B) + Σ_{i=1..j} φ_i(B)/(j − i)!].
    No inverse of A is formed, so a singular A (a Neumann Laplacian) is fine.
    """
    dtype = a.dtype
    terms = 16 if dtype == jnp.float64 else 10
    identity = jnp.eye(a.shape[-1], dtype=dtype)
    norm = jnp.max(jnp.sum(jnp.abs(a), axis=-2))
    squarings = jnp.clip(jnp.ceil(jnp.log2(norm / TAYLOR_THETA)), 0, MAX_SQUARINGS).astype(jnp.int32)
    b = jnp.ldexp(a, -squarings)
    power, phis = identity, [jnp.zeros_like(a) for _ in range(k + 1)]
    for i in range(terms):
        phis = [phi + power / math.factorial(i + j) for j, phi in enumerate(phis)]
        power = power @ b

    def double(phis):
        exponential = phis[0]
        return [exponential @ exponential] + [
            (exponential @ phis[j] + sum(phis[i] / math.factorial(j - i) for i in range(1, j + 1))) / 2**j
            for j in range(1, k + 1)
        ]

    def square(phis, i):
        return jax.lax.cond(i < squarings, double, lambda x: list(x), phis), None

    phis, _ = jax.lax.scan(square, phis, jnp.arange(MAX_SQUARINGS, dtype=jnp.int32))
    return tuple(phis)


class AbstractSplitBasis(eqx.Module):
    """Where a split method steps u' = L u + N(t, u): the basis, N in it, and functions of h·L as operators.

    `phi(h, k)` gives (e^{hL}, h φ₁(hL), ..., h φ_k(hL)), `shifted(h)` I + hL, `resolvent(h)` (I − hL)⁻¹
    factorised; `apply` (the first two kinds) and `solve` use them on a vector of the basis. Coefficients
    of the `phi` kind combine linearly.
    """

    field: eqx.AbstractVar[PDEVectorField]

    @abc.abstractmethod
    def to_basis(self, x: jax.Array) -> jax.Array: ...

    @abc.abstractmethod
    def from_basis(self, v: jax.Array, like: jax.Array) -> jax.Array:
        """The state (`like`'s shape and dtype) of `v`."""

    @abc.abstractmethod
    def nonlinear(self, t: Any, v: jax.Array, x: jax.Array | None = None) -> jax.Array:
        """N(t, u) in the basis, from u in it (and from the state `x` itself, when at hand: a transform saved)."""

    @abc.abstractmethod
    def phi(self, h: Any, k: int) -> tuple[jax.Array, ...]: ...

    @abc.abstractmethod
    def shifted(self, h: Any) -> Any: ...

    @abc.abstractmethod
    def resolvent(self, h: Any) -> Any: ...

    @abc.abstractmethod
    def apply(self, coefficient: jax.Array, v: jax.Array) -> jax.Array: ...

    @abc.abstractmethod
    def solve(self, resolvent: Any, v: jax.Array) -> jax.Array: ...


class FourierBasis(AbstractSplitBasis):
    """The `rfftn` modes of a periodic grid: L is its multiplier, a coefficient multiplies each mode."""

    field: PDEVectorField

    def to_basis(self, x):
        return self.field.to_modes(x)

    def from_basis(self, v, like):
        return self.field.from_modes(v).astype(like.dtype)

    def nonlinear(self, t, v, x=None):
        return self.field.nonlinear_of_modes(t, v, x)

    def _z(self, h):
        linear = self.field.linear()
        h = jnp.asarray(h).astype(linear.dtype)  # the coefficients live on the complex modes
        return h * linear, h

    def phi(self, h, k):
        z, h = self._z(h)
        return (jnp.exp(z), *(h * phi for phi in contour_mean(lambda w: jnp.stack(_phi_closed_forms(w, k)), z)))

    def shifted(self, h):
        z, _ = self._z(h)
        return 1 + z

    def resolvent(self, h):
        z, _ = self._z(h)
        return 1 / (1 - z)

    def apply(self, coefficient, v):
        return coefficient * v

    def solve(self, resolvent, v):
        return resolvent * v


def _phi_closed_forms(w, k: int) -> list:
    """φ_1(w), ..., φ_k(w), φ_j(w) = (e^w − Σ_{i<j} w^i/i!)/w^j, for w away from 0 (the contour's points).

    By the recurrence φ_j = (φ_{j−1} − 1/(j−1)!)/w from φ_0 = e^w: one exponential and k divisions, where
    the powers w^i of complex w would cost a logarithm and an exponential each.
    """
    phis = [jnp.exp(w)]
    for j in range(1, k + 1):
        phis.append((phis[-1] - 1 / math.factorial(j - 1)) / w)
    return phis[1:]


class _DenseFactors(eqx.Module):
    """LU of a dense matrix; `solve` as `BlockTridiagonal.solve` does (for grids with a periodic axis)."""

    factors: tuple[jax.Array, jax.Array]

    def solve(self, v):
        return jsl.lu_solve(self.factors, v.ravel()).reshape(v.shape)


class _Shifted(eqx.Module):
    """I + hL on the flattened grid state, applied through the stencils (`@`), without a matrix."""

    field: PDEVectorField
    h: jax.Array

    def __matmul__(self, v):
        shape = self.field.model.state_shape
        return v + self.h.astype(v.dtype) * self.field.linear_operator(v.reshape(shape)).ravel()


class GridBasis(AbstractSplitBasis):
    """The flattened state of a bounded grid: L is the matrix of the rhs's stencils and boundary treatment.

    φ-coefficients are dense `(size, size)` matrices; the resolvent is banded (block LU) when no axis is
    periodic, dense otherwise.
    """

    field: PDEVectorField

    def to_basis(self, x):
        return x.ravel()

    def from_basis(self, v, like):
        return v.reshape(like.shape).astype(like.dtype)

    def nonlinear(self, t, v, x=None):
        shape = self.field.model.state_shape
        return self.field.nonlinear(t, v.reshape(shape)).ravel()

    def phi(self, h, k):
        matrix = self.field.linear_matrix()
        h = jnp.asarray(h).astype(matrix.dtype)
        exponential, *rest = matrix_phi(h * matrix, k)
        return (exponential, *(h * phi for phi in rest))

    def shifted(self, h):
        return _Shifted(self.field, jnp.asarray(h).astype(self.field.p.dtype))

    def resolvent(self, h):
        coupling, shape = self.field.coupling, self.field.model.state_shape
        dtype = self.field.p.dtype
        h = jnp.asarray(h).astype(dtype)
        if not coupling.banded:
            matrix = self.field.linear_matrix()
            return _DenseFactors(jsl.lu_factor(jnp.eye(matrix.shape[0], dtype=dtype) - h * matrix))
        products = colour_products(coupling, self.field.linear_operator, shape, dtype)
        return shifted_banded(coupling, h.reshape(1, 1), products[None])

    def apply(self, coefficient, v):
        return coefficient @ v

    def solve(self, resolvent, v):
        return resolvent.solve(v.reshape(1, *self.field.model.state_shape)).ravel()


def split_basis(field: AbstractVectorField, method: str) -> AbstractSplitBasis:
    """The basis a split method steps `field` in: Fourier modes on a periodic grid, the grid state otherwise."""
    if not isinstance(field, PDEVectorField):
        raise TypeError(
            f"{method} steps a PDE split into a linear and a nonlinear part (u' = L u + N(t, u)): pass a lowered "
            "PDE model; for an ODE or a callable use an explicit or implicit Runge-Kutta method (rk4, implicit_euler)"
        )
    return FourierBasis(field) if field.periodic else GridBasis(field)


class AbstractSplitIntegrator(AbstractOneStepIntegrator):
    """A method for u' = L u + N(t, u) on a PDE's grid; the state is carried in physical space.

    `coefficients(basis, h)` builds what every step reuses from `basis.phi` and `basis.resolvent`; `step`
    goes to the basis and back once per step.
    """

    dense_coefficients: ClassVar[bool] = False  # ETD: its φ's are dense matrices on a bounded grid

    def prepare(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any) -> tuple:
        basis = self.check(field)
        return self.coefficients(basis, h)

    def check(self, field: AbstractVectorField) -> AbstractSplitBasis:
        """The basis this method steps `field` in; raises when it cannot step it (saying what to do instead)."""
        basis = split_basis(field, self.name)
        size = field.coupling.size
        if self.dense_coefficients and isinstance(basis, GridBasis) and size > DENSE_SPLIT_LIMIT:
            raise ValueError(
                f"{self.name} on {field.model.name}'s bounded grid: its coefficients are dense matrices over the "
                f"{size} state entries (at most {DENSE_SPLIT_LIMIT}); use imex_euler or imex_trapezoid (banded "
                "solves), implicit_euler, or rk4 with a step that `symdyn stability` calls stable"
            )
        return basis

    @abc.abstractmethod
    def coefficients(self, basis: AbstractSplitBasis, h: Any) -> tuple:
        """What every step reuses: functions of h·L in `basis`."""

    @abc.abstractmethod
    def explicit_stability_function(self) -> sp.Expr:
        """R(z) of the method when all of the right-hand side is in N (L = 0)."""


class AbstractExponentialIntegrator(AbstractSplitIntegrator):
    """Exponential time differencing: e^{hL} and h φ_j(hL) as coefficients (Cox & Matthews 2002)."""

    dense_coefficients: ClassVar[bool] = True

    def stability_function(self) -> sp.Expr:
        return sp.exp(Z)


class Etd1(AbstractExponentialIntegrator):
    """Exponential Euler (ETD1, Cox & Matthews eq. 4): u ← e^{hL} u + h φ₁(hL) N. Order 1."""

    name = "etd1"
    order = 1

    def coefficients(self, basis, h):
        return basis.phi(h, 1)

    def step(self, field, t, x, state, h):
        exponential, phi1 = state
        basis = split_basis(field, self.name)
        v = basis.to_basis(x)
        new = basis.apply(exponential, v) + basis.apply(phi1, basis.nonlinear(t, v, x))
        return basis.from_basis(new, x), state, RESULTS.successful

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z


class Etd2(AbstractExponentialIntegrator):
    """ETD2RK (Cox & Matthews eq. 22): exponential Euler, then a correction with φ₂. Order 2, one step."""

    name = "etd2"
    order = 2

    def coefficients(self, basis, h):
        return basis.phi(h, 2)

    def step(self, field, t, x, state, h):
        exponential, phi1, phi2 = state
        basis = split_basis(field, self.name)
        v = basis.to_basis(x)
        n0 = basis.nonlinear(t, v, x)
        a = basis.apply(exponential, v) + basis.apply(phi1, n0)
        new = a + basis.apply(phi2, basis.nonlinear(t + h, a) - n0)
        return basis.from_basis(new, x), state, RESULTS.successful

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z + Z**2 / 2


class Etdrk4(AbstractExponentialIntegrator):
    """ETDRK4 of Cox & Matthews (eqs. 26-29). Order 4.

    Its weights in φ-functions: f₁ = h(φ₁ − 3φ₂ + 4φ₃), f₂ = h(φ₂ − 2φ₃), f₃ = h(4φ₃ − φ₂) of hL, and
    e^{hL/2}, h/2 φ₁(hL/2) for the half steps.
    """

    name = "etdrk4"
    order = 4

    def coefficients(self, basis, h):
        exponential, phi1, phi2, phi3 = basis.phi(h, 3)
        half, q = basis.phi(h / 2, 1)
        return exponential, half, q, phi1 - 3 * phi2 + 4 * phi3, phi2 - 2 * phi3, 4 * phi3 - phi2

    def step(self, field, t, x, state, h):
        exponential, half, q, f1, f2, f3 = state
        basis = split_basis(field, self.name)
        v = basis.to_basis(x)
        nv = basis.nonlinear(t, v, x)
        half_v = basis.apply(half, v)
        a = half_v + basis.apply(q, nv)
        na = basis.nonlinear(t + h / 2, a)
        b = half_v + basis.apply(q, na)
        nb = basis.nonlinear(t + h / 2, b)
        c = basis.apply(half, a) + basis.apply(q, 2 * nb - nv)
        nc = basis.nonlinear(t + h, c)
        new = basis.apply(exponential, v) + basis.apply(f1, nv) + 2 * basis.apply(f2, na + nb) + basis.apply(f3, nc)
        return basis.from_basis(new, x), state, RESULTS.successful

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z + Z**2 / 2 + Z**3 / 6 + Z**4 / 24


class ImexEuler(AbstractSplitIntegrator):
    """IMEX Euler (SBDF1): (1 − hL) u_{n+1} = u_n + h N(t_n, u_n). Order 1."""

    name = "imex_euler"
    order = 1

    def coefficients(self, basis, h):
        return (basis.resolvent(h),)

    def step(self, field, t, x, state, h):
        (resolvent,) = state
        basis = split_basis(field, self.name)
        v = basis.to_basis(x)
        new = basis.solve(resolvent, v + jnp.asarray(h).astype(v.dtype) * basis.nonlinear(t, v, x))
        return basis.from_basis(new, x), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return 1 / (1 - Z)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z


class ImexTrapezoid(AbstractSplitIntegrator):
    """Crank-Nicolson for L with Heun's method for N (an IMEX Runge-Kutta pair). Order 2.

    u* = (1 − hL/2)⁻¹[(1 + hL/2) u + h N(t, u)],
    u_{n+1} = (1 − hL/2)⁻¹[(1 + hL/2) u + h/2 (N(t, u) + N(t + h, u*))].
    """

    name = "imex_trapezoid"
    order = 2

    def coefficients(self, basis, h):
        return basis.shifted(h / 2), basis.resolvent(h / 2)

    def step(self, field, t, x, state, h):
        shifted, resolvent = state
        basis = split_basis(field, self.name)
        v = basis.to_basis(x)
        step = jnp.asarray(h).astype(v.dtype)
        explicit = basis.apply(shifted, v)
        n0 = basis.nonlinear(t, v, x)
        predicted = basis.solve(resolvent, explicit + step * n0)
        new = basis.solve(resolvent, explicit + (step / 2) * (n0 + basis.nonlinear(t + h, predicted)))
        return basis.from_basis(new, x), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return (1 + Z / 2) / (1 - Z / 2)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z + Z**2 / 2
