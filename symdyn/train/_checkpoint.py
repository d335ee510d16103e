"""Files of trained fields and training checkpoints: a JSON header line, then the arrays; written atomically."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ..model import parse
from ._fields import MLP, AbstractField, Hybrid

_MAGIC = "symdyn-field-v1"


def write_atomically(path: str | os.PathLike, header: dict, tree: Any) -> None:
    """Write `header` and the arrays of `tree` to `path` through a temporary file and a rename,
    so that an interrupted write leaves the previous file whole."""
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
                f"{os.fspath(path)}: the stored arrays do not fit this field or training ({error})"
            ) from None


def _header(file, path) -> dict:
    line = file.readline()
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != _MAGIC:
        raise ValueError(f"{os.fspath(path)}: not a symdyn field or checkpoint file")
    return header


def field_from_config(config: dict) -> AbstractField:
    """A field of the structure `config` describes (its weights are placeholders until loaded),
    in the dtype it was saved in: a float32 field reads back as float32 under jax_enable_x64."""
    key = jax.random.PRNGKey(0)
    options = {"width": config["width"], "depth": config["depth"], "time_dependent": config["time_dependent"]}
    if config["kind"] == "mlp":
        field = MLP(config["state_names"], **options, key=key)
    elif config["kind"] == "hybrid":
        field = Hybrid(parse(config["model"]), learned=config["learned"], p=config["p"], **options, key=key)
    else:
        raise ValueError(f"unknown field kind {config['kind']!r}")
    if "dtype" not in config:
        return field
    dtype = np.dtype(config["dtype"])
    return jax.tree.map(lambda leaf: leaf.astype(dtype) if eqx.is_inexact_array(leaf) else leaf, field)


def save_field(path: str | os.PathLike, field: AbstractField, **metadata: Any) -> None:
    """Write a trained field (its structure and weights, and any JSON-ready `metadata`) to `path`.

    Example:
        >>> save_field("field.eqx", result.field, rollout=2)
        >>> load_field("field.eqx")
    """
    if not isinstance(field, AbstractField):
        raise TypeError(f"field must be a symdyn.train field (MLP, Hybrid), not {type(field).__name__}")
    write_atomically(path, {"kind": "field", "field": field.config, "metadata": metadata}, field)


def load_field(path: str | os.PathLike) -> AbstractField:
    """Read a field written by `save_field`, or the best field so far of a training checkpoint
    (a checkpoint's arrays begin with it)."""
    return read_tree(path, field_from_config(read_header(path)["field"]))


def read_field_metadata(path: str | os.PathLike) -> dict:
    """The metadata stored with a field (`save_field`'s keywords, or a checkpoint's training settings)."""
    header = read_header(path)
    return header.get("metadata", header.get("settings", {}))
