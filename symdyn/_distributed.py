"""Devices and processes: JAX's own distributed runtime joined from flags or the environment, a mesh of
devices along a batch axis (and a weight axis for trainings run side by side), arrays split over it or
replicated on it, and the one process that writes files."""

from __future__ import annotations

import math
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "batch"
WEIGHTS = "weight"  # the axis of trainings run side by side, one per regularizer weight


def _launched_together() -> bool:
    """Whether a launcher started this process as one of several: SLURM (`srun`), Open MPI (`mpirun`), or the
    workers of a TPU slice; `jax.distributed.initialize()` reads their environments."""
    counts = [os.environ.get(name, "1") for name in ("SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE")]
    workers = os.environ.get("TPU_PROCESS_ADDRESSES") or os.environ.get("TPU_WORKER_HOSTNAMES") or ""
    return any(count.isdigit() and int(count) > 1 for count in counts) or "," in workers


def initialize_distributed(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout: float = 300.0,
) -> None:
    """Join the processes of one run through `jax.distributed`, before any other JAX computation.

    With no arguments, a SLURM or Open MPI launch of several tasks, or the workers of a TPU slice,
    are detected (JAX reads their environment); a single process does nothing. On CPUs the
    collectives run over gloo.

    Args:
        coordinator: HOST:PORT of process 0 (`--coordinator`). num_processes: the process count
            (`--num-processes`). process_id: this process, 0 .. num_processes - 1 (`--process-id`).
        timeout: seconds to wait for the coordinator (`--coordinator-timeout`).

    Raises:
        ValueError: a setting out of range, a coordinator that cannot be reached (or, for
            process 0, a port that cannot be bound) within `timeout`; each message names its flag.

    Example:
        >>> initialize_distributed("10.0.0.1:8476", num_processes=2, process_id=1)
    """
    given = {"--coordinator": coordinator, "--num-processes": num_processes, "--process-id": process_id}
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"--coordinator-timeout must be a positive number of seconds, not {timeout}")
    if all(value is None for value in given.values()):
        if jax.distributed.is_initialized():
            return
        if _launched_together():
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
            jax.distributed.initialize(initialization_timeout=int(math.ceil(timeout)))
        return
    missing = [flag for flag, value in given.items() if value is None]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing: several processes need all of {', '.join(given)}")
    host, port = _address(coordinator)
    if num_processes < 1:
        raise ValueError(f"--num-processes must be at least 1, not {num_processes}")
    if not 0 <= process_id < num_processes:
        raise ValueError(
            f"--process-id {process_id} is out of range: 0 .. {num_processes - 1} for --num-processes {num_processes}"
        )
    if num_processes == 1 or jax.distributed.is_initialized():  # joined already: a second command in this process
        return
    if process_id == 0:
        _check_bindable(port, coordinator)
    else:
        _wait_for(host, port, timeout, coordinator)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator,
            num_processes=num_processes,
            process_id=process_id,
            initialization_timeout=int(math.ceil(timeout)),
        )
    except RuntimeError as error:  # the others did not all join in time
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"--coordinator {coordinator}: the {num_processes} processes (--num-processes) did not all join "
            f"within --coordinator-timeout {timeout:g} s ({first})"
        ) from None


def _address(coordinator: str) -> tuple[str, int]:
    host, _, port = str(coordinator).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--coordinator must be HOST:PORT (a port 1 .. 65535), not {coordinator!r}")
    return host.strip("[]"), int(port)


