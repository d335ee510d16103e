"""`Discovery`: what a fit found, as numbers, as a table and as a model file."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..data import Trajectories
from ..model import Equation, InitialValue, Model, Parameter, expression_to_text, parse
from ._candidates import Candidates, FirstOrderEquation
from ._regression import Fit, ParetoPoint


@dataclass(frozen=True)
class Discovery:
    """The result of `symdyn.discover`.

    Attributes:
        model: the discovered model: the template with the fitted values (as `@parameters`
            for a template's named unknowns, as numbers in the equations for a library, whose
            removed terms are gone) and initial values from the data's first sample.
        unknowns: the names of the template's unknowns.
        values: (J,) their fitted values; 0 where thresholding removed the term.
        standard_errors: (J,) the spread of fits on ten contiguous stretches of the data
            over √10 (NaN without fine-tuning).
        active: (J,) which unknowns survived the threshold.
        terms: what each unknown multiplies (`D(y): x*z`).
        equations: the discovered equations with each coefficient's standard error,
            `D(y) ~ -0.4000(±0.0002)*y + 0.0750(±0.0001)*x*y`, one per equation with unknowns.
        warnings: what probably went wrong (an equation whose every term the threshold
            removed, with a threshold that keeps some); also issued as `DiscoveryWarning`s.
        library: whether a candidate library was fitted (its unknowns are the anonymous ξₖ).
        loss_history: the trajectory loss per Adam step (S-MNN; empty for sparse fits).
        seconds_per_step: the wall time of one Adam step, compilation excluded (NaN without Adam).
        residual_rms: the root mean square of the scaled residuals at the end.
        description: the method and its settings, in words, and why Adam stopped early if it did.
        seconds: the wall time of the fit.
    """

    model: Model
    unknowns: tuple[str, ...]
    values: np.ndarray
    standard_errors: np.ndarray
    active: np.ndarray
    terms: tuple[str, ...]
    equations: tuple[str, ...]
    warnings: tuple[str, ...]
    library: bool
    loss_history: np.ndarray
    seconds_per_step: float
    residual_rms: float
    description: str
    seconds: float
    inclusion: np.ndarray | None = None
    pareto: tuple[ParetoPoint, ...] = ()

    @property
    def coefficients(self) -> dict[str, float]:
        """Each unknown's fitted value by name."""
        return dict(zip(self.unknowns, map(float, self.values)))

    @property
    def steps(self) -> int:
        """The Adam steps taken: S-MNN's `steps`, or fewer if the loss reached a plateau (0 for sparse fits)."""
        return int(self.loss_history.size)

    def pareto_table(self) -> str:
        """What `threshold="auto"` tried for each equation: the setting, the terms kept, the error on the data and
        on held-out segments (root mean square of the scaled residual); `*` marks the choice."""
        if not self.pareto:
            return "no model selection was run (threshold='auto' runs it)"
        lines = [f"{'equation':<12} {'setting':<20} {'terms':>5} {'training':>10} {'held out':>10}"]
        for point in self.pareto:
            state = self.terms[point.group].split(":")[0]
            mark = " *" if point.chosen else ""
            lines.append(
                f"{state:<12} {point.setting:<20} {point.terms:>5} {point.training_error:>10.3g} "
                f"{point.held_out_error:>10.3g}{mark}"
            )
        return "\n".join(lines)

    def table(self) -> str:
        """The fitted unknowns with their terms and standard errors, one per line; removed terms left out."""
        return "\n".join([*self._summary(), *self._rows()])

    def __str__(self) -> str:
        """What `print(found)` shows: the method, the discovered equations with their standard errors,
        and for a template its named unknowns."""
        return "\n".join([*self._summary(), *self.equations, *([] if self.library else self._rows())])

    def _summary(self) -> list[str]:
        lines = [f"{self.model.name}: {self.description}; residual rms {self.residual_rms:.3g}, {self.seconds:.1f} s"]
        removed = int(self.values.size - self.active.sum())
        if removed:
            lines.append(f"{self.values.size - removed} terms kept, {removed} below the threshold removed")
        return lines

    def _rows(self) -> list[str]:
        kept = lambda j: () if self.inclusion is None else (f"{self.inclusion[j]:.0%}",)
        rows = [
            (self.unknowns[j], self.terms[j], f"{self.values[j]:.6f}", f"{self.standard_errors[j]:.2g}", *kept(j))
            for j in np.flatnonzero(self.active)
        ]
        header = ("unknown", "term", "value", "± std. error", *(() if self.inclusion is None else ("kept by",)))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        return [line(header), *map(line, rows)]

    def save(self, path: str | os.PathLike) -> None:
        """Write the discovered model file, with `str(self)` and the warnings as a comment above it."""
        report = [str(self), *(f"warning: {w}" for w in self.warnings)]
        comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in "\n".join(report).splitlines())
        text = comment + str(self.model)
        directory = os.path.dirname(os.fspath(path))
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def found_model(candidates: Candidates, fit: Fit, data: Trajectories, *, inline: bool, digits: int) -> Model:
    """The template with its unknowns replaced by the fitted values, rounded to `digits` significant digits."""
    template = candidates.template
    rounded = {
        u.symbol: sp.Float(float(f"{v:.{digits}g}")) if keep else sp.Integer(0)
        for u, v, keep in zip(template.unknowns, fit.values, fit.active)
    }
    substitute = rounded if inline else {s: v for s, v in rounded.items() if v == 0}
    parameters = template.parameters
    if not inline:
        parameters += tuple(
            Parameter(u.symbol, rounded[u.symbol]) for u, keep in zip(template.unknowns, fit.active) if keep
        )
    replace = lambda items: tuple(
        dataclasses.replace(i, **{f: getattr(i, f).xreplace(substitute) for f in _expression_fields(i)}) for i in items
    )
    initial = template.initial_values  # a PDE keeps the initial fields of the model that made its data
    if not template.is_pde:
        initial = tuple(
            InitialValue(template.jet(symbol).source_form(), sp.Float(float(f"{value:.{digits}g}")))
            for symbol, value in zip(template.state_vector, data.states[0, 0])
        )
    model = dataclasses.replace(
        template,
        parameters=parameters,
        unknowns=(),
        equations=replace(template.equations),
        observed=replace(template.observed),
        conserved=replace(template.conserved),
        initial_values=initial,
    )
    return parse(str(model), filename=template.filename)


