"""Several devices and processes: results equal to one device's, files written once, bad settings named.

The device checks run in fresh interpreters (tests/distributed_checks.py): one with four forced CPU
devices, and two processes with two devices each joined through JAX's runtime on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symdyn.cli import main
from symdyn.data import Trajectories, part_shards, read_part

pytestmark = pytest.mark.xdist_group("distributed")  # one worker starts the device processes, once
CHECKS = Path(__file__).with_name("distributed_checks.py")
TWO_BODY = Path(__file__).resolve().parents[1] / "examples" / "two_body.sdyn"
sys.path.insert(0, str(CHECKS.parent))
from distributed_checks import GRID_SEARCH, SIMULATE, TRAIN  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(*args: str, devices: int) -> subprocess.Popen:
    env = os.environ | {"XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    return subprocess.Popen(
        [sys.executable, str(CHECKS), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def pair(folder: Path, *commands: str) -> list[dict]:
    port = str(free_port())
    processes = [start("process", str(i), "2", port, str(folder), *commands, devices=2) for i in range(2)]
    return [result(p) for p in processes]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The four-device process and the two-process pair, started together."""
    folder = tmp_path_factory.mktemp("distributed")
    four = start("devices", str(folder), devices=4)
    port = str(free_port())
    processes = [start("process", str(i), "2", port, str(folder), devices=2) for i in range(2)]
    return folder, result(four), [result(p) for p in processes]


@pytest.fixture(scope="module")
def more_runs(tmp_path_factory):
    """S-MNN discovery, a grid search and a long S-MNN sequence, in one process with four devices."""
    return result(start("more", str(tmp_path_factory.mktemp("more")), devices=4))


def test_training_on_four_devices_equals_one_device(runs):
    _, four, _ = runs
    assert four["devices"] == 4
    # float64, same seed, three epochs: the weights agree to round-off (measured 1e-16)
    assert four["train_relative"] < 1e-9 and four["history_relative"] < 1e-9


@pytest.mark.exhaustive
def test_a_grid_search_on_four_devices_equals_the_weights_trained_alone(more_runs):
    four = more_runs
    # float64: two weights on two groups of two devices, four on one device each (measured 4e-16)
    assert four["grid_relative"] < 1e-12
    assert four["grid_best"] == four["grid_best_alone"]
    assert four["grid_checkpoint_relative"] < 1e-12  # a checkpoint per weight, the best network first


def test_a_checkpoint_from_four_devices_resumes_on_one(runs):
    _, four, _ = runs
    assert four["resume_relative"] < 1e-9


def test_data_and_rollouts_split_by_trajectory_equal_one_device(runs):
    _, four, _ = runs
    assert four["data_identical"]  # 7 trajectories padded to 8 over 4 devices, padding dropped
    assert four["evaluate_relative"] < 1e-12  # a matrix product's round-off differs with the batch's shape


@pytest.mark.exhaustive
def test_smnn_discovery_on_four_devices_equals_one_device(more_runs):
    four = more_runs
    assert four["discover_relative"] < 1e-9


@pytest.mark.exhaustive
def test_one_long_sequence_split_along_time_equals_one_device(more_runs):
    four = more_runs
    # float64, cyclic reduction or the sequential scan on each device's stretch: round-off (measured 3e-12
    # to 7e-12, gradients 2e-11, on this random problem, whose one-device solvers differ by 1e-11)
    for method in ("sequential", "parallel"):
        assert four[f"time_{method}_2"] < 1e-10 and four[f"time_{method}_4"] < 1e-10
    assert four["time_gradient"] < 1e-10  # the analytic backward pass, with the same split factors
    assert four["time_refused"] == (
        "T = 8 time points do not split over 4 devices: take at least 3 per device, or fewer devices"
    )
    assert four["time_float32_refused"] == (
        "devices=4 splits time in float64 only, not float32: enable jax_enable_x64 and pass float64 arrays, "
        "or leave devices=None"
    )


