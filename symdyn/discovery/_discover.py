"""`discover`: fit a template's unknowns, or a library's terms, to trajectories."""

from __future__ import annotations

import math
import os
import time
import warnings
from typing import Any

import jax
import numpy as np
import sympy as sp

from ..data import Trajectories
from ..model import Model, expression_to_text, load
from ._candidates import Candidates, FirstOrderEquation
from ._candidates import candidates as make_candidates
from ._library import PolynomialLibrary
from ._method import AbstractDiscoveryMethod
from ._regression import Fit, Regression, keeping_threshold
from ._result import Discovery, equation_text, found_model
from ._smnn import SMNN
from ._sparse import Sparse

METHODS = {method.name: method for method in (SMNN, Sparse)}
LIBRARY_THRESHOLD = 0.1


class DiscoveryWarning(UserWarning):
    """A discovered model that is probably not the one meant: an equation whose every term the threshold removed."""


def discover(
    template: Model | str | os.PathLike | PolynomialLibrary,
    data: Any,
    *,
    method: str | AbstractDiscoveryMethod = "smnn",
    threshold: float | None = None,
    key: jax.Array | None = None,
    progress: bool = True,
    digits: int = 8,
) -> Discovery:
    """Discover the coefficients of governing equations from trajectories.

    Args:
        template: a model with `@unknowns` (or its file), whose right-hand sides are
            fitted; or a candidate library such as `PolynomialLibrary(degree=2)`, whose
            terms are fitted and thresholded (the states are the data's).
        data: a `.npz` or `.csv` file, a mapping of arrays or `Trajectories`: `t` on a uniform
            grid and one array per state of the template's first-order form.
        method: "smnn" (S-MNN trajectory fitting, seed 004), "sparse" (SINDy), or an
            `SMNN(...)` / `Sparse(...)` with its settings.
        threshold: terms whose coefficients are smaller in magnitude are removed
            (sequential thresholding); by default 0.1 for a library, 0 (keep all) for a template.
            When it removes every term of an equation, a `DiscoveryWarning` says so and
            names a threshold that keeps some.
        key: the PRNG key that draws S-MNN's chunks (default `jax.random.PRNGKey(0)`).
        progress: show a progress bar.
        digits: significant digits of the numbers in the discovered model.

    Returns:
        A `Discovery`: the discovered `model`, its `equations` with standard errors (`print(found)`),
        the coefficient `table()`, `save(path)`.

    Raises:
        ValueError: bad data (missing states, non-uniform time, NaN) or settings.
        SymdynError: an invalid template file.

    Example:
        >>> found = symdyn.discover("examples/lorenz_template.sdyn", "lorenz.npz", method="sparse")
        >>> found.coefficients["a₃"]
        27.99...
    """
    started = time.perf_counter()
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(
                f"method must be one of {', '.join(map(repr, METHODS))} or an SMNN/Sparse instance, not {method!r}"
            )
        method = METHODS[method]()
    elif not isinstance(method, AbstractDiscoveryMethod):
        raise TypeError(f"method must be 'smnn', 'sparse', SMNN(...) or Sparse(...), not {type(method).__name__}")
    is_library = isinstance(template, PolynomialLibrary)
    if is_library:
        data = Trajectories.load(data)
        template = template.template(data.names)
    elif isinstance(template, (str, os.PathLike)):
        template = load(template)
    elif not isinstance(template, Model):
        raise TypeError(f"template must be a Model, a model file or a PolynomialLibrary, not {type(template).__name__}")
    fitted = make_candidates(template)
    data = Trajectories.load(data, fitted.state_names)
    threshold = (LIBRARY_THRESHOLD if is_library else 0.0) if threshold is None else float(threshold)
    if threshold < 0:
        raise ValueError(f"threshold must be non-negative, not {threshold}")
    key = jax.random.PRNGKey(0) if key is None else key
    regression, history = method.regression(fitted, data, key=key, progress=progress)
    fit = regression.fit(threshold)
    emptied = _emptied(fitted, regression, fit, threshold)
    for message in emptied:
        warnings.warn(message, DiscoveryWarning, stacklevel=2)
    return Discovery(
        model=found_model(fitted, fit, data, inline=is_library, digits=digits),
        unknowns=fitted.unknown_names,
        values=fit.values,
        standard_errors=fit.standard_errors,
        active=fit.active,
        terms=fitted.terms,
        equations=tuple(equation_text(e, fitted, fit) for e in fitted.equations if e.unknowns),
        warnings=emptied,
        library=is_library,
        loss_history=history.losses if history else np.zeros(0),
        seconds_per_step=history.seconds_per_step if history else math.nan,
        residual_rms=fit.residual_rms,
        description=method.describe() + (f"; {history.stop}" if history and history.stop else ""),
        seconds=time.perf_counter() - started,
    )


def _emptied(candidates: Candidates, regression: Regression, fit: Fit, threshold: float) -> tuple[str, ...]:
    """A warning for each equation whose every unknown the threshold removed, with a threshold that keeps some."""
    emptied = [e for e in candidates.equations if e.unknowns and not fit.active[list(e.unknowns)].any()]
    if not emptied:
        return ()
    unthresholded = regression.fit(0.0)
    messages = []
    for equation in emptied:
        largest = sorted(equation.unknowns, key=lambda j: -abs(unthresholded.values[j]))[:3]
        terms = ", ".join(_term(candidates, equation, j, unthresholded.values[j]) for j in largest)
        keeping, refit = keeping_threshold(regression, equation.unknowns, threshold, unthresholded)
        messages.append(
            f"the threshold {threshold:g} removed every term of D({equation.state}), whose largest terms without "
            f"a threshold are {terms}; a threshold of {keeping:g} keeps " + equation_text(equation, candidates, refit)
        )
    return tuple(messages)


def _term(candidates: Candidates, equation: FirstOrderEquation, unknown: int, value: float) -> str:
    """An unknown's term in an equation at `value`, to three digits (`0.1*x*y`)."""
    slope = sp.diff(equation.rhs, candidates.template.unknowns[unknown].symbol)
    return expression_to_text(sp.Float(float(f"{value:.3g}")) * slope)
