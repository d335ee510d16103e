"""`symdyn codegen FILE`: the JAX source that `Model.lower()` compiles."""

from __future__ import annotations

import argparse

from ..lower import generate_module
from ..model import load


def add_parser(commands) -> None:
    parser = commands.add_parser("codegen", help="print the generated JAX functions of a model")
    parser.add_argument("file", metavar="FILE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(generate_module(load(args.file)).source, end="")
    return 0
