"""`symdyn simulate FILE`: integrate a model with a fixed-step method, save `.npz`, optionally plot."""

from __future__ import annotations

import argparse
import math
import sys
import time

import jax
import numpy as np

from ..integrators import available, get, integrate
from ..model import load
from ._assignments import assignments, draws
from ._simulate_pde import add_pde_arguments, simulate_pde, simulate_preset


def add_parser(commands) -> None:
    parser = commands.add_parser("simulate", help="integrate a model and save the trajectory")
    parser.add_argument("file", metavar="FILE", nargs="?", help="the model file (or --preset)")
    parser.add_argument("--t-end", type=float, help="final time")
    parser.add_argument("--dt", type=float, help="time step (of the saved data, for a PDE)")
    parser.add_argument("--t0", type=float, default=0.0, help="initial time (default 0)")
    parser.add_argument(
        "--method", choices=available(), help="integrator (default rk4; etdrk4 for a PDE on a periodic domain)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="where to save the trajectory")
    parser.add_argument("--plot", metavar="OUT.png", help="also draw the trajectory to this image")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a parameter")
    parser.add_argument(
        "--initial", action="append", default=[], metavar="NAME=VALUE", help="set an entry of the initial state"
    )
    group = parser.add_argument_group("several trajectories (training data)")
    group.add_argument("--trajectories", type=int, default=1, help="how many trajectories (default 1)")
    group.add_argument(
        "--draw",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH",
        help="draw a parameter uniformly per trajectory (the model's initial values may depend on it)",
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    add_pde_arguments(parser)
    parser.set_defaults(run=run, runtime_hint="try a smaller --dt (or --substeps for a PDE) or another --method")


def run(args: argparse.Namespace) -> int:
    jax.config.update("jax_enable_x64", True)
    if args.preset:
        return simulate_preset(args)
    if args.file is None:
        raise ValueError("give a model FILE, or --preset NAME")
    for flag, value in (("--t-end", args.t_end), ("--dt", args.dt)):
        if value is None:
            raise ValueError(f"{flag} is required")
    model = load(args.file)
    if model.is_pde:
        return simulate_pde(args, model)
    args.method = args.method or "rk4"
    if not (args.dt > 0 and math.isfinite(args.dt)):
        raise ValueError(f"--dt must be a positive number, not {args.dt}")
    if not args.t_end > args.t0:
        raise ValueError(f"--t-end ({args.t_end}) must lie after --t0 ({args.t0})")
    if args.draw or args.trajectories != 1:
        return _many(args, model)
    low = model.lower(dtype=np.float64)

    values = model.parameter_values
    given = {i: float(v) for i, v in enumerate(values) if v is not None}
    given |= assignments(args.param, "--param", low.parameter_names)
    missing = [name for i, name in enumerate(low.parameter_names) if i not in given]
    if missing:
        raise ValueError(f"no value for parameter {', '.join(missing)}: pass --param NAME=VALUE")
    p = np.array([given[i] for i in range(len(low.parameter_names))], dtype=np.float64)

    initial = assignments(args.initial, "--initial", low.state_names)
    x0 = np.array(low.initial(p)) if low.initial is not None else np.full(len(low.state_names), np.nan)
    for index, value in initial.items():
        x0[index] = value
    if np.isnan(x0).any():
        missing = [n for n, v in zip(low.state_names, x0) if np.isnan(v)]
        raise ValueError(f"no initial value for {', '.join(missing)}: pass --initial NAME=VALUE")

    n_steps = max(1, round((args.t_end - args.t0) / args.dt))
    started = time.perf_counter()
    xs = np.asarray(integrate(low, x0, args.t0, args.dt, n_steps, method=get(args.method), p=p))
    elapsed = time.perf_counter() - started
    t = args.t0 + args.dt * np.arange(n_steps + 1)

    arrays = {name: xs[:, i] for i, name in enumerate(low.state_names)}
    for names, function in ((low.observed_names, low.observed), (low.conserved_names, low.conserved)):
        values = np.asarray(function(t, xs, p))
        arrays |= {name: values[:, i] for i, name in enumerate(names)}
    metadata = {
        "t": t,
        "state_names": np.array(low.state_names),
        "parameter_names": np.array(low.parameter_names),
        "parameters": p,
    }
    clash = sorted(set(arrays) & set(metadata))
    if clash:
        raise ValueError(f"the model names {', '.join(clash)}, which the output file uses for its own arrays")
    arrays |= metadata
    np.savez(args.output, **arrays)
    print(
        f"{model.name}: {n_steps} {args.method} steps of {args.dt} to t = {t[-1]:g} in {elapsed:.2f} s -> {args.output}"
    )

    if args.plot:
        from ..plot import plot_trajectory

        plot_trajectory(t, xs, low.state_names, args.plot, title=f"{model.name}: {args.method}, dt = {args.dt:g}")
        print(f"plot -> {args.plot}")

    bad = ~np.isfinite(xs).all(axis=tuple(range(1, xs.ndim)))
    if bad.any():
        first = int(np.argmax(bad))
        print(
            f"symdyn simulate: the solution is not finite from t = {t[first]:g}; "
            "try a smaller --dt or another --method",
            file=sys.stderr,
        )
        return 1
    return 0


def _many(args: argparse.Namespace, model) -> int:
    """Trajectories from drawn parameters, saved as a `symdyn.train.Dataset` (arrays (M, T) per state)."""
    from ..train import generate

    if args.initial or args.plot:
        raise ValueError("--initial and --plot go with one trajectory; draw parameters that set the initial values")
    if args.t0 != 0:
        raise ValueError("several trajectories start at t = 0; leave --t0 out")
    names = tuple(p.name for p in model.parameters)
    initial: dict = {names[i]: v for i, v in assignments(args.param, "--param", names).items()}
    initial |= draws(args.draw, names)
    started = time.perf_counter()
    data = generate(
        model,
        initial,
        trajectories=args.trajectories,
        duration=args.t_end,
        dt=args.dt,
        method=args.method,
        key=jax.random.PRNGKey(args.seed),
        dtype=np.float64,
    )
    data.save(args.output)
    shape = "×".join(str(n) for n in data.states.shape)
    elapsed = time.perf_counter() - started
    print(f"{model.name}: {shape} ({args.method}, dt = {args.dt:g}) in {elapsed:.2f} s -> {args.output}")
    return 0
