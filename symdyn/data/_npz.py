"""Writing `.npz` files atomically: a reader never sees half a file."""

from __future__ import annotations

import os

import numpy as np

from .._distributed import is_writer


def save_npz_atomically(path: str | os.PathLike, **arrays) -> None:
    """`np.savez` to a temporary name beside `path`, then an atomic rename; process 0 alone writes."""
    if not is_writer():
        return
    path = os.fspath(path)
    partial = path + ".partial.npz"
    np.savez(partial, **arrays)
    os.replace(partial, path)
