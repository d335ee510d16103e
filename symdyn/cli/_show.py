"""`symdyn show FILE`: the model as symdyn reads it, its first-order form, Jacobian and LaTeX."""

from __future__ import annotations

import argparse

# SymPy is imported inside run: `--help` needs it not


def add_parser(commands) -> None:
    parser = commands.add_parser("show", help="print a model, its Jacobian or its LaTeX")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--first-order", action="store_true", help="print the first-order form")
    parser.add_argument(
        "--jacobian",
        action="store_true",
        help="print the exact Jacobian of the first-order form (for a PDE: the linearised operator)",
    )
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of symdyn text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sympy as sp

    from ..model import expression_to_latex, expression_to_text, load

    model = load(args.file)
    if args.first_order:
        model = model.first_order()
    print(model.to_latex() if args.latex else str(model), end="\n" if args.latex else "")
    if args.jacobian and model.is_pde:
        # a PDE's Jacobian is an operator: show its action, pointwise in the jets of u and δu
        show = expression_to_latex if args.latex else expression_to_text
        for field, product in zip(model.state_vector, model.jvp()):
            print(f"\nLinearised operator, its action on δ{field.name}:\n{show(product)}")
    elif args.jacobian:
        jacobian = model.jacobian()
        if args.latex:
            print(expression_to_latex(jacobian))
        else:
            vector = ", ".join(s.name for s in model.state_vector)
            print(f"\nJacobian ∂f/∂x, x = ({vector}):")
            print(sp.pretty(jacobian.applyfunc(lambda e: sp.Symbol(expression_to_text(e))), use_unicode=True))
    return 0
