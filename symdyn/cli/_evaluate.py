"""`symdyn evaluate MODEL --network NET.eqx --data TEST.npz`: long rollouts of trained networks, metrics, plots."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ._choices import INTEGRATORS_ANY
from ._devices import add_device_flags, start_devices

# JAX and SymPy are imported inside run: `--help` needs neither


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="evaluate trained networks on long rollouts of held-out trajectories",
        description="Roll trained networks out from the first point of each test trajectory and report R_e(t), "
        "the trajectory loss, the offline error, the Jacobian error and the error of each conserved quantity.",
    )
    parser.add_argument("model", metavar="MODEL", help="the true model file")
    parser.add_argument("--network", required=True, nargs="+", metavar="NET.eqx", help="one or more trained networks")
    parser.add_argument("--label", nargs="+", help="a name per network for tables and plots (default file names)")
    parser.add_argument("--data", required=True, metavar="TEST.npz", help="held-out trajectories")
    parser.add_argument("--dt", type=float, help="model step (default the one the network was trained at)")
    parser.add_argument("--method", choices=INTEGRATORS_ANY, help="integrator (default the network's training one)")
    parser.add_argument("--jacobian", default="auto", choices=("auto", "exact", "hutchinson"), help="J_e estimate")
    parser.add_argument("--directions", type=int, default=4, help="Hutchinson directions (default 4)")
    parser.add_argument(
        "--diverged-above",
        type=float,
        default=10.0,
        metavar="R",
        help="final relative error from which a rollout counts as diverged (default 10)",
    )
    parser.add_argument(
        "--plots", metavar="DIR", help="write rollouts.png, conserved.png and (1-D fields) space_time.png here"
    )
    parser.add_argument("-o", "--output", metavar="METRICS.npz", help="save the curves and metrics (one network)")
    parser.add_argument("--x64", action="store_true", help="evaluate in float64 (default float32)")
    add_device_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import jax

    from .._distributed import is_writer
    from ..data import Trajectories
    from ..model import load
    from ..train import comparison_table, evaluate, load_network, read_network_metadata

    if args.x64:
        jax.config.update("jax_enable_x64", True)
    start_devices(args, "evaluate")
    labels = args.label or [Path(path).stem for path in args.network]
    if len(labels) != len(args.network):
        raise ValueError(f"{len(labels)} --label values for {len(args.network)} --network files")
    if args.output and len(args.network) > 1:
        raise ValueError("-o saves the metrics of one network; evaluate several with --plots")
    model = load(args.model)
    test = Trajectories.load(args.data)
    evaluations = {}
    for label, path in zip(labels, args.network):
        metadata = read_network_metadata(path)
        evaluation = evaluate(
            load_network(path),
            model,
            test,
            dt=args.dt or metadata.get("dt"),
            method=args.method or metadata.get("method", "rk4"),
            jacobian=args.jacobian,
            directions=args.directions,
            diverged_above=args.diverged_above,
            devices=args.devices,
        )
        evaluations[label] = evaluation
        print(f"{label}: {evaluation.relative_error.shape[0]} rollouts to t = {evaluation.t[-1]:g}")
    print(comparison_table(evaluations))
    if args.output:
        evaluation.save(args.output)
        print(f"metrics -> {args.output}")
    if args.plots and is_writer():
        from ..plot import plot_conserved_errors, plot_rollouts, plot_space_time

        os.makedirs(args.plots, exist_ok=True)
        every = test.every(args.dt or read_network_metadata(args.network[0]).get("dt"))
        plot_rollouts(
            evaluations, test.states[0, ::every], test.names, Path(args.plots, "rollouts.png"), title=model.name
        )
        written = ["rollouts.png"]
        if len(test.grid) == 1:
            path = Path(args.plots, "space_time.png")
            plot_space_time(
                evaluations, test.states[0, ::every], test.grid[0], test.coordinate_names[0], path, title=model.name
            )
            written.append("space_time.png")
        if model.conserved:
            plot_conserved_errors(evaluations, Path(args.plots, "conserved.png"), title=model.name)
            written.append("conserved.png")
        print(f"plots -> {', '.join(str(Path(args.plots, name)) for name in written)}")
    return 0