def _check_bindable(port: int, coordinator: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError as error:
            raise ValueError(
                f"--coordinator {coordinator}: process 0 cannot serve on port {port} ({error.strerror}); "
                "choose a free port"
            ) from None


def _wait_for(host: str, port: int, timeout: float, coordinator: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(1.0, timeout)):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise ValueError(
                    f"--coordinator {coordinator} is not reachable within --coordinator-timeout {timeout:g} s; "
                    "start process 0 there, or check the address"
                ) from None
            time.sleep(0.1)


def device_mesh(devices: int | None = None, groups: int | None = None, *, axis: str = AXIS) -> Mesh:
    """A 1-D mesh of `devices` devices, all by default, taken evenly from every process, along `axis`
    ("batch" for samples; "time" for one long sequence split along time); with `groups`, a 2-D mesh
    ("weight", `axis`) of `groups` rows of devices (a divisor of the count).

    Raises:
        ValueError: `devices` is not a positive int, exceeds the devices available, or does not split
            evenly over the processes.
    """
    every = jax.devices()
    processes = jax.process_count()
    if devices is None:
        devices = len(every)
    if not isinstance(devices, (int, np.integer)) or isinstance(devices, bool) or devices < 1:
        raise ValueError(f"--devices must be a positive int, not {devices!r}")
    if devices > len(every):
        raise ValueError(
            f"--devices {devices} but {len(every)} {every[0].platform} "
            + ("devices are" if len(every) > 1 else "device is")
            + " available"
        )
    if devices % processes:
        raise ValueError(f"--devices {devices} does not split evenly over {processes} processes")
    per_process = devices // processes
    chosen = [d for p in range(processes) for d in [d for d in every if d.process_index == p][:per_process]]
    if groups is None:
        return Mesh(np.array(chosen), (axis,))
    return Mesh(np.array(chosen).reshape(groups, devices // groups), (WEIGHTS, axis))


def describe(mesh: Mesh) -> str:
    """ "on 4 cpu devices, 2 processes"."""
    count = mesh.devices.size
    processes = len({d.process_index for d in mesh.devices.flat})
    platform = mesh.devices.flat[0].platform
    return f"on {count} {platform} device{'s' * (count > 1)}, {processes} process{'es' * (processes > 1)}"


def log_devices(command: str, mesh: Mesh) -> None:
    """One line on stderr, from process 0, naming the devices and processes of `command`; one device says nothing."""
    if is_writer() and mesh.devices.size > 1:
        print(f"symdyn {command}: {describe(mesh)}", file=sys.stderr)


def is_writer() -> bool:
    """Whether this process writes files (fields, checkpoints, data, plots): process 0 alone."""
    return jax.process_index() == 0


def from_writer(value: bool) -> bool:
    """Process 0's `value` on every process: a decision (a file exists) that all processes must share."""
    if jax.process_count() == 1:
        return bool(value)
    from jax.experimental import multihost_utils  # only across processes

    return bool(multihost_utils.broadcast_one_to_all(np.asarray(bool(value))))


def check_split(size: int, mesh: Mesh, name: str) -> None:
    """Refuse a batch of `size` that does not split evenly over the mesh's batch axis, naming the setting."""
    count = mesh.shape[AXIS]
    if size % count:
        raise ValueError(
            f"{name} {size} does not split over {count} devices; take a multiple of {count}, or fewer --devices"
        )


def replicate(tree: Any, mesh: Mesh) -> Any:
    """The array leaves of `tree` as global arrays held whole on every device of the mesh."""
    return _place(tree, NamedSharding(mesh, PartitionSpec()))


def split(tree: Any, mesh: Mesh, axis: str = AXIS) -> Any:
    """The array leaves of `tree` split along their first axis (a multiple of the mesh's `axis`) over that axis."""
    return _place(tree, NamedSharding(mesh, PartitionSpec(axis)))


def from_processes(local: Any, spans: list[tuple[int, int]], mesh: Mesh) -> tuple[Any, np.ndarray]:
    """Global arrays split over the mesh's batch axis, each process handing over only its own rows:
    process p holds the rows `spans[p]` [start, stop) of the whole, in order, and passes them as `local`.

    Each process's rows are padded (repeating its last) to a block as long as the longest, a multiple of
    its devices. Returns the arrays and `positions`, the row of each row of the whole in them.
    """
    processes = len(spans)
    per_process = mesh.devices.size // processes
    block = -(-max(stop - start for start, stop in spans) // per_process) * per_process
    positions = np.concatenate([p * block + np.arange(stop - start) for p, (start, stop) in enumerate(spans)])
    sharding = NamedSharding(mesh, PartitionSpec(AXIS))

    def one(leaf):
        rows = np.asarray(leaf)[np.minimum(np.arange(block), len(leaf) - 1)]
        return jax.make_array_from_process_local_data(sharding, rows, (processes * block, *rows.shape[1:]))

    return jax.tree.map(one, local), positions


def padded_size(size: int, mesh: Mesh) -> int:
    """`size` rounded up to a multiple of the mesh size."""
    return -(-size // mesh.devices.size) * mesh.devices.size


def over_rows(fn: Callable[..., Any], rows: Any, mesh: Mesh, *shared: Any) -> Any:
    """`fn(rows, *shared)` with the rows (the leading axis of every leaf of `rows`) split over the mesh
    and `shared` replicated; the result, rows along its leading axis too, comes back whole to the host.

    The rows are padded to a multiple of the mesh size by repeating the last one; the padding is
    dropped from the result. Each row is computed as on one device, so the result is the same.
    """
    size = jax.tree.leaves(rows)[0].shape[0]
    index = np.minimum(np.arange(padded_size(size, mesh)), size - 1)
    placed = split(jax.tree.map(lambda a: np.asarray(a)[index], rows), mesh)
    out = fn(placed, *replicate(shared, mesh))
    return jax.tree.map(lambda a: a[:size], to_host(out))


def to_host(tree: Any) -> Any:
    """The array leaves of `tree` as NumPy arrays on this host, gathered from every process."""
    leaves = [leaf for leaf in jax.tree.leaves(tree) if isinstance(leaf, jax.Array)]
    if any(not leaf.is_fully_addressable and not leaf.is_fully_replicated for leaf in leaves):
        from jax.experimental import multihost_utils  # only across processes

        return jax.tree.map(
            lambda a: np.asarray(multihost_utils.process_allgather(a, tiled=True)) if isinstance(a, jax.Array) else a,
            tree,
        )
    return jax.tree.map(lambda a: np.asarray(a) if isinstance(a, jax.Array) else a, tree)


def _place(tree: Any, sharding: NamedSharding) -> Any:
    def one(leaf):
        if not isinstance(leaf, (jax.Array, np.ndarray)) or isinstance(leaf, jax.core.Tracer):
            return leaf
        if isinstance(leaf, jax.Array) and leaf.sharding == sharding:
            return leaf
        value = np.asarray(leaf)
        # every process holds the whole value and hands over the pieces its own devices keep
        return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])

    return jax.tree.map(one, tree)
