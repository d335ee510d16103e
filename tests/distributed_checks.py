"""Checks run in a fresh interpreter by tests/test_distributed.py, with several forced CPU devices.

`python distributed_checks.py devices DIR`: one process, four devices; writes DIR/reference.npz (one
device's data) and prints one JSON object of measurements.
`python distributed_checks.py process I N PORT DIR [train]`: process I of N joined on 127.0.0.1:PORT runs
`symdyn simulate` in DIR/I, where process 0 alone writes, then `symdyn train` on four shards of the same
data, each process reading its own (and `symdyn train` on DIR/reference.npz); prints JSON.
"""

import json
import pathlib
import sys

import jax

jax.config.update("jax_enable_x64", True)

ROOT = pathlib.Path(__file__).resolve().parents[1]
TWO_BODY = ROOT / "examples" / "two_body.sdyn"
# the data both modes make: `symdyn simulate` with these flags, or `generate` with the same draws
SIMULATE = ["--t-end", "0.4", "--dt", "0.01", "--trajectories", "7", "--draw", "e=0.5:0.7", "--seed", "1"]
GRID = [1e-2, 1e-4, 1.0, 0.0]  # the weights λ of the grid searches
GRID_SEARCH = ["--regularizer", "fd", "--weight", "0.01", "0.0001", "--rollout", "2"]  # after TRAIN
TRAIN = ["--epochs", "3", "--rollout", "1", "--batch-size", "8", "--width", "8", "--seed", "3", "--x64", "--quiet"]


def weights(network) -> list:
    import equinox as eqx

    return jax.tree.leaves(eqx.filter(network, eqx.is_array))


def relative(a, b) -> float:
    import numpy as np

    return max(float(np.max(np.abs(u - v)) / np.max(np.abs(v))) for u, v in zip(weights(a), weights(b)))


def message(call) -> str:
    try:
        call()
    except ValueError as error:
        return str(error)
    return ""


def two_body_data(devices: int, samples: int = 7, seed: int = 1):
    """The two-body trajectories (e drawn from [0.5, 0.7]), and the network every check trains from."""
    import symdyn
    from symdyn.data import Uniform, generate
    from symdyn.train import MLP

    model = symdyn.load(TWO_BODY)
    data = generate(
        model,
        parameters={"e": Uniform(0.5, 0.7)},
        samples=samples,
        duration=0.4,
        dt=0.01,
        key=jax.random.PRNGKey(seed),
        progress=False,
        devices=devices,
    )
    return model, data, MLP(data.names, width=8, key=jax.random.PRNGKey(5))


def training_options() -> dict:
    """Made when a mode runs: a process must join JAX's runtime before any array exists."""
    return dict(rollout=1, epochs=3, key=jax.random.PRNGKey(3), batch_size=8, progress=False)


def devices(folder: pathlib.Path) -> dict:
    """Training, checkpoints, data and rollouts on four devices against one."""
    import numpy as np

    from symdyn.train import _train, evaluate, train

    model, reference, network = two_body_data(1)
    data = {1: reference, 4: two_body_data(4)[1]}
    data[1].save(folder / "reference.npz")
    options = training_options()
    one, four = (train(network, data[1], devices=n, **options) for n in (1, 4))
    # a checkpoint written on four devices, interrupted after two epochs, resumes on one
    epoch = _train._epoch

    def interrupted(state, *args):
        if int(state.epoch) == 2:
            raise KeyboardInterrupt
        return epoch(state, *args)

    path = folder / "run.ckpt"
    _train._epoch = interrupted
    try:
        train(network, data[1], devices=4, checkpoint=path, checkpoint_every=2, **options)
    except KeyboardInterrupt:
        pass
    _train._epoch = epoch
    resumed = train(network, data[1], devices=1, checkpoint=path, resume=True, **options)
    # the network the two processes train from four shards, trained here on one device
    from symdyn.cli import main

    main(["train", "--data", str(folder / "reference.npz"), "-o", str(folder / "alone.eqx"), *TRAIN, "--devices", "1"])
    evaluations = {n: evaluate(one.network, model, data[1], devices=n).predicted for n in (1, 4)}
    return {
        "devices": jax.device_count(),
        "data_identical": bool(np.array_equal(data[1].states, data[4].states)),
        "train_relative": relative(four.last_network, one.last_network),
        "history_relative": float(np.max(np.abs(four.history[:, :2] - one.history[:, :2]) / one.history[:, :2])),
        "resume_relative": relative(resumed.last_network, one.last_network),
        "evaluate_relative": float(np.max(np.abs(evaluations[4] - evaluations[1])) / np.max(np.abs(evaluations[1]))),
        "batch_refused": message(lambda: train(network, data[1], devices=4, **(options | {"batch_size": 6}))),
        "devices_refused": message(lambda: train(network, data[1], devices=5, **options)),
    }


