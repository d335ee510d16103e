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


def add_parser(commands) -> None:
    parser = commands.add_parser("simulate", help="integrate a model and save the trajectory")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--t-end", type=float, required=True, help="final time")
    parser.add_argument("--dt", type=float, required=True, help="time step")
    parser.add_argument("--t0", type=float, default=0.0, help="initial time (default 0)")
    parser.add_argument("--method", default="rk4", choices=available(), help="integrator (default rk4)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="where to save the trajectory")
    parser.add_argument("--plot", metavar="OUT.png", help="also draw the trajectory to this image")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a parameter")
    parser.add_argument(
        "--initial", action="append", default=[], metavar="NAME=VALUE", help="set an entry of the initial state"
    )
    parser.set_defaults(run=run)


def assignments(items: list[str], flag: str, names: tuple[str, ...]) -> dict[int, float]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in names:
            known = ", ".join(names) or "none"
            raise ValueError(f"{flag} {item!r}: expected NAME=VALUE with NAME one of {known}")
        try:
            values[names.index(name)] = float(value)
        except ValueError:
            raise ValueError(f"{flag} {item!r}: {value!r} is not a number") from None
    return values


def run(args: argparse.Namespace) -> int:
    jax.config.update("jax_enable_x64", True)
    if not (args.dt > 0 and math.isfinite(args.dt)):
        raise ValueError(f"--dt must be a positive number, not {args.dt}")
    if not args.t_end > args.t0:
        raise ValueError(f"--t-end ({args.t_end}) must lie after --t0 ({args.t0})")
    model = load(args.file)
    low = model.lower(dtype=np.float64)

    defaults = model.defaults
    values = [defaults.get(q.symbol) for q in model.parameters] + [defaults.get(u.symbol, 0) for u in model.unknowns]
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
