"""`Discovery`: what a fit found, as numbers, as a table and as a model file."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..data import Trajectories
from ..model import Equation, InitialValue, Model, Parameter, parse
from ._candidates import Candidates
from ._regression import Fit


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
        loss_history: the trajectory loss per Adam step (S-MNN; empty for sparse fits).
        seconds_per_step: the wall time of one Adam step, compilation excluded (NaN without Adam).
        residual_rms: the root mean square of the scaled residuals at the end.
        description: the method and its settings, in words.
        seconds: the wall time of the fit.
    """

    model: Model
    unknowns: tuple[str, ...]
    values: np.ndarray
    standard_errors: np.ndarray
    active: np.ndarray
    terms: tuple[str, ...]
    loss_history: np.ndarray
    seconds_per_step: float
    residual_rms: float
    description: str
    seconds: float

    @property
    def coefficients(self) -> dict[str, float]:
        """Each unknown's fitted value by name."""
        return dict(zip(self.unknowns, map(float, self.values)))

    def table(self) -> str:
        """The fitted unknowns with their terms and standard errors, one per line; removed terms left out."""
        kept = np.flatnonzero(self.active)
        removed = self.values.size - kept.size
        rows = [
            (self.unknowns[j], self.terms[j], f"{self.values[j]:.6f}", f"{self.standard_errors[j]:.2g}") for j in kept
        ]
        header = ("unknown", "term", "value", "± std. error")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        lines = [f"{self.model.name}: {self.description}; residual rms {self.residual_rms:.3g}, {self.seconds:.1f} s"]
        if removed:
            lines.append(f"{kept.size} terms kept, {removed} below the threshold removed")
        lines += [line(header), *map(line, rows)]
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> None:
        """Write the discovered model file, with the coefficient table as a comment above it."""
        comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in self.table().splitlines())
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
    first = data.states[0, 0]
    initial = tuple(
        InitialValue(template.jet(symbol).source_form(), sp.Float(float(f"{value:.{digits}g}")))
        for symbol, value in zip(template.state_vector, first)
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
