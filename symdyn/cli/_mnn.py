"""`symdyn mnn train|evaluate`: mechanistic neural network forecasters on field (or state) data."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np

from ._devices import add_device_flags, start_devices

# JAX is imported inside the commands: `--help` needs it not


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "mnn",
        help="mechanistic neural networks: forecast fields through S-MNN",
        description="Train and score forecasters whose encoder predicts a linear ODE per grid point, solved by "
        "S-MNN (Chen et al., ICLR 2025), or a plain network with the same encoder.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_train(actions)
    _add_evaluate(actions)


def _add_train(actions) -> None:
    parser = actions.add_parser(
        "train",
        help="train a forecaster on windows of trajectories",
        description="Fit a forecaster of --horizon frames from --context frames to windows of the data.",
    )
    parser.add_argument("--data", required=True, metavar="TRAIN.npz", help="trajectories (symdyn simulate output)")
    parser.add_argument("--validation", metavar="VAL.npz", help="trajectories for choosing the best epoch")
    parser.add_argument("-o", "--output", required=True, metavar="NET.eqx", help="where to write the forecaster")
    parser.add_argument("--context", type=int, required=True, metavar="C", help="frames in")
    parser.add_argument("--horizon", type=int, required=True, metavar="H", help="frames out")
    parser.add_argument("--order", type=int, default=2, metavar="R", help="order of each point's ODE (default 2)")
    parser.add_argument(
        "--solver",
        default="smnn",
        choices=("smnn", "dense"),
        help="S-MNN's block solver (default), or the original MNN's dense one",
    )
    parser.add_argument("--method", default="auto", choices=("auto", "sequential", "parallel"), help="S-MNN's")
    parser.add_argument(
        "--forecaster",
        default="mechanistic",
        choices=("mechanistic", "direct"),
        help="the mechanistic network (default), or the encoder forecasting increments directly",
    )
    parser.add_argument("--encoder", choices=("resnet1d", "mlp"), help="default resnet1d on a 1-D grid, else mlp")
    parser.add_argument("--width", type=int, help="hidden channels or units (default 32 resnet1d, 64 mlp)")
    parser.add_argument("--blocks", type=int, help="resnet1d: residual blocks (default 4)")
    parser.add_argument("--kernel-size", type=int, help="resnet1d: points each convolution sees (default 5)")
    parser.add_argument("--stride", type=int, default=1, help="frames between training windows (default 1)")
    parser.add_argument("--epochs", type=int, default=100, help="default 100")
    parser.add_argument("--batch-size", type=int, default=32, help="windows per step (default 32)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's (default 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffles")
    parser.add_argument("--checkpoint", metavar="RUN.ckpt", help="keep the training state here (atomically)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--x64", action="store_true", help="train in float64 (default float32)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_flags(parser)
    parser.set_defaults(run=_train)


def _add_evaluate(actions) -> None:
    parser = actions.add_parser(
        "evaluate",
        help="NMSE of a forecaster at several horizons, beside persistence",
        description="Forecast from each trajectory's first C frames, rolling forward past H, and report NMSE "
        "(normalized by the prediction as in the S-MNN paper's eq. 17, and by the truth) at each horizon.",
    )
    parser.add_argument("network", metavar="NET.eqx", help="a forecaster from `symdyn mnn train`")
    parser.add_argument("--data", required=True, metavar="TEST.npz", help="test trajectories")
    parser.add_argument("--horizons", type=int, nargs="+", default=[20, 40], metavar="F", help="frames (20 40)")
    parser.add_argument("--plots", metavar="DIR", help="draw truth, forecast and error as space-time images here")
    parser.add_argument("--batch-size", type=int, default=64, help="trajectories forecast at once (default 64)")
    parser.add_argument("-o", "--output", metavar="METRICS.json", help="write the scores as JSON")
    parser.set_defaults(run=_evaluate)


def _train(args: argparse.Namespace) -> int:
    import jax
    import numpy as np
    import optax

    from ..data import Trajectories
    from ..smnn import DirectForecaster, MLPEncoder, ResNet1D, linear_ode_solver, mechanistic_forecaster
    from ..train import save_forecaster, train_forecaster

    if args.x64:
        jax.config.update("jax_enable_x64", True)
    start_devices(args, "mnn train")
    data = Trajectories.load(args.data)
    validation = Trajectories.load(args.validation, names=data.names) if args.validation else None
    grid = tuple(len(axis) for axis in data.grid)
    encoder = args.encoder or ("resnet1d" if len(grid) == 1 else "mlp")
    if encoder == "resnet1d" and len(grid) != 1:
        raise ValueError(f"--encoder resnet1d needs fields on a 1-D grid; this data's grid has {len(grid)} axes")
    shape = {"width": args.width, "blocks": args.blocks, "kernel_size": args.kernel_size}
    shape = {name: value for name, value in shape.items() if value is not None}
    if encoder == "mlp" and set(shape) - {"width"}:
        raise ValueError("--blocks and --kernel-size go with --encoder resnet1d")
    weights_key, train_key = jax.random.split(jax.random.PRNGKey(args.seed))
    fields = len(data.names)
    if args.forecaster == "direct":
        kind = ResNet1D if encoder == "resnet1d" else MLPEncoder
        options = {} if encoder == "resnet1d" else {"grid": grid}
        net = DirectForecaster(kind(args.context, fields, args.horizon, **options, **shape, key=weights_key))
    else:
        solver = linear_ode_solver(args.solver, **({"method": args.method} if args.solver == "smnn" else {}))
        net = mechanistic_forecaster(
            encoder,
            context=args.context,
            horizon=args.horizon,
            fields=fields,
            step=data.dt,
            order=args.order,
            solver=solver,
            grid=grid,
            key=weights_key,
            **shape,
        )
    trained = train_forecaster(
        net,
        data,
        epochs=args.epochs,
        key=train_key,
        validation=validation,
        stride=args.stride,
        batch_size=args.batch_size,
        optimizer=optax.adam(args.learning_rate),
        checkpoint=args.checkpoint,
        resume=args.resume,
        progress=not args.quiet,
        devices=args.devices,
    )
    save_forecaster(
        args.output,
        trained.network,
        **trained.settings,
        best_epoch=trained.best_epoch,
        names=list(data.names),
        dtype=np.dtype(trained.network.dtype).name,
    )
    row = trained.history[trained.best_epoch - 1]
    shown = f"loss {row[0]:.4g}" + (f", validation {row[3]:.4g}" if np.isfinite(row[3]) else "")
    print(f"trained {args.epochs} epochs in {trained.seconds:.1f} s; epoch {trained.best_epoch}: {shown}")
    print(f"forecaster -> {args.output}")
    return 0


class _Rollout(NamedTuple):
    """What `plot_space_time` reads of a forecast: its times and (1, F, n, points) values."""

    t: np.ndarray
    predicted: np.ndarray


def _evaluate(args: argparse.Namespace) -> int:
    import jax

    from ..data import Trajectories
    from ..train import load_forecaster, read_forecaster_metadata, score_forecaster

    metadata = read_forecaster_metadata(args.network)
    if metadata.get("dtype") == "float64":
        jax.config.update("jax_enable_x64", True)
    net = load_forecaster(args.network)
    names = metadata.get("names")
    data = Trajectories.load(args.data, names=names)
    scores = score_forecaster(net, data, tuple(args.horizons), batch_size=args.batch_size)
    metrics = scores.metrics() | {"context": net.context, "horizon": net.horizon, "trajectories": len(data)}
    print(f"{'frames':>8} {'NMSE':>11} {'NMSE/truth':>11} {'persistence':>12}")
    for h, a, b, p in zip(scores.horizons, scores.nmse, scores.nmse_truth, scores.persistence_nmse):
        print(f"{h:>8} {a:>11.4g} {b:>11.4g} {p:>12.4g}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            json.dump(metrics, file, indent=2)
        print(f"metrics -> {args.output}")
    if args.plots:
        if len(data.grid) != 1:
            raise ValueError("--plots draws space-time images of fields on a 1-D grid")
        from ..plot import plot_space_time

        os.makedirs(args.plots, exist_ok=True)
        frames = scores.truth.shape[1]
        t = data.t[net.context : net.context + frames]
        path = os.path.join(args.plots, "forecast.png")
        rollout = {"forecast": _Rollout(t, scores.prediction[:1])}
        title = f"first test trajectory: {frames} frames after {net.context}"
        plot_space_time(rollout, scores.truth[0], data.grid[0], data.coordinate_names[0], path, title=title)
        print(f"plot -> {path}")
    return 0
