"""`symdyn check FILE...`: parse and check model files; `file:line:col: message` on error."""

from __future__ import annotations

import argparse
import sys

from .._errors import SymdynError

# SymPy is imported inside run: `--help` needs it not


def add_parser(commands) -> None:
    parser = commands.add_parser("check", help="check model files for errors")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..model import load

    failed = 0
    for path in args.files:
        try:
            model = load(path)
        except SymdynError as error:
            print(error, file=sys.stderr)
            failed += 1
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror or error}", file=sys.stderr)
            failed += 1
        else:
            kind = "PDE" if model.is_pde else "ODE"
            unknowns = ""
            if model.unknowns:  # a template: its coefficients are fitted to data by `symdyn discover`
                count = len(model.unknowns)
                names = ", ".join(u.name for u in model.unknowns)
                unknowns = f", {count} unknown{'s' * (count > 1)} to fit ({names})"
            if model.inputs:
                count = len(model.inputs)
                unknowns += f", {count} input{'s' * (count > 1)} ({', '.join(i.name for i in model.inputs)})"
            print(
                f"{path}: ok: {kind} model {model.name}, {len(model.state_vector)} first-order states, "
                f"{len(model.parameters)} parameters{unknowns}"
            )
    return 1 if failed else 0