def more(folder: pathlib.Path) -> dict:
    """S-MNN discovery, a grid search and one long S-MNN sequence on four devices against one."""
    import numpy as np

    import symdyn
    from symdyn.train import train

    _, reference, network = two_body_data(1)
    data, options = {1: reference}, training_options()
    # S-MNN discovery: Adam's batches of chunks split over the devices (x' = -exp(k) x, k = log 0.7)
    from symdyn.discovery import SMNN

    t = np.linspace(0, 2, 201)
    decay = {"t": t, "x": 2 * np.exp(-0.7 * t)}
    template = symdyn.parse("model M\n    @unknowns k = 0\n    @variables x(t) = 2\n    D(x) ~ -exp(k)*x\nend\n")
    found = {
        n: symdyn.discover(
            template,
            decay,
            progress=False,
            threshold=0.0,
            method=SMNN(steps=20, batch_size=16, sequence_length=20, fine_tune=False, devices=n),
        ).values
        for n in (1, 4)
    }
    # a grid search over λ on four devices: two weights, a group of two devices each; four, one device each
    from symdyn.train import JacobianFD, grid_search, load_network

    held_out = two_body_data(1, samples=3, seed=2)[1]
    grid = options | {"rollout": 2, "validation": held_out}
    alone = [train(network, data[1], regularizer=JacobianFD(w), devices=1, **grid) for w in GRID]
    searches = [
        grid_search(network, data[1], JacobianFD(0.0), GRID[:count], devices=4, checkpoint=folder / "grid.ckpt", **grid)
        for count in (2, 4)
    ]
    return {
        "grid_relative": max(
            relative(mine.last_network, theirs.last_network)
            for search in searches
            for mine, theirs in zip(search.results, alone)
        ),
        "grid_best": [search.best_weight for search in searches],
        "grid_best_alone": [GRID[int(np.argmin([t.best_validation for t in alone[:count]]))] for count in (2, 4)],
        "grid_checkpoint_relative": max(
            relative(load_network(folder / f"grid.ckpt.lambda{w:g}"), mine.network)
            for w, mine in zip(GRID, searches[1].results)
        ),
        **long_sequence(),
        "discover_relative": float(np.max(np.abs(found[4] - found[1]) / np.abs(found[1]))),
    }


def long_sequence() -> dict:
    """One S-MNN system split along time over 2 and 4 devices (T = 103 splits evenly over neither):
    the solution and the analytic gradients against one device's."""
    import numpy as np

    from symdyn.smnn import solve

    rng = np.random.default_rng(0)
    batch, times, equations, variables, order = 2, 103, 2, 2, 2
    c = rng.normal(size=(batch, times, equations, variables, order + 1))
    d = rng.normal(size=(batch, times, equations))
    u = rng.normal(size=(batch, 1, variables, order + 1))
    s = rng.uniform(0.04, 0.06, size=(batch, times - 1))
    w = rng.normal(size=(batch, times, variables, order + 1))

    def loss(c, d, u, s, **options):
        return jax.numpy.sum(w * solve(c, d, u, s, **options))

    def differs(a, b) -> float:
        return max(float(np.max(np.abs(x - y)) / np.max(np.abs(y))) for x, y in zip(a, b))

    reference = solve(c, d, u, s, method="sequential")
    gradient = jax.grad(loss, argnums=(0, 1, 2, 3))(c, d, u, s, method="sequential")
    found = {}
    for method in ("sequential", "parallel"):
        for n in (2, 4):
            y = solve(c, d, u, s, method=method, devices=n)
            found[f"time_{method}_{n}"] = differs([y], [reference])
    sharded = jax.grad(loss, argnums=(0, 1, 2, 3))(c, d, u, s, method="sequential", devices=4)
    found["time_gradient"] = differs(sharded, gradient)
    found["time_refused"] = message(lambda: solve(c[:, :8], d[:, :8], u, s[:, :7], devices=4))
    single = [a.astype(np.float32) for a in (c, d, u, s)]
    found["time_float32_refused"] = message(lambda: solve(*single, devices=4))
    return found


def process(index: int, count: int, port: int, folder: pathlib.Path, commands: list[str]) -> dict:
    import contextlib
    import io
    import os

    from symdyn.cli import main

    own = folder / str(index)
    own.mkdir(parents=True, exist_ok=True)
    os.chdir(own)  # relative output paths: each process would write into its own folder
    flags = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(count), "--process-id", str(index)]
    errors = io.StringIO()
    exits = []
    with contextlib.redirect_stderr(errors):
        exits.append(main(["simulate", str(TWO_BODY), *SIMULATE, "-o", "data.npz", *flags]))
        # four shards of the same data; each process trains on the chunks of its own two
        exits.append(
            main(["simulate", str(TWO_BODY), *SIMULATE, "-o", str(folder / "shards.npz"), "--shards", "4", *flags])
        )
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("shards written")
        manifest = str(folder / "shards.json")
        exits.append(main(["train", "--data", manifest, "-o", "shards.eqx", *TRAIN, *flags]))
        if "train" in commands:
            data = str(folder / "reference.npz")
            exits.append(main(["train", "--data", data, "-o", "net.eqx", "--checkpoint", "run.ckpt", *TRAIN, *flags]))
            # a grid search: one λ per process, a checkpoint per λ
            search = ["--validation", data, *GRID_SEARCH, "-o", "grid.eqx", "--checkpoint", "grid.ckpt"]
            exits.append(main(["train", "--data", data, *TRAIN, *search, *flags]))
    from symdyn.data import read_part

    part = read_part(manifest)
    return {
        "read": list(part.shards),
        "rows": [part.start, part.stop],
        "process": jax.process_index(),
        "devices": jax.device_count(),
        "local_devices": jax.local_device_count(),
        "exit": exits,
        "written": sorted(p.name for p in own.iterdir()),
        "log": [line for line in errors.getvalue().splitlines() if " on " in line],
    }


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode in ("devices", "more"):
        result = {"devices": devices, "more": more}[mode](pathlib.Path(rest[0]))
    else:
        result = process(int(rest[0]), int(rest[1]), int(rest[2]), pathlib.Path(rest[3]), rest[4:])
    print(json.dumps(result))
