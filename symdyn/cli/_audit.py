"""`symdyn audit FILE`: where a model's linearization meets the integrator's stability region."""

from __future__ import annotations

import argparse

from ._choices import INTEGRATORS_ANY

# JAX and SymPy are imported inside run: `--help` needs neither


def add_parser(commands) -> None:
    parser = commands.add_parser("audit", help="check a model for instability an integrator hides or creates")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--method", default="rk4", choices=INTEGRATORS_ANY, help="integrator (default rk4)")
    parser.add_argument("--h", type=float, required=True, help="the step of the integrator")
    parser.add_argument("--points", metavar="DATA.npz", help="audit the states of a trajectory file (from simulate)")
    parser.add_argument("--every", type=int, default=1, help="with --points, take every k-th state")
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE", help="set an entry of the point")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a parameter")
    parser.add_argument("--steps", type=int, default=100, help="trajectory length in steps of h (default 100)")
    parser.add_argument("--refine", type=int, default=100, help="the fine trajectory steps h/refine (default 100)")
    parser.add_argument("--plot", metavar="OUT.png", help="draw h·λ̂ over the stability region and the trajectories")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import jax
    import numpy as np

    from ..data import Trajectories
    from ..model import load
    from ..stability import audit
    from ._assignments import assignments

    jax.config.update("jax_enable_x64", True)
    if not args.h > 0:
        raise ValueError(f"--h must be a positive step, not {args.h}")
    model = load(args.file)
    low = model.lower(dtype=np.float64)
    p = np.array(low.p) if low.p is not None else None
    for index, value in assignments(args.param, "--param", low.parameter_names).items():
        if p is None:
            raise ValueError("the model has parameters without defaults: give them all with --param")
        p[index] = value
    if args.points:
        data = Trajectories.load(args.points, low.state_names)
        points = data.states.reshape(-1, len(low.state_names))[:: args.every]
    else:
        start = np.array(low.initial(p)) if low.initial is not None else np.full(len(low.state_names), np.nan)
        for index, value in assignments(args.at, "--at", low.state_names).items():
            start[index] = value
        if np.isnan(start).any():
            raise ValueError("the model leaves some initial values out: give the point with --at NAME=VALUE")
        points = start[None]
    report = audit(low, points, args.method, args.h, p=p, n_steps=args.steps, refine=args.refine)
    print(report)
    print(f"{report.verdict()}; largest gap between steps h and h/{args.refine}: {report.gap.max():.3e}")
    if args.plot:
        from ..plot import plot_audit

        plot_audit(report, low.state_names, args.plot)
        print(f"plot -> {args.plot}")
    return 0
