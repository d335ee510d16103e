"""`symdyn show FILE`: the model as symdyn reads it, its first-order form, Jacobian and LaTeX."""

from __future__ import annotations

import argparse

import sympy as sp

from ..model import expression_to_latex, expression_to_text, load


def add_parser(commands) -> None:
    parser = commands.add_parser("show", help="print a model, its Jacobian or its LaTeX")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--first-order", action="store_true", help="print the first-order form")
    parser.add_argument("--jacobian", action="store_true", help="print the exact Jacobian of the first-order form")
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of symdyn text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = load(args.file)
    if args.first_order:
        model = model.first_order()
    print(model.to_latex() if args.latex else str(model), end="\n" if args.latex else "")
    if args.jacobian:
        jacobian = model.jacobian()
        vector = model.state_vector
        if args.latex:
            print(expression_to_latex(jacobian))
        else:
            print(f"\nJacobian ∂f/∂x, x = ({', '.join(s.name for s in vector)}):")
            print(sp.pretty(jacobian.applyfunc(lambda e: sp.Symbol(expression_to_text(e))), use_unicode=True))
    return 0
