"""Files of trained networks and training checkpoints: a JSON header line, then the arrays; written atomically."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import equinox as eqx
import numpy as np

from .._distributed import is_writer
from ._networks import AbstractNetwork, in_precision, network_kind

_MAGIC = "symdyn-network-v1"
_EARLIER = "symdyn-field-v1"  # files from before trained fields were called networks


def write_atomically(path: str | os.PathLike, header: dict, tree: Any) -> None:
    """Write `header` and the arrays of `tree` to `path` through a temporary file and a rename,
    so that an interrupted write leaves the previous file whole; process 0 alone writes."""
    if not is_writer():
        return
    path = os.fspath(path)
    buffer = io.BytesIO()
    buffer.write(json.dumps({"format": _MAGIC, **header}).encode() + b"\n")
    eqx.tree_serialise_leaves(buffer, tree)
    partial = f"{path}.partial"
    with open(partial, "wb") as file:
        file.write(buffer.getvalue())
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def read_header(path: str | os.PathLike) -> dict:
    with open(path, "rb") as file:
        return _header(file, path)


def read_tree(path: str | os.PathLike, like: Any) -> Any:
    """The arrays of the file at `path`, in the structure of `like`."""
    with open(path, "rb") as file:
        _header(file, path)
        try:
            return eqx.tree_deserialise_leaves(file, like)
        except (RuntimeError, ValueError, EOFError) as error:
            raise ValueError(
                f"{os.fspath(path)}: the stored arrays do not fit this network or training ({error})"
            ) from None


def _header(file, path) -> dict:
    line = file.readline()
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") not in (_MAGIC, _EARLIER):
        raise ValueError(f"{os.fspath(path)}: not a symdyn network or checkpoint file")
    if "field" in header:
        header["network"] = header.pop("field")
    return header


def network_from_config(config: dict) -> AbstractNetwork:
    """A network of the structure `config` describes (its weights are placeholders until loaded),
    in the dtype it was saved in: a float32 network reads back as float32 under jax_enable_x64."""
    network = network_kind(config["kind"]).from_config(config)
    return in_precision(network, np.dtype(config["dtype"])) if "dtype" in config else network


def save_network(path: str | os.PathLike, network: AbstractNetwork, **metadata: Any) -> None:
    """Write a trained network (its structure and weights, and any JSON-ready `metadata`) to `path`.

    Example:
        >>> save_network("network.eqx", result.network, rollout=2)
        >>> load_network("network.eqx")
    """
    if not isinstance(network, AbstractNetwork):
        raise TypeError(f"network must be a symdyn.train network (MLP, Hybrid), not {type(network).__name__}")
    write_atomically(path, {"kind": "network", "network": network.config, "metadata": metadata}, network)


def load_network(path: str | os.PathLike) -> AbstractNetwork:
    """Read a network written by `save_network`, or the best network so far of a training checkpoint
    (a checkpoint's arrays begin with it)."""
    return read_tree(path, network_from_config(read_header(path)["network"]))


def read_network_metadata(path: str | os.PathLike) -> dict:
    """The metadata stored with a network (`save_network`'s keywords, or a checkpoint's training settings)."""
    header = read_header(path)
    return header.get("metadata", header.get("settings", {}))
