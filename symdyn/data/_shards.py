"""Data sets in several files: K `.npz` shards of consecutive trajectories and a small JSON manifest naming them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._distributed import is_writer

_FORMAT = "symdyn-shards-v1"


def shard_rows(samples: int, shards: int) -> list[tuple[int, int]]:
    """The trajectories [start, stop) of each of `shards` shards of `samples`, as even as can be.

    Raises:
        ValueError: `shards` is not between 1 and `samples`.
    """
    if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= samples:
        raise ValueError(f"--shards must be between 1 and the {samples} trajectories, not {shards!r}")
    bounds = [round(i * samples / shards) for i in range(shards + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def shard_paths(output: str | os.PathLike, shards: int) -> tuple[Path, list[Path]]:
    """The manifest `DATA.json` and the shards `DATA-00000-of-00004.npz` ... for the output `DATA.npz`."""
    output = Path(output)
    stem = output.with_suffix("")
    return stem.with_suffix(".json"), [Path(f"{stem}-{i:05d}-of-{shards:05d}.npz") for i in range(shards)]


def write_manifest(path: str | os.PathLike, shards: list[Path], rows: list[tuple[int, int]]) -> None:
    """The manifest: the shards' file names (beside it) and the trajectories each holds; process 0 alone writes."""
    if not is_writer():
        return
    manifest = {
        "format": _FORMAT,
        "trajectories": rows[-1][1],
        "shards": [{"file": shard.name, "rows": list(span)} for shard, span in zip(shards, rows)],
    }
    partial = f"{os.fspath(path)}.partial"
    with open(partial, "w") as file:
        json.dump(manifest, file, indent=1)
    os.replace(partial, path)


def read_manifest_rows(path: str | os.PathLike) -> list[tuple[int, int]]:
    """The trajectories [start, stop) of each shard a manifest names."""
    with open(path) as file:
        return [tuple(shard["rows"]) for shard in json.load(file)["shards"]]


def read_manifest(path: str | os.PathLike) -> list[str]:
    """The shard files a manifest names, in order, as paths beside it.

    Raises:
        ValueError: not a symdyn manifest, or a shard is missing (the data set is not complete yet).
    """
    path = os.fspath(path)
    try:
        with open(path) as file:
            manifest = json.load(file)
    except json.JSONDecodeError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise ValueError(f"{path}: not a symdyn data manifest (symdyn simulate --shards writes them)")
    files = [os.path.join(os.path.dirname(path), shard["file"]) for shard in manifest["shards"]]
    missing = [name for name in files if not os.path.exists(name)]
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} of {len(files)} shards are missing ({os.path.basename(missing[0])} first); "
            "run the same symdyn simulate again to finish them"
        )
    return files
