"""`symdyn stability METHOD...`: exact stability functions, regions, and the inverse problem."""

from __future__ import annotations

import argparse
import cmath

from ._choices import INTEGRATORS

# JAX and SymPy are imported inside the commands: `--help` needs neither


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "stability", help="stability functions and regions of integrators; preimages of a multiplier"
    )
    parser.add_argument("methods", nargs="+", metavar="METHOD", choices=INTEGRATORS)
    parser.add_argument("--model", metavar="FILE", help="a PDE model: check --dt against its linear part's spectrum")
    parser.add_argument("--dt", type=float, help="the step to check, with --model")
    parser.add_argument("--plot", metavar="OUT.png", help="draw the regions |ζ(z)| <= 1 on one figure")
    parser.add_argument(
        "--window", nargs=4, type=float, default=(-5.0, 3.0, -4.0, 4.0), metavar=("RE0", "RE1", "IM0", "IM1")
    )
    parser.add_argument("--mu", type=_complex, help="a multiplier of the data, e.g. 0.9 or -0.38+0.82j")
    parser.add_argument("--h", type=float, help="the training step, with --mu")
    parser.set_defaults(run=run)


def _complex(text: str) -> complex:
    try:
        return complex(text.replace(" ", "").replace("i", "j"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a complex number such as 0.9 or -0.38+0.82j") from None


def run(args: argparse.Namespace) -> int:
    from ..integrators import available, get
    from ..stability import preimages, region_summary

    if args.model is not None:
        return _pde(args)
    split = [m for m in args.methods if m in available(split=True)]
    if split:
        raise ValueError(f"{', '.join(split)} steps a PDE's split L u + N(u): check it with --model FILE --dt DT")
    if (args.mu is None) != (args.h is None):
        raise ValueError("--mu and --h go together: the multiplier the data shows, and the training step")
    for method in args.methods:
        print(region_summary(method))
        if args.mu is not None:
            found = preimages(method, args.mu, args.h)
            print(
                f"    λ̂ with a zero-loss step to μ = {args.mu:g} at h = {args.h:g} (data: log(μ)/h = "
                f"{cmath.log(args.mu) / args.h:.5g}):"
            )
            for p in found:
                notes = [
                    note
                    for flag, note in ((p.anti_damped, "anti-damped"), (p.opposite_rotation, "opposite rotation"))
                    if flag
                ]
                if p.parasitic:
                    notes.append(f"parasitic root grows ×{p.parasitic_growth:.5g} per step")
                print(f"      {p.eigenvalue.real:+.6f}{p.eigenvalue.imag:+.6f}i  {', '.join(notes)}")
    if args.plot:
        from ..plot import plot_stability_regions

        plot_stability_regions([get(m) for m in args.methods], args.plot, window=tuple(args.window))
        print(f"plot -> {args.plot}")
    return 0


def _pde(args: argparse.Namespace) -> int:
    from ..integrators import get
    from ..model import load
    from ..stability import pde_stability

    if args.dt is None:
        raise ValueError("--model goes with --dt, the step to check")
    model = load(args.model)
    if not model.is_pde:
        raise ValueError(f"{model.name} is an ODE: use `symdyn audit` for the stability of a learned ODE")
    low = model.lower()
    reports = [pde_stability(low, method, args.dt) for method in args.methods]
    for report in reports:
        print(report)
    if args.plot:
        from ..plot import plot_pde_stability

        plot_pde_stability(reports, [get(m) for m in args.methods], args.plot)
        print(f"plot -> {args.plot}")
    return 0 if all(r.stable for r in reports) else 1
