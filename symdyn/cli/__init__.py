"""The `symdyn` command: a thin shell over the public API, one module per command."""

from ._main import main as main

__all__ = ["main"]