def test_a_batch_that_does_not_split_and_too_many_devices_are_refused(runs):
    _, four, _ = runs
    assert (
        four["batch_refused"] == "batch_size 6 does not split over 4 devices; take a multiple of 4, or fewer --devices"
    )
    assert four["devices_refused"] == "--devices 5 but 4 cpu devices are available"


def test_two_processes_make_one_devices_data_and_process_0_alone_writes(runs):
    folder, _, processes = runs
    assert [p["process"] for p in processes] == [0, 1]
    assert all(p["devices"] == 4 and p["local_devices"] == 2 and p["exit"] == [0, 0, 0] for p in processes)
    assert processes[0]["written"] == ["data.npz", "shards.eqx"] and processes[1]["written"] == []
    assert processes[0]["log"][0] == "symdyn simulate: on 4 cpu devices, 2 processes" and processes[1]["log"] == []
    made, reference = (Trajectories.load(folder / name) for name in ("0/data.npz", "reference.npz"))
    np.testing.assert_array_equal(made.states, reference.states)
    np.testing.assert_array_equal(made.parameters, reference.parameters)


def test_each_process_reads_only_its_shards_and_training_equals_one_process(runs):
    folder, _, processes = runs
    # 7 trajectories in shards [0, 2) [2, 4) [4, 5) [5, 7); the processes hold [0, 4) and [4, 7)
    assert [p["rows"] for p in processes] == [[0, 4], [4, 7]]
    assert [p["read"] for p in processes] == [[0, 1], [2, 3]]
    assert processes[0]["log"][-1] == "symdyn train: on 4 cpu devices, 2 processes"
    import equinox as eqx
    import jax

    from symdyn.train import load_network

    ours, theirs = (
        jax.tree.leaves(eqx.filter(load_network(path), eqx.is_array))
        for path in (folder / "0/shards.eqx", folder / "alone.eqx")
    )
    for a, b in zip(ours, theirs):  # float64, measured 1e-16
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.exhaustive
def test_training_across_two_processes_equals_one_process(tmp_path):
    assert main(["simulate", str(TWO_BODY), *SIMULATE, "-o", str(tmp_path / "reference.npz")]) == 0
    reference = str(tmp_path / "reference.npz")
    alone, grid = tmp_path / "alone.eqx", tmp_path / "grid.eqx"
    assert main(["train", "--data", reference, "-o", str(alone), *TRAIN]) == 0
    search = ["--validation", reference, *GRID_SEARCH, "-o", str(grid)]
    assert main(["train", "--data", reference, *TRAIN, *search]) == 0
    processes = pair(tmp_path, "train")
    assert processes[0]["written"] == [
        "data.npz",
        "grid.ckpt.lambda0.0001",
        "grid.ckpt.lambda0.01",
        "grid.eqx",
        "net.eqx",
        "run.ckpt",
        "shards.eqx",
    ]
    assert processes[1]["written"] == []
    assert processes[0]["log"][-1] == "symdyn train: on 4 cpu devices, 2 processes"
    import equinox as eqx
    import jax

    from symdyn.train import load_network

    for ours, theirs in ((tmp_path / "0/net.eqx", alone), (tmp_path / "0/grid.eqx", grid)):
        ours, theirs = (jax.tree.leaves(eqx.filter(load_network(path), eqx.is_array)) for path in (ours, theirs))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--coordinator", "127.0.0.1:9", "--num-processes", "2", "--process-id", "2"],
            "--process-id 2 is out of range: 0 .. 1 for --num-processes 2",
        ),
        (
            ["--coordinator", "127.0.0.1:9", "--num-processes", "0", "--process-id", "0"],
            "--num-processes must be at least 1, not 0",
        ),
        (
            ["--coordinator", "localhost", "--num-processes", "2", "--process-id", "1"],
            "--coordinator must be HOST:PORT (a port 1 .. 65535), not 'localhost'",
        ),
        (["--process-id", "1"], "--coordinator, --num-processes missing: several processes need all of "),
        (["--devices", "999"], "--devices 999 but "),
        (["--coordinator-timeout", "0"], "--coordinator-timeout must be a positive number of seconds, not 0.0"),
    ],
    ids=["process id", "process count", "address", "missing", "devices", "timeout"],
)
def test_bad_settings_are_refused_naming_the_flag(tmp_path, capsys, flags, message):
    args = ["simulate", str(TWO_BODY), *SIMULATE, "-o", str(tmp_path / "x.npz"), *flags]
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(f"symdyn simulate: error: {message}")
    assert not list(tmp_path.iterdir())


