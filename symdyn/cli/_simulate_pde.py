"""`symdyn simulate` for PDE models and the seeds' data-set presets: batches of fields, saved as `.npz`."""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from ..data import PRESETS, FieldDataset, FourierSeries, ModelInitial, SumOfSines, generate_fields, preset
from ..model import Model
from ._assignments import assignments, draws

_FAMILIES = {"model": ModelInitial, "sines": SumOfSines, "fourier": FourierSeries}


def add_pde_arguments(parser) -> None:
    group = parser.add_argument_group("PDE models and data-set presets")
    group.add_argument("--preset", choices=sorted(PRESETS), help="a seed's data set (ks, kdv); no FILE needed")
    group.add_argument(
        "--split", default="train", choices=("train", "validation", "test"), help="the preset's split (default train)"
    )
    group.add_argument("--samples", type=int, help="trajectories of a preset split (default: the seed's count)")
    group.add_argument(
        "--initial-field",
        default="model",
        choices=sorted(_FAMILIES),
        help="initial fields: the model file's, the seeds' random sum of sines, or a random Fourier series",
    )
    group.add_argument("--substeps", type=int, default=1, help="internal steps per saved step (default 1)")
    group.add_argument("--warmup", type=int, default=0, help="saved-size steps integrated first and dropped")
    group.add_argument("--derivatives", help="spectral (periodic default), fd2 or fd4")
    group.add_argument("--dealias", action="store_true", help="2/3 rule on the nonlinear part")


def _report(data: FieldDataset, method: str, elapsed: float, output: str) -> None:
    shape = "×".join(str(n) for n in data.states.shape)
    print(f"{data.model_name}: {shape} ({method}, dt = {data.dt:g}) in {elapsed:.1f} s -> {output}")


def simulate_preset(args: argparse.Namespace) -> int:
    chosen = preset(args.preset)
    started = time.perf_counter()
    data = chosen.generate(args.split, key=jax.random.PRNGKey(args.seed), samples=args.samples, dtype=np.float64)
    data.save(args.output)
    _report(data, chosen.method, time.perf_counter() - started, args.output)
    if args.plot:
        _plot(data, args.plot)
    return 0


def simulate_pde(args: argparse.Namespace, model: Model) -> int:
    if args.initial:
        raise ValueError("--initial sets ODE states; for fields use --initial-field model|sines|fourier")
    if args.t0 != 0:
        raise ValueError("PDE trajectories start at t = 0; leave --t0 out")
    low = model.lower(np.float64, derivatives=args.derivatives, dealias=args.dealias)
    method = args.method or ("etdrk4" if all(low.domain.periodic) else "rk4")
    steps = round(args.t_end / args.dt) + 1
    names = low.parameter_names
    parameters: dict = {names[i]: v for i, v in assignments(args.param, "--param", names).items()}
    parameters |= draws(args.draw, names)
    started = time.perf_counter()
    data = generate_fields(
        low,
        _FAMILIES[args.initial_field](),
        samples=args.trajectories,
        steps=steps,
        dt=args.dt,
        substeps=args.substeps,
        warmup=args.warmup,
        method=method,
        parameters=parameters,
        key=jax.random.PRNGKey(args.seed),
    )
    data.save(args.output)
    _report(data, method, time.perf_counter() - started, args.output)
    if args.plot:
        _plot(data, args.plot)
    return 0


def _plot(data: FieldDataset, path: str) -> None:
    from ..plot import plot_fields

    plot_fields(data.t, data.grid, data.states[0], data.field_names, data.coordinate_names, path, title=data.model_name)
    print(f"plot -> {path}")
