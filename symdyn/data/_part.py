"""A process's part of a sharded data set: the trajectories it holds on a mesh split over processes, read
from the shards that contain them and no others."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import jax

from ._shards import read_manifest, read_manifest_rows, shard_rows
from ._trajectories import Trajectories


@dataclasses.dataclass(frozen=True)
class ProcessPart:
    """The trajectories [start, stop) of a data set of `total`, the ones this process holds, and the shards read."""

    data: Trajectories
    start: int
    stop: int
    total: int
    shards: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]  # the trajectories [start, stop) of every process, in order


def part_shards(rows: Sequence[tuple[int, int]], start: int, stop: int) -> list[int]:
    """The shards (indices) of a manifest's `rows` that hold some of the trajectories [start, stop)."""
    return [i for i, (first, last) in enumerate(rows) if first < stop and start < last]


def read_part(
    manifest: str | os.PathLike,
    names: Sequence[str] | None = None,
    *,
    process: int | None = None,
    processes: int | None = None,
) -> ProcessPart:
    """The trajectories process `process` of `processes` (this one of all, by default) holds: an even
    split of the manifest's trajectories in order, read from the shards that hold them alone.

    Raises:
        ValueError: not a manifest, a shard missing, or fewer trajectories than processes.
    """
    process = jax.process_index() if process is None else process
    processes = jax.process_count() if processes is None else processes
    files, rows = read_manifest(manifest), read_manifest_rows(manifest)
    total = rows[-1][1]
    if total < processes:
        raise ValueError(f"{os.fspath(manifest)} holds {total} trajectories, fewer than the {processes} processes")
    spans = shard_rows(total, processes)
    start, stop = spans[process]
    chosen = part_shards(rows, start, stop)
    data = Trajectories.concatenate([Trajectories.load(files[i], names) for i in chosen])
    offset = rows[chosen[0]][0]
    return ProcessPart(data.rows(start - offset, stop - offset), start, stop, total, tuple(chosen), tuple(spans))
