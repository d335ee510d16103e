"""lark's parse failures turned into located `SymdynSyntaxError`s with hints.

`SYNTAX_MISTAKES` is the one table of common mistakes: it classifies errors
(through lark's `match_examples`) and the tests run every example in it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .._errors import Source, Span, SymdynSyntaxError

DECLARATIONS = (
    "@parameters",
    "@constants",
    "@unknowns",
    "@variables",
    "@inputs",
    "@initial",
    "@observed",
    "@conserved",
    "@domain",
    "@boundary",
    "@equations",
)


@dataclass(frozen=True)
class SyntaxMistake:
    message: str
    hint: str
    examples: tuple[str, ...]


def _model(body: str) -> tuple[str, ...]:
    """`body` as the first statement, a later one and inside `@equations begin ... end`.

    lark tells parser states apart by stack depth, which differs between these places.
    """
    return (
        f"model M\n    {body}\nend\n",
        f"model M\n    @variables x(t) = 1\n    {body}\nend\n",
        f"model M\n    @equations begin\n        {body}\n    end\nend\n",
        f"model M\n    @equations begin\n        D(y) ~ y\n        {body}\n    end\nend\n",
    )


def _models(*bodies: str) -> tuple[str, ...]:
    return tuple(example for body in bodies for example in _model(body))


SYNTAX_MISTAKES: dict[str, SyntaxMistake] = {
    "equals_in_equation": SyntaxMistake(
        "an equation relates its sides with `~`, not `=`",
        "write `D(x) ~ -x`; `=` gives values in declarations",
        _models("D(x) = -x", "D(D(x)) = -x", "D^2(x) = -x"),
    ),
    "double_star": SyntaxMistake(
        "`**` is not an operator here",
        "write powers with `^`, as in Julia: `x^2`",
        _models("D(x) ~ x**2", "D(x) ~ 2*x**2"),
    ),
    "number_before_bracket": SyntaxMistake(
        "a number cannot multiply a bracket by juxtaposition",
        "write `2*(x + 1)`; juxtaposition works for a number and a name, as in `2x`",
        _models("D(x) ~ 2(x + 1)", "D(x) ~ -2(x + 1)", "D(x) ~ x - 2(x + 1)"),
    ),
    "dangling_operator": SyntaxMistake(
        "the expression ends after an operator",
        "finish the expression; to break a long one over lines, wrap it in parentheses",
        _models(*(f"D(x) ~ x {op}" for op in "+-*/^")),
    ),
    "missing_right_side": SyntaxMistake(
        "the equation has no right-hand side",
        "write what the derivative equals after `~`: `D(x) ~ -x`",
        _models("D(x) ~"),
    ),
    "state_without_arguments": SyntaxMistake(
        "a state is declared with its independent variables",
        "write `x(t) = 1` for an ODE state, `u(t, x)` for a field",
        ("model M\n    @variables x = 1\nend\n", "model M\n    @variables x\nend\n"),
    ),
    "missing_end": SyntaxMistake(
        "the file ends before the model's closing `end`",
        "close the model with `end` on a line of its own",
        ("model M\n    D(x) ~ x\n", "model M\n"),
    ),
    "missing_model": SyntaxMistake(
        "a model file starts with `model Name`",
        "wrap the statements in `model Name` ... `end`",
        ("@parameters a = 1\n", "D(x) ~ x\n", "", "# a comment only\n"),
    ),
}

_EXPRESSION_STARTS = {"NAME", "NUMBER", "COEFFICIENT", "LPAR", "MINUS", "PARTIAL", "OPERATOR_POWER"}


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "_NL":
        return "end of line"
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type in ("NUMBER", "COEFFICIENT"):
        return f"number `{token}`"
    return f"`{token}`"


def _describe_expected(expected: set[str], parser: Lark) -> str:
    words: list[str] = []
    if expected & _EXPRESSION_STARTS:
        words.append("an expression" if expected & {"NUMBER", "LPAR"} else "a name")
    for name in sorted(expected - _EXPRESSION_STARTS):
        if name in ("_NL", "$END"):
            words.append("end of line" if name == "_NL" else "end of file")
        elif name in ("PLUS", "STAR", "SLASH", "CIRCUMFLEX", "INTEGRAL", "COMMA", "SEMICOLON"):
            continue  # operators that may follow anything: listing them does not help
        else:
            try:
                words.append(f"`{parser.get_terminal(name).pattern.value}`")
            except KeyError:
                continue
    words = list(dict.fromkeys(words))
    if not words:
        return ""
    if len(words) > 4:
        words = words[:4] + ["..."]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _unclosed_bracket(parser: Lark, text: str, before: tuple[int, int]) -> Token | None:
    """The innermost `(` still open at `before` (line, column), if any."""
    stack: list[Token] = []
    try:
        for token in parser.lex(text):
            if (token.line, token.column) >= before:
                break
            if token.type == "LPAR":
                stack.append(token)
            elif token.type == "RPAR" and stack:
                stack.pop()
    except UnexpectedInput:
        pass
    return stack[-1] if stack else None


def _closed_on_its_line(parser: Lark, text: str, opened: Token, line: int) -> bool:
    """Whether the bracket `opened` is closed by line `line` (lexing errors count as closed: no claim)."""
    depth = 0
    try:
        for token in parser.lex(text):
            if token.line > line:
                return False
            if (token.line, token.column) < (opened.line, opened.column):
                continue
            depth += {"LPAR": 1, "RPAR": -1}.get(token.type, 0)
            if depth == 0:
                return True
    except UnexpectedInput:
        return True
    return False


def _end_of_text(source: Source) -> Span:
    lines = source.text.rstrip().split("\n")
    return Span.point(len(lines), len(lines[-1].rstrip("\r")) + 1)


def syntax_error(error: UnexpectedInput, source: Source, parser: Lark) -> SymdynSyntaxError:
    """The `SymdynSyntaxError` that explains lark's `error` in `source`."""
    if isinstance(error, UnexpectedCharacters):
        span = Span.point(error.line, error.column)
        word = re.match(r"@?\w*", source.text[error.pos_in_stream :]).group(0)
        if word.startswith("@"):
            close = difflib.get_close_matches(word, DECLARATIONS, n=1)
            hint = f"did you mean `{close[0]}`?" if close else "declarations are " + ", ".join(DECLARATIONS)
            span = Span(error.line, error.column, error.line, error.column + len(word))
            return SymdynSyntaxError(f"unknown declaration `{word}`", source=source, span=span, hint=hint)
        char = source.text[error.pos_in_stream]
        return SymdynSyntaxError(
            f"unexpected character `{char}`",
            source=source,
            span=span,
            hint="names start with a letter; operators are + - * / ^ and equations use ~",
        )

    token = error.token if isinstance(error, UnexpectedToken) else None
    if token is None or token.type == "$END":
        span = _end_of_text(source)
    else:
        span = Span(token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)

    opened = _unclosed_bracket(parser, source.text, (span.line, span.column))
    if opened is not None and (token is None or token.type == "$END" or token.line > opened.line):
        return SymdynSyntaxError(
            "this `(` is never closed",
            source=source,
            span=Span.point(opened.line, opened.column),
            hint=f"close it before the statement ends; the parser ran on to line {span.line}",
        )

    # `sin(θ ~ A*cos(ω*t)`: the parser stops at `~`, but the fault is the bracket left open before it
    relation = {"TILDE": "`~`", "EQUAL": "`=`"}.get(token.type) if token is not None else None
    if opened is not None and relation and not _closed_on_its_line(parser, source.text, opened, token.line):
        return SymdynSyntaxError(
            "this `(` is never closed",
            source=source,
            span=Span.point(opened.line, opened.column),
            hint=f"close it before {relation}, which stands outside brackets",
        )

    label = _common_mistake(error, parser)
    if label is not None:
        mistake = SYNTAX_MISTAKES[label]
        return SymdynSyntaxError(mistake.message, source=source, span=span, hint=mistake.hint)

    message = f"unexpected {_describe_token(token)}" if token is not None else "unexpected end of file"
    expected = _describe_expected(set(getattr(error, "expected", ()) or ()), parser)
    if expected:
        message += f"; expected {expected}"
    return SymdynSyntaxError(message, source=source, span=span, hint=_generic_hint(token))


def _common_mistake(error: UnexpectedInput, parser: Lark) -> str | None:
    """The label of SYNTAX_MISTAKES whose examples fail in the same parser state on the same kind of token.

    Like lark's `match_examples`, but the token kind must agree too: after `x` in
    an equation, `(` and a name fail in the same state for different reasons.
    """
    token = getattr(error, "token", None)
    for label, mistake in SYNTAX_MISTAKES.items():
        for example in mistake.examples:
            try:
                parser.parse(example)
            except UnexpectedInput as other:
                other_token = getattr(other, "token", None)
                same_token = (token is None) == (other_token is None) and (
                    token is None or token.type == other_token.type
                )
                if other.state == error.state and same_token:
                    return label
    return None


def _generic_hint(token: Token | None) -> str:
    if token is not None and token.type == "_NL":
        return "a statement ends at the end of its line; continue it inside parentheses"
    if token is not None and token.type in ("NAME", "NUMBER"):
        return "two values side by side need an operator between them, such as `*`"
    return "see docs/language.md for the statements a model can hold"