def _expression_fields(item) -> tuple[str, ...]:
    """The expression fields of an equation or a definition."""
    return ("lhs", "rhs") if isinstance(item, Equation) else ("expression",)


def equation_text(equation: FirstOrderEquation, candidates: Candidates, fit: Fit) -> str:
    """`D(y) ~ -0.4000(±0.0002)*y + 0.0750(±0.0001)*x*y`: the fitted equation, each coefficient with its
    standard error (and for an ensemble the fraction of members that kept it: `0.0750(±0.0001, kept by 98%)`),
    the terms in the order of the unknowns; removed terms left out.

    An equation that is not affine in its unknowns (`exp(k)*x`) is shown with the values in place,
    without errors (the table has them).
    """
    symbols = [u.symbol for u in candidates.template.unknowns]
    slopes = [(j, sp.diff(equation.rhs, symbols[j])) for j in equation.unknowns]
    if any(slope.free_symbols & set(symbols) for _, slope in slopes):
        rhs = equation.rhs.xreplace({u: sp.Float(v) for u, v in zip(symbols, fit.values)}).evalf()
        rhs = rhs.xreplace({f: sp.Float(float(f"{float(f):.7g}")) for f in rhs.atoms(sp.Float)})
        return f"D({equation.state}) ~ {expression_to_text(rhs)}"
    parts = []  # (negative, text)
    for j, slope in slopes:
        if fit.active[j]:
            value = -fit.values[j] if slope.could_extract_minus_sign() else fit.values[j]
            slope = -slope if slope.could_extract_minus_sign() else slope
            number = _uncertain(abs(value), fit.standard_errors[j])
            if fit.inclusion is not None:  # an ensemble's inclusion probability beside the error
                kept = f"kept by {fit.inclusion[j]:.0%}"
                number = f"{number[:-1]}, {kept})" if number.endswith(")") else f"{number}({kept})"
            factor = f"({expression_to_text(slope)})" if slope.is_Add else expression_to_text(slope)
            parts.append((value < 0, number if slope == 1 else f"{number}*{factor}"))
    known = equation.rhs.xreplace(dict.fromkeys(symbols, sp.Integer(0)))
    if known != 0:
        negative = known.could_extract_minus_sign()
        parts.append((negative, expression_to_text(-known if negative else known)))
    if not parts:
        return f"D({equation.state}) ~ 0"
    text = ("-" if parts[0][0] else "") + parts[0][1]
    text += "".join((" - " if negative else " + ") + part for negative, part in parts[1:])
    return f"D({equation.state}) ~ {text}"


def _uncertain(value: float, error: float) -> str:
    """A non-negative value with its standard error, to the error's first significant digit: 0.0750(±0.0002).

    Past six significant digits of the value, the value has six and the error one: 1.1(±1e-08).
    Without an error (NaN: no fine-tuning), six significant digits.
    """
    if not error > 0:
        return f"{value:.6g}"
    decimals = -math.floor(math.log10(error))
    if decimals + math.floor(math.log10(max(value, error))) >= 6:
        return f"{value:.6g}(±{error:.0e})"
    decimals = max(decimals, 0)
    return f"{value:.{decimals}f}(±{error:.{decimals}f})"
