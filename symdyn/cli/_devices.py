"""The flags that put a long command on several devices and processes, and the one call that starts it there."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jax.sharding import Mesh

# JAX is imported when a command starts: `--help` needs it not


def add_device_flags(parser: argparse.ArgumentParser) -> None:
    """`--devices`, `--coordinator`, `--num-processes`, `--process-id` and `--coordinator-timeout`."""
    group = parser.add_argument_group(
        "devices and processes",
        "all visible devices by default; several processes (hosts) join through process 0's --coordinator, "
        "or from a SLURM or Open MPI launch when these flags are left out",
    )
    group.add_argument("--devices", type=int, metavar="N", help="use the first N devices (default all)")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0, the same for every process")
    group.add_argument("--num-processes", type=int, metavar="N", help="how many processes join")
    group.add_argument("--process-id", type=int, metavar="I", help="this process, 0 .. N-1; process 0 writes files")
    group.add_argument(
        "--coordinator-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds to wait for the coordinator (default 300)",
    )


def start_devices(args: argparse.Namespace, command: str) -> Mesh:
    """Join the processes, choose the devices and say so once; called first by each long command."""
    from .._distributed import device_mesh, initialize_distributed, log_devices

    initialize_distributed(args.coordinator, args.num_processes, args.process_id, timeout=args.coordinator_timeout)
    mesh = device_mesh(args.devices)
    log_devices(command, mesh)
    return mesh
