"""Input signals read from files: the `@inputs` of a model, sampled in a `.csv` or `.npz`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..lower import InputSignal
from ._trajectories import _find, _missing, _no_time, _read_file


def load_signal(path: str | os.PathLike, names: Sequence[str]) -> InputSignal:
    """The inputs `names` sampled in a file with a time column `t` and one column (array) per input.

    The samples need not be uniform; between them the signal is linear, beyond them constant.

    Raises:
        ValueError: no `t`, a missing input (with the closest name), or times that do not increase.
    """
    origin = os.fspath(path)
    arrays = _read_file(origin)
    if "t" not in arrays:
        raise ValueError(_no_time(list(arrays), origin))
    columns = []
    for name in names:
        key = _find(name, [k for k in arrays if k != "t"])
        if key is None:
            raise ValueError(_missing(name, [k for k in arrays if k != "t"], origin, "input"))
        columns.append(np.asarray(arrays[key], dtype=np.float64).ravel())
    try:
        return InputSignal(np.asarray(arrays["t"], dtype=np.float64).ravel(), np.stack(columns, axis=-1))
    except ValueError as error:
        raise ValueError(f"{origin}: {error}") from None
