"""`parse` and `load`: model text or files to `Model`."""

from __future__ import annotations

import os

from .._errors import Source
from ..language import parse_syntax
from ._build import build_model
from ._model import Model


def parse(text: str, filename: str | None = None) -> Model:
    """The Model that `text`, in the symdyn language, describes.

    Args:
        text: a `model Name ... end` block.
        filename: the name that error messages report.

    Raises:
        SymdynError: located at the fault (file, line, column), with a hint.

    Example:
        >>> symdyn.parse("model Decay\\n @variables x(t) = 1\\n D(x) ~ -x\\nend").rhs()
        Matrix([[-x]])
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the model text as a str, not {type(text).__name__}; use load() for a path")
    tree = parse_syntax(text, filename)
    return build_model(tree, Source(text, filename))


def load(path: str | os.PathLike) -> Model:
    """The Model in the file at `path` (a `.sdyn` file, UTF-8).

    Raises:
        FileNotFoundError: no file at `path`.
        SymdynError: the file is not a valid model.
    """
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return parse(text, filename=os.fspath(path))
