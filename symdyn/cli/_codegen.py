"""`symdyn codegen FILE`: the JAX source that `Model.lower()` compiles (for a PDE: its pointwise functions)."""

from __future__ import annotations

import argparse

# SymPy is imported inside run: `--help` needs it not


def add_parser(commands) -> None:
    parser = commands.add_parser("codegen", help="print the generated JAX functions of a model")
    parser.add_argument("file", metavar="FILE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..model import load

    print(load(args.file).lower().source, end="")
    return 0
