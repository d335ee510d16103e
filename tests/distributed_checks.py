"""Checks run in a fresh interpreter by tests/test_distributed.py, with several forced CPU devices.

`python distributed_checks.py devices DIR`: one process, four devices; prints one JSON object of measurements.
`python distributed_checks.py process I N PORT DIR`: process I of N joined on 127.0.0.1:PORT; runs
`symdyn train` and `symdyn simulate` in DIR/I (process 0 alone writes there) and prints JSON.
"""

import json
import pathlib
import sys

import jax

jax.config.update("jax_enable_x64", True)

ROOT = pathlib.Path(__file__).resolve().parents[1]
TWO_BODY = ROOT / "examples" / "two_body.sdyn"


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


def devices(folder: pathlib.Path) -> dict:
    import numpy as np

    import symdyn
    from symdyn.data import Trajectories, Uniform, generate
    from symdyn.train import MLP, JacobianAD, evaluate, train

    model = symdyn.load(TWO_BODY)
    key = jax.random.PRNGKey(1)
    data = {n: generate(model, parameters={"e": Uniform(0.5, 0.7)}, samples=7, duration=0.4, dt=0.01, key=key,
                        progress=False, devices=n) for n in (1, 4)}
    network = MLP(data[1].names, width=16, key=jax.random.PRNGKey(5))
    options = dict(rollout=2, epochs=4, key=jax.random.PRNGKey(3), batch_size=8, progress=False,
                   regularizer=JacobianAD(model, 1e-3, directions=2), validation=data[1])
    one, four = (train(network, data[1], devices=n, **options) for n in (1, 4))
    # a checkpoint written on four devices resumes on one, and the reverse, to the uninterrupted result
    from symdyn.train import _train

    epoch = _train._epoch

    def interrupted(state, *args):
        if int(state.epoch) == 2:
            raise KeyboardInterrupt
        return epoch(state, *args)

    resumed = {}
    for first, then in ((4, 1), (1, 4)):
        path = folder / f"run{first}.ckpt"
        _train._epoch = interrupted
        try:
            train(network, data[1], devices=first, checkpoint=path, checkpoint_every=2, **options)
        except KeyboardInterrupt:
            pass
        _train._epoch = epoch
        resumed[f"{first}->{then}"] = train(network, data[1], devices=then, checkpoint=path, resume=True, **options)
    test = Trajectories.load(data[1])
    evaluations = {n: evaluate(one.network, model, test, devices=n) for n in (1, 4)}
    return {
        "devices": jax.device_count(),
        "data_identical": bool(np.array_equal(data[1].states, data[4].states)),
        "train_relative": relative(four.last_network, one.last_network),
        "history_relative": float(np.max(np.abs(four.history - one.history) / np.abs(one.history))),
        "resume_relative": {k: relative(r.last_network, one.last_network) for k, r in resumed.items()},
        "evaluate_identical": bool(np.array_equal(evaluations[1].predicted, evaluations[4].predicted)),
        "batch_refused": message(lambda: train(network, data[1], devices=4, **(options | {"batch_size": 6}))),
        "devices_refused": message(lambda: train(network, data[1], devices=5, **options)),
    }


def process(index: int, count: int, port: int, folder: pathlib.Path) -> dict:
    import contextlib
    import io
    import os

    from symdyn.cli import main

    own = folder / str(index)
    own.mkdir(parents=True, exist_ok=True)
    os.chdir(own)  # relative output paths: each process would write into its own folder
    flags = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(count), "--process-id", str(index)]
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        simulated = main(["simulate", str(TWO_BODY), "--t-end", "0.4", "--dt", "0.01", "--trajectories", "7",
                          "--draw", "e=0.5:0.7", "--seed", "1", "-o", "data.npz", *flags])
        trained = main(["train", "--data", str(folder / "reference.npz"), "-o", "net.eqx", "--epochs", "4",
                        "--batch-size", "8", "--width", "16", "--x64", "--quiet", "--checkpoint", "run.ckpt",
                        *flags])
    return {
        "process": jax.process_index(),
        "devices": jax.device_count(),
        "local_devices": jax.local_device_count(),
        "exit": [simulated, trained],
        "written": sorted(p.name for p in own.iterdir()),
        "log": [line for line in errors.getvalue().splitlines() if " on " in line],
    }


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "devices":
        result = devices(pathlib.Path(rest[0]))
    else:
        result = process(int(rest[0]), int(rest[1]), int(rest[2]), pathlib.Path(rest[3]))
    print(json.dumps(result))
