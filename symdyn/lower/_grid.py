"""The grid of a PDE's domain and the spatial derivatives on it: spectral (FFT) or finite differences.

A `Domain` holds the coordinate arrays of a `@domain`: a periodic coordinate over
[a, b) has the points a + j (b - a)/n, a bounded one over [a, b] has n points with
both ends included. Derivatives act on arrays whose last axes are the grid:

- `SpectralDerivatives`: exact for band-limited fields on a fully periodic grid; ∂ⁿ multiplies
  mode k by (i k)ⁿ, and for odd n the Nyquist mode of an even-sized axis is zeroed
  (its derivative is not real).
- `StencilDerivatives(accuracy)`: central stencils of the given order of accuracy;
  on a bounded axis the rows near an end are one-sided with one point more, so the
  order holds up to the boundary. Weights are exact (Fornberg's algorithm in SymPy).

`GridCoupling` says which state entries an entry of the right-hand side can read (the
stencils' reach along each axis, all fields at a point), and colours the state so that a
Jacobian or a linear operator comes out of a few products instead of one per entry.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..model import Coordinate


@dataclass(frozen=True)
class Domain:
    """Points, spacing and wavenumbers of a rectangular domain."""

    names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    points: tuple[int, ...]
    periodic: tuple[bool, ...]

    @classmethod
    def of(cls, domain: tuple[Coordinate, ...], values: dict) -> Domain:
        def number(expr) -> float:
            return float(sp.sympify(expr).xreplace(values))

        return cls(
            tuple(c.name for c in domain),
            tuple(number(c.lower) for c in domain),
            tuple(number(c.upper) for c in domain),
            tuple(int(c.points) for c in domain),
            tuple(c.periodic for c in domain),
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return self.points

    @property
    def ndim(self) -> int:
        return len(self.points)

    @property
    def spacing(self) -> tuple[float, ...]:
        return tuple(
            (b - a) / (n if periodic else n - 1)
            for a, b, n, periodic in zip(self.lower, self.upper, self.points, self.periodic)
        )

    @property
    def axes(self) -> tuple[np.ndarray, ...]:
        """One coordinate array per dimension."""
        return tuple(a + h * np.arange(n) for a, h, n in zip(self.lower, self.spacing, self.points))

    def mesh(self) -> tuple[np.ndarray, ...]:
        """The coordinates at every point, each of the grid's shape."""
        return tuple(np.meshgrid(*self.axes, indexing="ij"))

    def quadrature_weights(self) -> np.ndarray:
        """Weights w with Σ w u ≈ ∫ u: the rectangle rule on periodic axes (spectrally accurate),
        the trapezoid rule on bounded ones."""
        weights = np.ones(())
        for h, n, periodic in zip(self.spacing, self.points, self.periodic):
            w = np.full(n, h)
            if not periodic:
                w[[0, -1]] = h / 2
            weights = np.multiply.outer(weights, w)
        return weights

    def wavenumbers(self) -> tuple[np.ndarray, ...]:
        """Angular wavenumbers of the `rfftn` modes, each shaped to broadcast over the spectral grid
        (full axes first, the last axis halved)."""
        if not all(self.periodic):
            raise ValueError("wavenumbers need a periodic domain")
        result = []
        for d, (h, n) in enumerate(zip(self.spacing, self.points)):
            last = d == self.ndim - 1
            k = 2 * np.pi * (np.fft.rfftfreq(n, h) if last else np.fft.fftfreq(n, h))
            shape = [1] * self.ndim
            shape[d] = k.size
            result.append(k.reshape(shape))
        return tuple(result)

    def spectral_shape(self) -> tuple[int, ...]:
        return (*self.points[:-1], self.points[-1] // 2 + 1)

    def nyquist(self, d: int) -> np.ndarray:
        """True at the Nyquist mode of axis d (none when its size is odd), shaped like `wavenumbers()[d]`."""
        n = self.points[d]
        count = n // 2 + 1 if d == self.ndim - 1 else n
        mask = np.zeros(count, bool)
        if n % 2 == 0:
            mask[n // 2] = True
        shape = [1] * self.ndim
        shape[d] = count
        return mask.reshape(shape)

    def to_modes(self, u):
        """`rfftn` over the grid axes (the last `ndim`)."""
        return jnp.fft.rfftn(u, axes=tuple(range(-self.ndim, 0)))

    def from_modes(self, modes):
        return jnp.fft.irfftn(modes, s=self.shape, axes=tuple(range(-self.ndim, 0)))

    def dealiased(self, modes):
        """The modes with those beyond two thirds of the largest wavenumber set to zero."""
        return jnp.where(self.dealias_mask(), modes, jnp.zeros((), modes.dtype))

    def dealias_mask(self) -> np.ndarray:
        """The 2/3 rule: keep modes with |k_d| < (2/3)·k_max,d on every axis."""
        keep = np.ones(self.spectral_shape(), bool)
        for k in self.wavenumbers():
            keep &= np.abs(k) < (2 / 3) * np.abs(k).max()
        return keep


def _entry(u, index: int, axis: int):
    """Entry `index` of `axis`: a static slice (`jnp.take` would guard the index with a select)."""
    return jax.lax.index_in_dim(u, index, axis, keepdims=False)


def complex_of(dtype) -> np.dtype:
    """The complex dtype of the precision of a real `dtype` (complex64 for float32, complex128 for float64)."""
    return np.dtype(np.complex128 if np.dtype(dtype) == np.float64 else np.complex64)


class AbstractDerivatives(abc.ABC):
    """A scheme for ∂ of arrays whose last `grid.ndim` axes are the grid."""

    grid: Domain

    @abc.abstractmethod
    def derivative(self, u: jnp.ndarray, counts: tuple[int, ...]) -> jnp.ndarray:
        """∂^counts u, `counts` the order along each axis."""

    @abc.abstractmethod
    def multiplier(self, counts: tuple[int, ...]) -> np.ndarray:
        """The derivative's Fourier multiplier on the `rfftn` modes (periodic grids only)."""

    @abc.abstractmethod
    def jets(self, u: jnp.ndarray, requests: tuple[tuple[int, tuple[int, ...]], ...]) -> list[jnp.ndarray]:
        """`(field, counts)` derivatives of `u` (..., n_fields, *grid), one array each."""

    @abc.abstractmethod
    def reach(self, d: int, order: int) -> int:
        """How many points from its own the widest row of ∂^order along axis d reads."""


@dataclass(frozen=True, eq=False)
class SpectralDerivatives(AbstractDerivatives):
    """Spectral derivatives through `rfftn` (every axis periodic)."""

    grid: Domain

    def __post_init__(self):
        if not all(self.grid.periodic):
            bounded = [n for n, p in zip(self.grid.names, self.grid.periodic) if not p]
            raise ValueError(
                f"spectral derivatives need a periodic domain; {', '.join(bounded)} is bounded: "
                "use derivatives='fd2' or 'fd4'"
            )

    def multiplier(self, counts: tuple[int, ...]) -> np.ndarray:
        result = np.ones(self.grid.spectral_shape(), complex)
        for d, (k, n) in enumerate(zip(self.grid.wavenumbers(), counts)):
            if n:
                factor = (1j * k) ** n
                if n % 2:
                    factor = np.where(self.grid.nyquist(d), 0, factor)
                result = result * factor
        return result

    def reach(self, d: int, order: int) -> int:
        return self.grid.points[d] - 1 if order else 0  # every point reads the whole axis

    def derivative(self, u: jnp.ndarray, counts: tuple[int, ...]) -> jnp.ndarray:
        modes = self.grid.to_modes(u)
        return self.grid.from_modes(modes * jnp.asarray(self.multiplier(counts), modes.dtype))

    def jets(self, u, requests):
        """One forward transform of all fields, one inverse transform of all derivatives; the fields themselves
        as they are."""
        derived = any(any(counts) for _, counts in requests)
        return self.jets_of_modes(self.grid.to_modes(u) if derived else None, requests, fields=u)

    def jets_of_modes(self, modes, requests, *, fields=None):
        """`jets` of the field whose `rfftn` modes are given: one inverse transform of all derivatives.

        With `fields`, the state itself, its fields (zero orders) are read from it instead of transformed back.
        """
        if not requests:
            return []
        field_axis = (modes if fields is None else fields).ndim - self.grid.ndim - 1
        if fields is not None:
            transformed = iter(self.jets_of_modes(modes, [r for r in requests if any(r[1])]))
            return [next(transformed) if any(c) else _entry(fields, f, field_axis) for f, c in requests]

        def derivative(field, counts):
            mode = _entry(modes, field, field_axis)
            return mode * jnp.asarray(self.multiplier(counts), modes.dtype) if any(counts) else mode

        stacked = jnp.stack([derivative(field, counts) for field, counts in requests], axis=field_axis)
        values = self.grid.from_modes(stacked)
        return [_entry(values, i, field_axis) for i in range(len(requests))]


def stencil_weights(order: int, offsets: tuple[int, ...]) -> tuple[float, ...]:
    """Exact weights of the `order`-th derivative at 0 from values at `offsets` (unit spacing)."""
    return tuple(float(w) for w in sp.finite_diff_weights(order, list(offsets), 0)[order][-1])


@dataclass(frozen=True, eq=False)
class StencilDerivatives(AbstractDerivatives):
    """Finite differences of order `accuracy` (2, 4, ...): central inside, one-sided at bounded ends."""

    grid: Domain
    accuracy: int = 2

    def __post_init__(self):
        if self.accuracy < 2 or self.accuracy % 2:
            raise ValueError(f"accuracy must be an even order (2, 4, ...), not {self.accuracy}")

    def _width(self, order: int) -> int:
        return 2 * ((order + 1) // 2) - 1 + self.accuracy

    def rows(self, d: int, order: int) -> tuple[np.ndarray, np.ndarray]:
        """Gather indices and weights `(n, w)` of ∂^order along bounded axis d (spacing included)."""
        n, h = self.grid.points[d], self.grid.spacing[d]
        width = self._width(order)
        if width + 1 > n:
            raise ValueError(f"{self.grid.names[d]} has {n} points; ∂^{order} needs at least {width + 1}")
        half = width // 2
        indices = np.zeros((n, width + 1), int)
        weights = np.zeros((n, width + 1))
        central = stencil_weights(order, tuple(range(-half, half + 1)))
        for i in range(n):
            if half <= i < n - half:
                indices[i, :width] = np.arange(i - half, i + half + 1)
                weights[i, :width] = central
            else:
                start = 0 if i < half else n - width - 1
                nodes = np.arange(start, start + width + 1)
                indices[i] = nodes
                weights[i] = stencil_weights(order, tuple(nodes - i))
        return indices, weights / h**order

    def reach(self, d: int, order: int) -> int:
        if not order:
            return 0
        width = self._width(order)
        return width // 2 if self.grid.periodic[d] else width  # a one-sided row reads `width` points on

    def derivative(self, u: jnp.ndarray, counts: tuple[int, ...]) -> jnp.ndarray:
        for d, order in enumerate(counts):
            if order:
                u = self._along(u, d, order)
        return u

    def jets(self, u, requests):
        axis = u.ndim - self.grid.ndim - 1
        return [self.derivative(_entry(u, field, axis), counts) for field, counts in requests]

    def _along(self, u, d: int, order: int):
        axis = u.ndim - self.grid.ndim + d
        h = self.grid.spacing[d]
        if self.grid.periodic[d]:
            half = self._width(order) // 2
            weights = stencil_weights(order, tuple(range(-half, half + 1)))
            terms = [w * jnp.roll(u, -j, axis=axis) for j, w in zip(range(-half, half + 1), weights) if w]
            return sum(terms[1:], terms[0]) / h**order
        indices, weights = self.rows(d, order)
        moved = jnp.moveaxis(u, axis, -1)
        result = jnp.sum(moved[..., indices] * weights.astype(moved.dtype), axis=-1)
        return jnp.moveaxis(result, -1, axis)

    def multiplier(self, counts: tuple[int, ...]) -> np.ndarray:
        """The stencil's symbol Σ w_j e^{i k j h} (a periodic grid's modified wavenumber)."""
        result = np.ones(self.grid.spectral_shape(), complex)
        for d, (k, order) in enumerate(zip(self.grid.wavenumbers(), counts)):
            if order:
                half = self._width(order) // 2
                h = self.grid.spacing[d]
                weights = stencil_weights(order, tuple(range(-half, half + 1)))
                symbol = sum(w * np.exp(1j * k * j * h) for j, w in zip(range(-half, half + 1), weights))
                result = result * symbol / h**order
        return result


def derivatives_named(name: str, grid: Domain) -> AbstractDerivatives:
    """`"spectral"`, `"fd2"`, `"fd4"`, ... (the finite-difference order after `fd`)."""
    if name == "spectral":
        return SpectralDerivatives(grid)
    if name.startswith("fd") and name[2:].isdigit():
        return StencilDerivatives(grid, int(name[2:]))
    raise ValueError(f"derivatives must be 'spectral' or 'fd2', 'fd4', ..., not {name!r}")


@dataclass(frozen=True)
class GridCoupling:
    """Which entries of a PDE state (`(fields, *shape)`, flattened) an entry of its right-hand side reads.

    Every field at a point may read every field at the points within `reach[d]` along each axis d
    (cyclically on periodic axes). Columns of one colour never meet in a row (Curtis, Powell &
    Reid 1974), so the matrix of a linear map with this coupling is recovered from its products
    with the `count` indicator vectors of the colours: entry (i, j) is product `colours[j]` at i.
    """

    fields: int
    shape: tuple[int, ...]
    reach: tuple[int, ...]
    periodic: tuple[bool, ...]

    @property
    def size(self) -> int:
        return self.fields * int(np.prod(self.shape))

    @property
    def banded(self) -> bool:
        """True without periodic axes: then, ordered point by point, the matrix is banded (`bandwidth`)."""
        return not any(self.periodic)

    @property
    def bandwidth(self) -> int:
        """The half-bandwidth with the state ordered point-major (`(*shape, fields)`), on bounded grids."""
        strides = np.cumprod((1, *self.shape[:0:-1]))[::-1]
        return int(sum(r * s for r, s in zip(self.reach, strides))) * self.fields + self.fields - 1

    @cached_property
    def _cycles(self) -> tuple[int, ...]:
        """Colours per axis: 2r + 1 (bounded), or the smallest divisor of n from 2r + 1 up (periodic, so that
        equal colours stay 2r + 1 apart across the seam); n when the whole axis is read."""
        cycles = []
        for n, r, periodic in zip(self.shape, self.reach, self.periodic):
            least = 2 * r + 1
            if least >= n:
                cycles.append(n)
            elif periodic:
                cycles.append(next(c for c in range(least, n + 1) if n % c == 0))
            else:
                cycles.append(least)
        return tuple(cycles)

    @property
    def count(self) -> int:
        return self.fields * int(np.prod(self._cycles))

    @cached_property
    def colours(self) -> np.ndarray:
        """The colour of each state entry, `(size,)` in the state's own (field-major) order."""
        index = np.indices((self.fields, *self.shape)).reshape(1 + len(self.shape), -1)
        colour = index[0]
        for axis, cycle in zip(index[1:], self._cycles):
            colour = colour * cycle + axis % cycle
        return colour

    def indicators(self, dtype) -> np.ndarray:
        """`(count, fields, *shape)`: one vector per colour, 1 on its entries."""
        return (
            (self.colours[None, :] == np.arange(self.count)[:, None])
            .astype(dtype)
            .reshape(self.count, self.fields, *self.shape)
        )

    def couples(self, rows, columns):
        """Whether entry `rows` may read entry `columns` (flattened indices, any broadcastable integer arrays)."""
        points = int(np.prod(self.shape))
        rows, columns = rows % points, columns % points
        near = True
        for d, (n, r, periodic) in enumerate(zip(self.shape, self.reach, self.periodic)):
            stride = int(np.prod(self.shape[d + 1 :]))
            distance = jnp.abs(rows // stride % n - columns // stride % n)
            if periodic:
                distance = jnp.minimum(distance, n - distance)
            near = near & (distance <= r)
        return near

    def dense(self, products):
        """The `(size, size)` matrix from its products with `indicators` (`(count, size)`)."""
        index = jnp.arange(self.size)
        values = jnp.take(products, jnp.asarray(self.colours), axis=0).T  # (row, column): product colour(column)
        return jnp.where(self.couples(index[:, None], index[None, :]), values, jnp.zeros((), products.dtype))
