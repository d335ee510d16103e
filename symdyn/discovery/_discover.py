"""`discover`: fit a template's unknowns, or a library's terms, to trajectories."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import jax
import numpy as np

from ..data import Trajectories
from ..model import Model, load
from ._candidates import candidates as make_candidates
from ._library import PolynomialLibrary
from ._method import AbstractDiscoveryMethod
from ._result import Discovery, found_model
from ._smnn import SMNN
from ._sparse import Sparse

METHODS = {method.name: method for method in (SMNN, Sparse)}
LIBRARY_THRESHOLD = 0.1


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
        key: the PRNG key that draws S-MNN's chunks (default `jax.random.PRNGKey(0)`).
        progress: show a progress bar.
        digits: significant digits of the numbers in the discovered model.

    Returns:
        A `Discovery`: the discovered `model`, the coefficient `table()`, `save(path)`.

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
    fit, history = method.fit(fitted, data, threshold=threshold, key=key, progress=progress)
    return Discovery(
        model=found_model(fitted, fit, data, inline=is_library, digits=digits),
        unknowns=fitted.unknown_names,
        values=fit.values,
        standard_errors=fit.standard_errors,
        active=fit.active,
        terms=fitted.terms,
        loss_history=history.losses if history else np.zeros(0),
        seconds_per_step=history.seconds_per_step if history else math.nan,
        residual_rms=fit.residual_rms,
        description=method.describe(),
        seconds=time.perf_counter() - started,
    )
