"""`symdyn train [MODEL] --data TRAIN.npz`: fit a neural vector field through an integrator, regularized."""

from __future__ import annotations

import argparse

from ._choices import INTEGRATORS_ANY
from ._devices import add_device_flags, start_devices

# JAX and SymPy are imported inside run: `--help` needs neither


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "train",
        help="train a neural ODE on trajectories, with Jacobian regularization",
        description="Fit a neural vector field to chunks of trajectories through an integrator (trajectory loss), "
        "optionally with L_AD (known dynamics: needs MODEL) or L_FD (from the data alone).",
    )
    parser.add_argument("model", metavar="MODEL", nargs="?", help="the true model file (needed by --regularizer ad)")
    parser.add_argument("--data", required=True, metavar="TRAIN.npz", help="trajectories (symdyn simulate output)")
    parser.add_argument("--validation", metavar="VAL.npz", help="trajectories for choosing the best epoch and λ")
    parser.add_argument("-o", "--output", required=True, metavar="NET.eqx", help="where to write the trained network")
    parser.add_argument("--rollout", type=int, default=2, help="model steps per training chunk, N (default 2)")
    parser.add_argument("--dt", type=float, help="model step, a multiple of the data's (default the data's)")
    parser.add_argument("--method", default="rk4", choices=INTEGRATORS_ANY, help="integrator (default rk4)")
    parser.add_argument("--regularizer", default="none", choices=("none", "ad", "fd"), help="default none")
    parser.add_argument(
        "--weight",
        type=float,
        nargs="+",
        default=[1e-4],
        metavar="λ",
        help="one λ, or several to grid-search on --validation (default 1e-4)",
    )
    parser.add_argument("--directions", type=int, default=10, help="L_AD directions per point (default 10)")
    parser.add_argument(
        "--jacobian",
        default="auto",
        choices=("auto", "exact", "hutchinson"),
        help="L_AD: the Jacobians formed (exact), or --directions probes (hutchinson); auto (default): exact when "
        "the state has at most --directions entries",
    )
    parser.add_argument("--distribution", default="gaussian", choices=("gaussian", "rademacher"))
    parser.add_argument("--known", metavar="KNOWN.sdyn", help="a hybrid: this model plus a network")
    parser.add_argument("--learn", nargs="+", metavar="STATE", help="with --known: the states the network adds to")
    parser.add_argument(
        "--architecture",
        default="mlp",
        choices=("mlp", "cnn"),
        help="the network: the seed's MLP on the flattened state (default), or a periodic CNN on a grid's fields",
    )
    parser.add_argument("--width", type=int, help="hidden width (default 200 for mlp, 32 channels for cnn)")
    parser.add_argument("--depth", type=int, help="hidden layers (default 2 for mlp: three linear layers; 3 for cnn)")
    parser.add_argument("--kernel-size", type=int, help="cnn: points each convolution sees per axis (default 5)")
    parser.add_argument("--epochs", type=int, default=300, help="default 300")
    parser.add_argument("--batch-size", type=int, default=256, help="chunks per step (default 256)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's (default 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, shuffles and directions")
    parser.add_argument("--checkpoint", metavar="RUN.ckpt", help="keep the training state here (atomically)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--plot", metavar="LOSS.png", help="draw the losses over the epochs")
    parser.add_argument("--x64", action="store_true", help="train in float64 (default float32)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import jax
    import numpy as np
    import optax

    from .._distributed import is_writer
    from ..data import Trajectories, read_part
    from ..model import load
    from ..train import HISTORY, Hybrid, JacobianAD, JacobianFD, grid_search, network_kind, save_network, train

    if args.x64:
        jax.config.update("jax_enable_x64", True)
    start_devices(args, "train")
    # several processes each read only the shards of their own trajectories
    part = read_part(args.data) if args.data.endswith(".json") and jax.process_count() > 1 else None
    data = part.data if part else Trajectories.load(args.data)
    validation = Trajectories.load(args.validation) if args.validation else None
    model = load(args.model) if args.model else None
    if model is not None and tuple(s.name for s in model.state_vector) != data.names:
        raise ValueError(f"{args.model} has states {[s.name for s in model.state_vector]}; the data {data.names}")
    if len(args.weight) > 1 and validation is None:
        raise ValueError("several --weight values are grid-searched on --validation; pass it")
    weights_key, train_key = jax.random.split(jax.random.PRNGKey(args.seed))
    shape = {"width": args.width, "depth": args.depth, "kernel_size": args.kernel_size}
    shape = {name: value for name, value in shape.items() if value is not None}
    if "kernel_size" in shape and args.architecture != "cnn":
        raise ValueError("--kernel-size goes with --architecture cnn")
    grid = tuple(len(axis) for axis in data.grid)
    if args.architecture == "cnn" and not grid:
        raise ValueError("--architecture cnn needs fields on a grid (PDE data); this data holds ODE states")
    if args.known:
        known = load(args.known)
        network = Hybrid(known, learned=args.learn, network=args.architecture, key=weights_key, **shape)
    elif args.learn:
        raise ValueError("--learn goes with --known")
    else:
        network = network_kind(args.architecture)(data.names, grid=grid, key=weights_key, **shape)
    if args.regularizer == "ad":
        if model is None:
            raise ValueError("--regularizer ad needs the true MODEL file (its exact Jacobian-vector products)")
        regularizer = JacobianAD(
            model, args.weight[0], directions=args.directions, distribution=args.distribution, jacobian=args.jacobian
        )
    elif args.regularizer == "fd":
        regularizer = JacobianFD(args.weight[0])
    else:
        regularizer = None
    options = dict(
        rollout=args.rollout,
        epochs=args.epochs,
        key=train_key,
        dt=args.dt,
        method=args.method,
        validation=validation,
        batch_size=args.batch_size,
        optimizer=optax.adam(args.learning_rate),
        checkpoint=args.checkpoint,
        resume=args.resume,
        progress=not args.quiet,
        devices=args.devices,
    )
    if regularizer is not None and len(args.weight) > 1:
        search = grid_search(network, part or data, regularizer, args.weight, **options)
        print(search.table())
        trained = search.best
    else:
        trained = train(network, part or data, regularizer=regularizer, **options)
    save_network(args.output, trained.network, **trained.settings, best_epoch=trained.best_epoch)
    last = trained.history[trained.best_epoch - 1]
    print(
        f"trained {args.epochs} epochs in {trained.seconds:.1f} s; epoch {trained.best_epoch}: "
        + ", ".join(f"{name} {value:.4g}" for name, value in zip(HISTORY, last) if np.isfinite(value))
    )
    print(f"network -> {args.output}")
    if args.plot and is_writer():
        from ..plot import plot_training

        plot_training(trained.history, HISTORY, args.plot, title=f"training, N = {args.rollout}, {args.regularizer}")
        print(f"plot -> {args.plot}")
    return 0