def test_an_unreachable_coordinator_and_a_busy_port_are_refused_in_time(tmp_path, capsys):
    port = free_port()  # nobody listens there now
    flags = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--coordinator-timeout", "0.3"]
    args = ["simulate", str(TWO_BODY), *SIMULATE, "-o", str(tmp_path / "x.npz"), *flags]
    assert main([*args, "--process-id", "1"]) == 2
    assert capsys.readouterr().err == (
        f"symdyn simulate: error: --coordinator 127.0.0.1:{port} is not reachable within --coordinator-timeout "
        "0.3 s; start process 0 there, or check the address\n"
    )
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert main([*args[:-6], "--coordinator", f"127.0.0.1:{taken}", *args[-4:], "--process-id", "0"]) == 2
    assert f"--coordinator 127.0.0.1:{taken}: process 0 cannot serve on port {taken}" in capsys.readouterr().err


def test_shards_make_the_whole_data_set_and_resume_shard_by_shard(tmp_path, capsys):
    flags = [str(TWO_BODY), "--t-end", "0.2", "--dt", "0.01", "--trajectories", "6", "--draw", "e=0.5:0.7"]
    assert main(["simulate", *flags, "-o", str(tmp_path / "whole.npz")]) == 0
    assert main(["simulate", *flags, "-o", str(tmp_path / "data.npz"), "--shards", "3"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "data-00000-of-00003.npz",
        "data-00001-of-00003.npz",
        "data-00002-of-00003.npz",
        "data.json",
        "whole.npz",
    ]
    whole, sharded = Trajectories.load(tmp_path / "whole.npz"), Trajectories.load(tmp_path / "data.json")
    np.testing.assert_array_equal(sharded.states, whole.states)
    np.testing.assert_array_equal(sharded.parameters, whole.parameters)
    assert sharded.observed.keys() == whole.observed.keys()
    for name in whole.observed:
        np.testing.assert_array_equal(sharded.observed[name], whole.observed[name])
    manifest = json.loads((tmp_path / "data.json").read_text())
    assert [s["rows"] for s in manifest["shards"]] == [[0, 2], [2, 4], [4, 6]]
    # the second of two processes holds trajectories [3, 6): it reads the last two shards alone
    part = read_part(tmp_path / "data.json", process=1, processes=2)
    assert (part.start, part.stop, part.total, part.shards) == (3, 6, 6, (1, 2))
    np.testing.assert_array_equal(part.data.states, whole.states[3:])
    assert part_shards([(0, 2), (2, 4), (4, 6)], 0, 3) == [0, 1]

    middle = tmp_path / "data-00001-of-00003.npz"
    middle.unlink()
    capsys.readouterr()
    with pytest.raises(ValueError, match="1 of 3 shards are missing .data-00001-of-00003.npz first.; run the same"):
        Trajectories.load(tmp_path / "data.json")
    kept = {p: p.stat().st_mtime_ns for p in tmp_path.glob("data-*.npz")}
    assert main(["simulate", *flags, "-o", str(tmp_path / "data.npz"), "--shards", "3"]) == 0
    assert "6 trajectories in 3 shards (1 written, 2 kept)" in capsys.readouterr().out
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())
    np.testing.assert_array_equal(Trajectories.load(tmp_path / "data.json").states, whole.states)

    assert (
        main(["simulate", *flags[:-4], "--trajectories", "5", "-o", str(tmp_path / "data.npz"), "--shards", "3"]) == 2
    )
    assert "data.json holds another split of the trajectories; remove it" in capsys.readouterr().err
    assert main(["simulate", *flags, "-o", str(tmp_path / "more.npz"), "--shards", "7"]) == 2
    assert "--shards must be between 1 and the 6 trajectories, not 7" in capsys.readouterr().err
