"""`symdyn simulate FILE`: integrate an ODE or PDE model (or a seed's preset) and save the trajectories as `.npz`."""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from typing import TYPE_CHECKING

from ._choices import INTEGRATORS, PRESETS
from ._devices import add_device_flags, start_devices

if TYPE_CHECKING:
    from ..data import Trajectories

# JAX and SymPy are imported inside the commands: `--help` needs neither


def add_parser(commands) -> None:
    parser = commands.add_parser("simulate", help="integrate a model and save the trajectories")
    parser.add_argument("file", metavar="FILE", nargs="?", help="the model file (or --preset)")
    parser.add_argument("--t-end", type=float, help="final time")
    parser.add_argument("--dt", type=float, help="the step of the saved data")
    parser.add_argument("--t0", type=float, default=0.0, help="initial time (default 0)")
    parser.add_argument(
        "--method",
        choices=INTEGRATORS,
        help="integrator (default rk4; for a PDE etdrk4, imex_trapezoid on a bounded grid over 2048 entries)",
    )
    parser.add_argument("--substeps", type=int, default=1, help="integrator steps per saved step (default 1)")
    parser.add_argument("--warmup", type=int, default=0, help="saved-size steps integrated first and dropped")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="where to save the trajectories")
    parser.add_argument("--plot", metavar="OUT.png", help="also draw the (first) trajectory to this image")
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        metavar="LEVEL",
        help="add Gaussian measurement noise of LEVEL times each state's spread (0.01: 1 %%), drawn from --seed",
    )
    parser.add_argument(
        "--inputs",
        metavar="FILE",
        help="the model's @inputs signals: a .csv or .npz with a column t and one per input (linear between samples)",
    )
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a parameter")
    parser.add_argument(
        "--initial", action="append", default=[], metavar="NAME=VALUE", help="set an entry of an ODE's initial state"
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
    group = parser.add_argument_group("PDE models and data-set presets")
    group.add_argument("--preset", choices=PRESETS, help="a seed's data set (ks, kdv); no FILE needed")
    group.add_argument(
        "--split", default="train", choices=("train", "validation", "test"), help="the preset's split (default train)"
    )
    group.add_argument("--samples", type=int, help="trajectories of a preset split (default: the seed's count)")
    group.add_argument(
        "--initial-field",
        default="model",
        choices=("fourier", "model", "sines"),
        help="initial fields: the model file's, the seeds' random sum of sines, or a random Fourier series",
    )
    group.add_argument("--derivatives", help="spectral (periodic default), fd2 or fd4")
    group.add_argument("--dealias", action="store_true", help="2/3 rule on the nonlinear part")
    group = parser.add_argument_group("data sets in several files")
    group.add_argument(
        "--shards",
        type=int,
        metavar="K",
        help="write K .npz shards of consecutive trajectories and a manifest OUT.json naming them (read it as "
        "--data OUT.json); shards already written are kept, so a stopped run resumes",
    )
    add_device_flags(parser)
    parser.set_defaults(run=run, runtime_hint="try a smaller --dt, more --substeps or another --method")


def run(args: argparse.Namespace) -> int:
    import jax

    from .._distributed import is_writer

    jax.config.update("jax_enable_x64", True)
    if not args.output.endswith(".npz"):
        raise ValueError(f"-o {args.output}: trajectories are written as .npz; name the file so (the plot: --plot)")
    start_devices(args, "simulate")
    started = time.perf_counter()
    if args.shards is not None:
        return _sharded(args, started)
    data, how = _data(args)
    if args.noise:
        data = data.with_noise(args.noise, seed=args.seed)
        how += f", noise {args.noise:g} of each state's spread"
    data.save(args.output)
    elapsed = time.perf_counter() - started
    shape = "×".join(str(n) for n in data.states.shape)
    print(f"{data.model_name}: {shape} ({how}) to t = {data.t[-1]:g} in {elapsed:.2f} s -> {args.output}")
    if args.plot and is_writer():
        _plot(data, args.plot)
    return 0


def _data(args: argparse.Namespace, rows: tuple[int, int] | None = None) -> tuple[Trajectories, str]:
    """The trajectories the flags ask for (only `rows` of them, for a shard), and how they were made."""
    import jax
    import numpy as np

    from ..data import preset

    if not args.preset:
        return _simulate(args, rows)
    _only_preset_flags(args)
    chosen = preset(args.preset)
    data = chosen.generate(
        args.split,
        key=jax.random.PRNGKey(args.seed),
        samples=args.samples,
        dtype=np.float64,
        devices=args.devices,
        rows=rows,
    )
    return data, f"{chosen.method}, dt = {chosen.dt:g}"


def _sharded(args: argparse.Namespace, started: float) -> int:
    """K shards of consecutive trajectories, each drawn as in the whole set, and their manifest; written shards kept."""
    from .._distributed import from_writer
    from ..data import preset, read_manifest_rows, shard_paths, shard_rows, write_manifest

    for flag, given in (("--noise", args.noise), ("--plot", args.plot)):
        if given:
            raise ValueError(f"{flag} goes with a single output file; leave out --shards, or {flag}")
    count = (args.samples or preset(args.preset).splits[args.split][0]) if args.preset else args.trajectories
    rows = shard_rows(count, args.shards)
    manifest, paths = shard_paths(args.output, args.shards)
    if from_writer(manifest.exists()) and read_manifest_rows(manifest) != rows:
        raise ValueError(
            f"{manifest} holds another split of the trajectories; remove it and its shards, or choose another -o"
        )
    write_manifest(manifest, paths, rows)
    kept = 0
    for path, span in zip(paths, rows):
        if from_writer(path.exists()):  # process 0's files decide, so that every process computes the same shards
            kept += 1
            continue
        data, how = _data(args, rows=span)
        data.save(path)
    elapsed = time.perf_counter() - started
    made = f"{args.shards - kept} written" + (f", {kept} kept" if kept else "")
    print(f"{count} trajectories in {args.shards} shards ({made}) in {elapsed:.2f} s -> {manifest}")
    return 0


def _only_preset_flags(args: argparse.Namespace) -> None:
    """A preset fixes its model, steps and initial fields: refuse the flags that would change them."""
    given = {
        "FILE": args.file is not None,
        "--t-end": args.t_end is not None,
        "--dt": args.dt is not None,
        "--t0": args.t0 != 0,
        "--method": args.method is not None,
        "--substeps": args.substeps != 1,
        "--warmup": args.warmup != 0,
        "--param": bool(args.param),
        "--initial": bool(args.initial),
        "--inputs": args.inputs is not None,
        "--trajectories": args.trajectories != 1,
        "--draw": bool(args.draw),
        "--initial-field": args.initial_field != "model",
        "--derivatives": args.derivatives is not None,
        "--dealias": args.dealias,
    }
    refused = [flag for flag, set_ in given.items() if set_]
    if refused:
        raise ValueError(
            f"--preset {args.preset} fixes its model, steps and initial fields; leave out {', '.join(refused)} "
            "(choose the split, --samples and --seed)"
        )


def _simulate(args: argparse.Namespace, rows: tuple[int, int] | None) -> tuple[Trajectories, str]:
    import jax
    import numpy as np

    from ..data import FourierSeries, ModelInitial, SumOfSines, generate
    from ..integrators import default_method
    from ..model import load
    from ._assignments import assignments, draws

    if args.file is None:
        raise ValueError("give a model FILE, or --preset NAME")
    if args.samples is not None or args.split != "train":
        raise ValueError("--split and --samples choose a preset's data; for a model FILE use --trajectories")
    for flag, value in (("--t-end", args.t_end), ("--dt", args.dt)):
        if value is None:
            raise ValueError(f"{flag} is required")
    if not (args.dt > 0 and math.isfinite(args.dt)):
        raise ValueError(f"--dt must be a positive number, not {args.dt:g}")
    if not args.t_end > args.t0:
        raise ValueError(f"--t-end ({args.t_end:g}) must lie after --t0 ({args.t0:g})")
    steps = (args.t_end - args.t0) / args.dt
    if abs(steps - round(steps)) > 1e-9 * steps:
        below, above = args.t0 + math.floor(steps) * args.dt, args.t0 + math.ceil(steps) * args.dt
        raise ValueError(
            f"--t-end {args.t_end:g} is not a whole number of steps --dt {args.dt:g} from --t0 {args.t0:g}: "
            f"take --t-end {below:g} or {above:g}"
        )
    model = load(args.file)
    low = _driven(model.lower(np.float64, derivatives=args.derivatives, dealias=args.dealias), model, args.inputs)
    names = low.parameter_names
    parameters: dict = {names[i]: v for i, v in assignments(args.param, "--param", names).items()}
    parameters |= draws(args.draw, names)
    values = {low.state_names[i]: v for i, v in assignments(args.initial, "--initial", low.state_names).items()}
    if model.is_pde:
        if values:
            raise ValueError("--initial sets ODE states; for fields use --initial-field model|sines|fourier")
        initial = {"model": ModelInitial, "sines": SumOfSines, "fourier": FourierSeries}[args.initial_field]()
    elif args.initial_field != "model":
        raise ValueError(f"--initial-field draws fields; {model.name} is an ODE (set its states with --initial)")
    else:
        initial = ModelInitial(values)
    method = args.method or default_method(low)
    data = generate(
        low,
        duration=args.t_end - args.t0,
        dt=args.dt,
        t0=args.t0,
        key=jax.random.PRNGKey(args.seed),
        samples=args.trajectories,
        initial=initial,
        parameters=parameters,
        substeps=args.substeps,
        warmup=args.warmup,
        method=method,
        devices=args.devices,
        rows=rows,
    )
    steps = f"{args.substeps} steps of {args.dt / args.substeps:g} per saved step" if args.substeps > 1 else ""
    return dataclasses.replace(data, model=str(model)), ", ".join(filter(None, [method, f"dt = {args.dt:g}", steps]))


def _driven(low, model, inputs: str | None):
    """The lowered model driven by the --inputs file, or by its default signals."""
    from ..data import load_signal

    if inputs is not None:
        if not model.inputs:
            raise ValueError(f"--inputs {inputs}: {model.name} declares no @inputs")
        return low.with_inputs(load_signal(inputs, low.input_names))
    missing = [i.name for i in model.inputs if i.signal is None]
    if missing:
        raise ValueError(
            f"{model.name} has inputs without a default signal ({', '.join(missing)}): give them with "
            f"--inputs FILE (a .csv with columns t,{','.join(i.name for i in model.inputs)})"
        )
    return low


def _plot(data: Trajectories, path: str) -> None:
    from ..plot import plot_fields, plot_trajectory

    title, count = data.model_name, len(data)
    if data.grid:
        plot_fields(data.t, data.grid, data.states[0], data.names, data.coordinate_names, path, title=title)
        shown = f" (the first of {count} trajectories)" if count > 1 else ""
    else:
        plot_trajectory(data.t, data.states if count > 1 else data.states[0], data.names, path, title=title)
        shown = f" (the first {min(count, 5)} of {count} trajectories)" if count > 1 else ""
    print(f"plot -> {path}{shown}")
