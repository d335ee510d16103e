"""`discover`: fit a template's unknowns, or a library's terms, to trajectories."""

from __future__ import annotations

import dataclasses
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
from ._library import AbstractLibrary
from ._method import AbstractDiscoveryMethod
from ._optimizers import STLSQ, AbstractOptimizer
from ._regression import Ensemble, Fit, LeastSquares, Regression, keeping_threshold
from ._result import Discovery, equation_text, found_model
from ._smnn import SMNN
from ._sparse import Sparse
from ._weak import WeakForm

METHODS = {method.name: method for method in (SMNN, Sparse, WeakForm)}


class DiscoveryWarning(UserWarning):
    """A discovered model that is probably not the one meant: an equation whose every term the threshold removed,
    or terms collinear on the data given."""


def discover(
    template: Model | str | os.PathLike | AbstractLibrary,
    data: Any,
    *,
    method: str | AbstractDiscoveryMethod = "smnn",
    threshold: float | str | None = None,
    optimizer: AbstractOptimizer | None = None,
    ensemble: Ensemble | None = None,
    key: jax.Array | None = None,
    progress: bool = True,
    digits: int = 8,
    inputs: tuple[str, ...] | None = None,
) -> Discovery:
    """Discover the coefficients of governing equations from trajectories or fields.

    Args:
        template: a model with `@unknowns` (or its file), whose right-hand sides are
            fitted; or a candidate library such as `PolynomialLibrary(3)`, `FourierLibrary(2)`,
            `CustomLibrary(("sin(x)", "x*y"))`, their sums and products, or for field data
            `PolynomialLibrary(2) + PolynomialLibrary(2) * DerivativeLibrary(4)`; its terms are
            fitted and the small ones removed (the states, and a PDE's domain, are the data's).
        data: a `.npz` or `.csv` file, a mapping of arrays or `Trajectories`: `t` on a uniform
            grid and one array per state of the template's first-order form (fields from
            `symdyn simulate` for a PDE).
        method: "smnn" (S-MNN trajectory fitting, seed 004), "sparse" (SINDy), "weak" (weak
            SINDy, for noisy data), or `SMNN(...)`, `Sparse(...)`, `WeakForm(...)` with settings.
        threshold: terms whose coefficients are smaller in magnitude are removed (sequential
            thresholding, on the coefficients as fitted). "auto" chooses, for each equation, the
            sparsest model whose error on held-out segments of the data is within 10 % of the best
            (`Discovery.pareto` lists what it tried). By default "auto" for a library, 0 (keep
            all) for a template. When an equation loses every term a `DiscoveryWarning` says so
            and names a threshold that keeps some.
        optimizer: `STLSQ(threshold, alpha, normalize)` (ridge-regularized thresholding; `normalize`
            compares the terms' contributions instead of raw coefficients), `SR3(...)` or
            `BestSubset(terms)`; with `threshold="auto"` its setting is chosen on held-out data.
        ensemble: `Ensemble(members, ...)`: fit resamples of the data and of the terms, keep the terms
            most members keep, and give each coefficient its inclusion probability and spread.
        key: the PRNG key that draws S-MNN's chunks and the ensemble's resamples (default `jax.random.PRNGKey(0)`).
        progress: show a progress bar.
        digits: significant digits of the numbers in the discovered model.
        inputs: the data's columns that hold control or forcing inputs, for a library (by default those a
            `symdyn simulate` file names); the library's terms range over the states and these, and the
            discovered model declares them as @inputs. A template names its own with @inputs.

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
    method = _method(method)
    is_library = isinstance(template, AbstractLibrary)
    if is_library:
        data = Trajectories.load(data, inputs=inputs)
        template = template.template(data)
    elif isinstance(template, (str, os.PathLike)):
        template = load(template)
    elif not isinstance(template, Model):
        raise TypeError(f"template must be a Model, a model file or a library, not {type(template).__name__}")
    elif inputs is not None:
        raise ValueError(f"inputs name a library's input columns; the template {template.name} declares its own")
    fitted = make_candidates(template)
    data = _with_input_columns(Trajectories.load(data, fitted.state_names, inputs=fitted.input_names))
    setting, auto = _setting(threshold, optimizer, is_library)
    key = jax.random.PRNGKey(0) if key is None else key
    regression, history = method.regression(fitted, data, key=key, progress=progress)
    front = ()
    if auto:
        setting, front = regression.select(setting)
    fit = regression.fit(setting)
    if ensemble is not None:
        fit = regression.ensemble(setting, ensemble, seed=int(jax.random.randint(key, (), 0, 2**31 - 1)))
    messages = (*_emptied(fitted, regression, fit, setting), *_collinear(fitted, regression))
    for message in messages:
        warnings.warn(message, DiscoveryWarning, stacklevel=2)
    return Discovery(
        model=found_model(fitted, fit, data, inline=is_library, digits=digits),
        unknowns=fitted.unknown_names,
        values=fit.values,
        standard_errors=fit.standard_errors,
        active=fit.active,
        terms=fitted.terms,
        equations=tuple(equation_text(e, fitted, fit) for e in fitted.equations if e.unknowns),
        warnings=messages,
        library=is_library,
        loss_history=history.losses if history else np.zeros(0),
        seconds_per_step=history.seconds_per_step if history else math.nan,
        residual_rms=fit.residual_rms,
        description=method.describe() + _describe(setting, auto, ensemble, history),
        seconds=time.perf_counter() - started,
        inclusion=fit.inclusion,
        pareto=tuple(front),
    )


def _with_input_columns(data: Trajectories) -> Trajectories:
    """The data with the input signals as columns after the states, where the candidate terms look for them."""
    if not data.inputs:
        return data
    columns = np.stack(list(data.inputs.values()), axis=-1)
    return dataclasses.replace(
        data, states=np.concatenate([data.states, columns], axis=-1), names=data.names + tuple(data.inputs)
    )


def _method(method) -> AbstractDiscoveryMethod:
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(
                f"method must be one of {', '.join(map(repr, METHODS))} or an SMNN/Sparse/WeakForm instance, "
                f"not {method!r}"
            )
        return METHODS[method]()
    if not isinstance(method, AbstractDiscoveryMethod):
        raise TypeError(f"method must be {', '.join(map(repr, METHODS))} or an instance, not {type(method).__name__}")
    return method


def _setting(threshold, optimizer, is_library: bool):
    """(what to fit with, whether to choose its setting on held-out data)."""
    if optimizer is not None and not isinstance(optimizer, AbstractOptimizer):
        raise TypeError(f"optimizer must be STLSQ(...), SR3(...) or BestSubset(...), not {type(optimizer).__name__}")
    if threshold is None:
        threshold = None if optimizer else ("auto" if is_library else 0.0)
    if isinstance(threshold, str):
        if threshold != "auto":
            raise ValueError(f"threshold must be a number or 'auto', not {threshold!r}")
        return optimizer or STLSQ(normalize=True), True
    if optimizer is not None:
        if threshold is not None:
            raise ValueError("give the threshold inside the optimizer (STLSQ(threshold=...)), or threshold='auto'")
        return optimizer, False
    if not threshold >= 0:
        raise ValueError(f"threshold must be non-negative, not {threshold}")
    return float(threshold), False


def _describe(setting, auto: bool, ensemble: Ensemble | None, history) -> str:
    parts = []
    if isinstance(setting, (list, tuple)):
        chosen = ", ".join(s.setting() for s in setting)
        parts.append(f"{type(setting[0]).__name__} chosen on held-out segments ({chosen})")
    elif isinstance(setting, AbstractOptimizer):
        parts.append(repr(setting))
    if ensemble is not None:
        parts.append(f"ensemble of {ensemble.members}")
    if history and history.stop:
        parts.append(history.stop)
    return "".join(f"; {p}" for p in parts)


def _collinear(candidates: Candidates, regression: Regression) -> tuple[str, ...]:
    """A warning for each group of terms that are (nearly) linearly dependent on the data given."""
    if not isinstance(regression, LeastSquares):
        return ()
    messages = []
    for relation in regression.collinear():
        j0 = relation[0][0]
        equation = next(e for e in candidates.equations if j0 in e.unknowns)
        combination = " + ".join(f"{c:.3g}·{_slope(candidates, equation, j)}" for j, c in relation).replace("+ -", "- ")
        messages.append(
            f"the terms of D({equation.state}) are (nearly) collinear on these data: {combination} ≈ 0 along the "
            "trajectories given, so their coefficients are not determined; add trajectories from other initial "
            "conditions (several are accepted), or remove terms from the library"
        )
    return tuple(messages)


def _slope(candidates: Candidates, equation: FirstOrderEquation, unknown: int) -> str:
    return expression_to_text(sp.diff(equation.rhs, candidates.template.unknowns[unknown].symbol))


def _emptied(candidates: Candidates, regression: Regression, fit: Fit, setting) -> tuple[str, ...]:
    """A warning for each equation whose every unknown the fit removed, with a threshold that keeps some."""
    emptied = [e for e in candidates.equations if e.unknowns and not fit.active[list(e.unknowns)].any()]
    if not emptied:
        return ()
    if not isinstance(setting, float):
        return tuple(
            f"every term of D({e.state}) was removed: the candidates do not describe this rate (no term lowers the "
            "error enough on held-out data, or the optimizer's threshold is too large); try other terms"
            for e in emptied
        )
    threshold = setting
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
