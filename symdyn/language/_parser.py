"""Text to syntax tree: the lark parser, its post-lexer and the Transformer to `_syntax` nodes."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError
from lark.lark import PostLex

from .._errors import Source, Span, SymdynError
from . import _syntax as syn
from ._syntax_errors import syntax_error


def _grammar_text() -> str:
    """The grammar shipped in the wheel, or the repository's `grammar/` in a source checkout."""
    packaged = resources.files("symdyn").joinpath("grammar", "symdyn.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "grammar" / "symdyn.lark"
    return checkout.read_text(encoding="utf-8")


class _BracketNewlines(PostLex):
    """Drops newlines inside brackets (line continuation) and merges runs of newlines."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        last_was_newline = False
        for token in stream:
            if token.type == "_NL":
                if depth > 0 or last_was_newline:
                    continue
                last_was_newline = True
            else:
                last_was_newline = False
                if token.type == "LPAR":
                    depth += 1
                elif token.type == "RPAR":
                    depth = max(depth - 1, 0)
            yield token


@functools.cache
def lark_parser() -> Lark:
    return Lark(
        _grammar_text(),
        parser="lalr",
        propagate_positions=True,
        postlex=_BracketNewlines(),
        maybe_placeholders=True,
    )


def _token_span(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def _meta_span(meta) -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


@v_args(meta=True)
class _ToSyntax(Transformer):
    """lark tree to `_syntax` dataclasses."""

    # --- expressions
    def number(self, meta, children):
        (token,) = children
        return syn.Number(str(token), _token_span(token))

    def name(self, meta, children):
        (token,) = children
        return syn.Name(str(token), _token_span(token))

    def _binary(op):
        def build(self, meta, children):
            left, right = children
            return syn.BinaryOp(op, left, right, _meta_span(meta))

        return build

    add, sub, mul, div, pow = _binary("+"), _binary("-"), _binary("*"), _binary("/"), _binary("^")

    def neg(self, meta, children):
        return syn.UnaryOp("-", children[0], _meta_span(meta))

    def pos(self, meta, children):
        return syn.UnaryOp("+", children[0], _meta_span(meta))

    def juxtapose(self, meta, children):
        coefficient, operand = children
        number = syn.Number(str(coefficient), _token_span(coefficient))
        return syn.BinaryOp("*", number, operand, _meta_span(meta), implicit=True)

    def call(self, meta, children):
        callee, *arguments = children
        name, power = str(callee), None
        if callee.type == "OPERATOR_POWER":
            name, exponent = name.split("^")
            power = int(exponent)
        return syn.Call(name, power, tuple(arguments), _meta_span(meta), _token_span(callee))

    # --- declarations
    def symbol_decl(self, meta, children):
        name, value = children
        return (self.name(meta, [name]), value, _meta_span(meta))

    def _symbols(kind):
        def build(self, meta, items):
            return [syn.SymbolDeclaration(kind, name, value, span) for name, value, span in items]

        return build

    parameters = _symbols("parameter")
    constants = _symbols("constant")
    unknowns = _symbols("unknown")

    def variable_decl(self, meta, children):
        name, *arguments, value = children
        names = tuple(self.name(meta, [a]) for a in arguments)
        return syn.VariableDeclaration(self.name(meta, [name]), names, value, _meta_span(meta))

    def variables(self, meta, items):
        return items

    def input_decl(self, meta, children):
        name, argument, value = children
        argument = None if argument is None else self.name(meta, [argument])
        return syn.InputDeclaration(self.name(meta, [name]), argument, value, _meta_span(meta))

    def inputs(self, meta, items):
        return items

    def initial_value(self, meta, children):
        target, value = children
        return syn.InitialValue(target, value, _meta_span(meta))

    def initial(self, meta, items):
        return items

    def definition(self, meta, children):
        name, value = children
        return (self.name(meta, [name]), value, _meta_span(meta))

    def _definitions(kind):
        def build(self, meta, items):
            return [syn.Definition(kind, name, value, span) for name, value, span in items]

        return build

    observed = _definitions("observed")
    conserved = _definitions("conserved")

    def keyword(self, meta, children):
        name, value = children
        return syn.Keyword(self.name(meta, [name]), value, _meta_span(meta))

    def coordinate(self, meta, children):
        name, kind, *rest = children
        arguments = tuple(c for c in rest if not isinstance(c, syn.Keyword))
        keywords = tuple(c for c in rest if isinstance(c, syn.Keyword))
        return syn.CoordinateDeclaration(
            self.name(meta, [name]), self.name(meta, [kind]), arguments, keywords, _meta_span(meta)
        )

    def domain(self, meta, items):
        return items

    def equation(self, meta, children):
        lhs, rhs = children
        return syn.Equation(lhs, rhs, _meta_span(meta))

    def equations(self, meta, items):
        return items

    def boundary(self, meta, items):
        return [syn.Equation(e.lhs, e.rhs, e.span, boundary=True) for e in items]

    # --- the model
    def model(self, meta, children):
        name, *statements = children
        flat: list[syn.Statement] = []
        for statement in statements:
            flat.extend(statement if isinstance(statement, list) else [statement])
        return syn.ModelSyntax(self.name(meta, [name]), tuple(flat), _meta_span(meta))

    def start(self, meta, children):
        return children[0]

    del _binary, _symbols, _definitions


def parse_syntax(text: str, filename: str | None = None) -> syn.ModelSyntax:
    """Parse model text into a syntax tree.

    Raises:
        SymdynSyntaxError: located at the fault, with a hint.
    """
    source = Source(text, filename)
    parser = lark_parser()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as error:
        raise syntax_error(error, source, parser) from None
    try:
        return _ToSyntax().transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, SymdynError):
            raise error.orig_exc from None
        raise
