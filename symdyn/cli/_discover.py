"""`symdyn discover [TEMPLATE] --data DATA`: fit a template's unknowns or a library to trajectories."""

from __future__ import annotations

import argparse
import re
import sys
import warnings

import jax
import numpy as np

from ..data import Trajectories
from ..discovery import SMNN, DiscoveryWarning, FiniteDifference, PolynomialLibrary, SavitzkyGolay, Sparse, discover
from ..integrators import integrate


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "discover",
        help="discover governing equations from trajectories",
        description="Fit the @unknowns of TEMPLATE (or the terms of a --library) to trajectories and write the "
        "discovered model file.",
    )
    parser.add_argument("template", metavar="TEMPLATE", nargs="?", help="a model file with @unknowns")
    parser.add_argument("--data", required=True, metavar="DATA", help=".npz (t and one array per state) or .csv")
    parser.add_argument("--library", metavar="polyN", help="fit all monomials of the states up to degree N instead")
    parser.add_argument("--states", nargs="+", metavar="NAME", help="with --library: the data's states to use")
    parser.add_argument("--method", default="smnn", choices=("smnn", "sparse"), help="default smnn")
    parser.add_argument(
        "--threshold",
        type=float,
        help="remove terms below this (default 0.1 library, 0 template); if it empties an equation, a warning "
        "names one that keeps it",
    )
    parser.add_argument("-o", "--output", metavar="FOUND.sdyn", help="write the discovered model here")
    parser.add_argument("--plot", metavar="OUT.png", help="draw the loss and the data against the discovered model")
    parser.add_argument(
        "--smooth",
        nargs="?",
        const="21,5",
        metavar="WINDOW,DEGREE",
        help="Savitzky-Golay smoothing for noisy data (default window 21, degree 5)",
    )
    group = parser.add_argument_group("smnn")
    group.add_argument("--steps", type=int, default=SMNN.steps, help=f"Adam steps (default {SMNN.steps})")
    group.add_argument("--batch-size", type=int, default=SMNN.batch_size, help=f"default {SMNN.batch_size}")
    group.add_argument(
        "--sequence-length",
        type=int,
        default=SMNN.sequence_length,
        help=f"chunk length (default {SMNN.sequence_length})",
    )
    group.add_argument("--learning-rate", type=float, default=SMNN.learning_rate, help=f"default {SMNN.learning_rate}")
    group.add_argument("--order", type=int, default=SMNN.order, help=f"S-MNN order R (default {SMNN.order})")
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
    parser.set_defaults(run=run)


def _smoother(text: str | None) -> SavitzkyGolay | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:,\s*(\d+)\s*)?", text)
    if not match:
        raise ValueError(f"--smooth {text!r}: expected WINDOW or WINDOW,DEGREE, as in 21,5")
    window, degree = int(match[1]), int(match[2] or 5)
    return SavitzkyGolay(window, min(degree, window - 1))


def run(args: argparse.Namespace) -> int:
    jax.config.update("jax_enable_x64", True)
    if (args.template is None) == (args.library is None):
        raise ValueError("give either a TEMPLATE model file or --library polyN")
    smoother = _smoother(args.smooth)
    if args.method == "smnn":
        method = SMNN(
            sequence_length=args.sequence_length,
            batch_size=args.batch_size,
            steps=args.steps,
            learning_rate=args.learning_rate,
            order=args.order,
            smoother=smoother,
            fine_tune=not args.no_fine_tune,
            **({"plateau": None} if args.no_plateau else {}),
        )
    else:
        method = Sparse(smoother or FiniteDifference(args.fd_order))
    if args.library is not None:
        match = re.fullmatch(r"poly(\d)", args.library)
        if not match:
            raise ValueError(f"--library {args.library!r}: expected polyN, as in poly2")
        template = PolynomialLibrary(int(match[1]))
        data = Trajectories.load(args.data, args.states)
    else:
        if args.states:
            raise ValueError("--states goes with --library; a template names its own states")
        template, data = args.template, args.data
    with warnings.catch_warnings():  # printed below as the command's own warnings
        warnings.simplefilter("ignore", DiscoveryWarning)
        found = discover(
            template,
            data,
            method=method,
            threshold=args.threshold,
            key=jax.random.PRNGKey(args.seed),
            progress=not args.quiet,
        )
    print(found)
    for warning in found.warnings:
        print(f"symdyn discover: warning: {warning}", file=sys.stderr)
    if args.output:
        found.save(args.output)
        print(f"discovered model -> {args.output}")
    else:
        print(found.model)
    if args.plot:
        _plot(found, Trajectories.load(data, [s.name for s in found.model.state_vector]), args.plot)
        print(f"plot -> {args.plot}")
    return 0


def _plot(found, data, path: str) -> None:
    from ..plot import plot_discovery

    lowered = found.model.lower(dtype=np.float64)
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
