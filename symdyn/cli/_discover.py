"""`symdyn discover [TEMPLATE] --data DATA`: fit a template's unknowns or a library to trajectories."""

from __future__ import annotations

import argparse
import re
import sys
import warnings

from ._choices import SMNN_DEFAULTS, WEAK_DEFAULTS
from ._devices import add_device_flags, start_devices

# JAX, SymPy and the discovery package are imported inside the functions that use them: `--help` needs none


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "discover",
        help="discover governing equations from trajectories",
        description="Fit the @unknowns of TEMPLATE (or the terms of a --library) to trajectories and write the "
        "discovered model file.",
    )
    parser.add_argument("template", metavar="TEMPLATE", nargs="?", help="a model file with @unknowns")
    parser.add_argument(
        "--data", required=True, metavar="DATA", help=".npz (t and one array per state, or fields) or .csv"
    )
    parser.add_argument(
        "--library",
        metavar="SPEC",
        help="fit candidate terms instead of a template: polyN (monomials up to degree N), fourierN (sin and cos "
        "of k·state, k ≤ N), derivN (spatial derivatives up to order N, for fields; derivN(polyM) of each "
        "monomial), joined by + and *: poly2*fourier1; for field data the default is poly2 + poly2*deriv4, "
        "and poly2 + deriv4(poly2) with --method weak",
    )
    parser.add_argument(
        "--terms", metavar='"T1, T2"', help='candidate terms in the model language: "sin(x), x*y, exp(-z), cos(ω*t)"'
    )
    parser.add_argument("--terms-file", metavar="FILE", help="candidate terms, one per line or comma-separated")
    parser.add_argument("--states", nargs="+", metavar="NAME", help="with a library: the data's states to use")
    parser.add_argument(
        "--inputs",
        nargs="+",
        metavar="NAME",
        help="with a library: the data's columns that hold control or forcing inputs (default: those "
        "`symdyn simulate` wrote); the terms range over states and inputs",
    )
    parser.add_argument(
        "--method",
        choices=("smnn", "sparse", "weak"),
        help="smnn (default for trajectories), sparse (default for fields), weak (weak form, for noisy data)",
    )
    parser.add_argument(
        "--threshold",
        metavar="X|auto",
        help="remove terms whose coefficients are below X; auto (the default for a library) chooses per equation "
        "the sparsest model whose error on held-out segments is within 10%% of the best; templates keep all",
    )
    parser.add_argument("-o", "--output", metavar="FOUND.sdyn", help="write the discovered model here")
    parser.add_argument("--plot", metavar="OUT.png", help="draw the loss and the data against the discovered model")
    parser.add_argument("--pareto", metavar="OUT.png", help="draw error against terms per equation (with auto)")
    group = parser.add_argument_group("sparse fit")
    group.add_argument(
        "--optimizer",
        choices=("stlsq", "sr3", "subset"),
        default="stlsq",
        help="stlsq (thresholded least squares, default), sr3 (relaxed), subset (exact best subset, small libraries)",
    )
    group.add_argument("--alpha", type=float, default=0.0, help="ridge weight of stlsq (default 0)")
    group.add_argument(
        "--normalize",
        action="store_true",
        help="compare each term's contribution (coefficient × its column's rms) with the threshold, not the "
        "coefficient: thresholds free of the data's units",
    )
    group.add_argument("--max-terms", type=int, help="subset: terms per equation (default: chosen on held-out data)")
    group.add_argument("--ensemble", type=int, metavar="N", help="fit N bootstrap resamples of the data's segments")
    group.add_argument("--drop-terms", type=int, default=0, help="ensemble: leave out K random terms per member")
    group.add_argument(
        "--inclusion", type=float, default=0.5, help="ensemble: keep terms kept by this fraction (default 0.5)"
    )
    group = parser.add_argument_group("weak")
    group.add_argument(
        "--width", type=int, default=WEAK_DEFAULTS["width"], help="samples per test function (default %(default)s)"
    )
    group.add_argument("--stride", type=int, help="samples between test functions (default width // 4)")
    group.add_argument(
        "--space-width",
        type=int,
        default=WEAK_DEFAULTS["space_width"],
        help="fields on one-dimensional grids: grid points per test function (default %(default)s)",
    )
    group.add_argument("--space-stride", type=int, help="grid points between test functions (default width // 4)")
    parser.add_argument(
        "--smooth",
        nargs="?",
        const="21,5",
        metavar="WINDOW,DEGREE",
        help="Savitzky-Golay smoothing for noisy data (default window 21, degree 5)",
    )
    group = parser.add_argument_group("smnn")
    group.add_argument(
        "--steps",
        type=int,
        default=SMNN_DEFAULTS["steps"],
        help="Adam steps (default 2000, none where the loss is quadratic in the unknowns: the fine-tuning is exact)",
    )
    group.add_argument("--batch-size", type=int, default=SMNN_DEFAULTS["batch_size"], help="default %(default)s")
    group.add_argument(
        "--sequence-length",
        type=int,
        default=SMNN_DEFAULTS["sequence_length"],
        help="chunk length (default %(default)s)",
    )
    group.add_argument(
        "--learning-rate", type=float, default=SMNN_DEFAULTS["learning_rate"], help="default %(default)s"
    )
    group.add_argument("--order", type=int, default=SMNN_DEFAULTS["order"], help="S-MNN order R (default %(default)s)")
    group.add_argument("--no-fine-tune", action="store_true", help="stop after Adam")
    group.add_argument(
        "--no-plateau",
        action="store_true",
        help="take every Adam step (by default Adam stops once 100 steps lower its mean loss by at most 1 %% of what "
        "it has fallen so far, or of its value without fine-tuning)",
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the chunk draws (default 0)")
    group = parser.add_argument_group("sparse")
    group.add_argument("--fd-order", type=int, default=4, help="central-difference order 2, 4 or 6 (default 4)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_flags(parser)
    parser.set_defaults(run=run)


def _smoother(text: str | None):
    from ..discovery import SavitzkyGolay

    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:,\s*(\d+)\s*)?", text)
    if not match:
        raise ValueError(f"--smooth {text!r}: expected WINDOW or WINDOW,DEGREE, as in 21,5")
    window, degree = int(match[1]), int(match[2] or 5)
    return SavitzkyGolay(window, min(degree, window - 1))


def run(args: argparse.Namespace) -> int:  # noqa: C901 - one flag after another
    import jax

    from .._distributed import is_writer
    from ..data import Trajectories
    from ..discovery import DiscoveryWarning, Ensemble, discover

    jax.config.update("jax_enable_x64", True)
    start_devices(args, "discover")
    no_terms = all(spec is None for spec in (args.library, args.terms, args.terms_file))
    if args.template is not None:
        if not no_terms or args.states or args.inputs:
            raise ValueError("give either a TEMPLATE model file or candidate terms (--library, --terms, --terms-file)")
        template, data = args.template, args.data
    else:
        data = Trajectories.load(args.data, args.states, inputs=args.inputs)
        if no_terms and not data.grid:
            raise ValueError("give either a TEMPLATE model file or candidate terms (--library, --terms, --terms-file)")
        template = _library(args, fields=bool(data.grid), weak=args.method == "weak")
    method = _method(args, fields=args.template is None and bool(data.grid))
    threshold, optimizer = _threshold(args.threshold), _optimizer(args)
    if optimizer is not None:  # the threshold is the optimizer's, or chosen on held-out data
        fixed = isinstance(threshold, float) or (args.optimizer == "subset" and args.max_terms is not None)
        threshold = None if fixed or args.template is not None else "auto"
    with warnings.catch_warnings():  # printed below as the command's own warnings
        warnings.simplefilter("ignore", DiscoveryWarning)
        found = discover(
            template,
            data,
            method=method,
            threshold=threshold,
            optimizer=optimizer,
            ensemble=Ensemble(args.ensemble, drop_terms=args.drop_terms, inclusion=args.inclusion)
            if args.ensemble
            else None,
            key=jax.random.PRNGKey(args.seed),
            progress=not args.quiet,
        )
    print(found)
    for warning in found.warnings:
        print(f"symdyn discover: warning: {warning}", file=sys.stderr)
    if args.output:
        if is_writer():
            found.save(args.output)
        print(f"discovered model -> {args.output}")
    else:
        print(found.model)
    if args.plot and is_writer():
        if found.model.is_pde:
            raise ValueError("--plot draws ODE trajectories; run the discovered PDE with `symdyn simulate --plot`")
        states, inputs = [s.name for s in found.model.state_vector], [i.name for i in found.model.inputs]
        _plot(found, Trajectories.load(data, states, inputs=inputs), args.plot)
        print(f"plot -> {args.plot}")
    if args.pareto and is_writer():
        if not found.pareto:
            raise ValueError("--pareto draws what --threshold auto tried; give --threshold auto")
        from ..plot import plot_pareto

        plot_pareto(found, args.pareto)
        print(f"Pareto front -> {args.pareto}")
    return 0


def _library(args, fields: bool, weak: bool):
    from ..discovery import CustomLibrary, parse_library

    parts = []
    if args.library is not None or not (args.terms or args.terms_file):
        default = ("poly2 + deriv4(poly2)" if weak else "poly2 + poly2*deriv4") if fields else "poly2"
        parts.append(parse_library(args.library or default))
    if args.terms:
        parts.append(CustomLibrary.parse(args.terms))
    if args.terms_file:
        with open(args.terms_file, encoding="utf-8") as handle:
            parts.append(CustomLibrary.parse(handle.read()))
    library = parts[0]
    for part in parts[1:]:
        library = library + part
    return library


def _method(args, fields: bool):
    from ..discovery import SMNN, FiniteDifference, Sparse, WeakForm

    smoother = _smoother(args.smooth)
    name = args.method or ("sparse" if fields else "smnn")
    if name == "smnn":
        return SMNN(
            sequence_length=args.sequence_length,
            batch_size=args.batch_size,
            steps=args.steps,
            learning_rate=args.learning_rate,
            order=args.order,
            smoother=smoother,
            fine_tune=not args.no_fine_tune,
            devices=args.devices,
            **({"plateau": None} if args.no_plateau else {}),
        )
    if name == "weak":
        return WeakForm(
            width=args.width, stride=args.stride, space_width=args.space_width, space_stride=args.space_stride
        )
    return Sparse(smoother or FiniteDifference(args.fd_order))


def _threshold(text: str | None):
    if text is None or text.strip() == "auto":
        return text and "auto"
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--threshold {text!r}: expected a number or auto") from None


def _optimizer(args):
    """The optimizer the flags ask for, or None for the default thresholding."""
    from ..discovery import SR3, STLSQ, BestSubset

    threshold = _threshold(args.threshold)
    numeric = isinstance(threshold, float)
    if args.optimizer == "subset":
        if numeric:
            raise ValueError("--optimizer subset keeps --max-terms terms per equation; it takes no --threshold")
        return BestSubset(args.max_terms or 1)
    if args.optimizer == "sr3":
        return SR3(threshold if numeric else 0.1, normalize=args.normalize)
    if args.alpha or args.normalize:
        return STLSQ(threshold if numeric else 0.1, alpha=args.alpha, normalize=args.normalize)
    return None


def _plot(found, data, path: str) -> None:
    import numpy as np

    from ..integrators import integrate
    from ..lower import InputSignal
    from ..plot import plot_discovery

    lowered = found.model.lower(dtype=np.float64)
    if data.inputs:  # driven by the first trajectory's inputs
        lowered = lowered.with_inputs(InputSignal(data.t, np.stack([v[0] for v in data.inputs.values()], -1)))
    substeps = 10
    simulated = np.asarray(
        integrate(
            lowered,
            data.states[0, 0],
            float(data.t[0]),
            data.dt / substeps,
            substeps * (data.t.size - 1),
            method="rk4",
            save_every=substeps,
            throw=False,
        )
    )
    plot_discovery(data.t, data.states[0], simulated, data.names, found.loss_history, path, title=found.model.name)
