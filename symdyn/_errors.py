"""Errors that point into model files: SymdynError and its family, spans, the caret renderer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of a model file; lines and columns count from 1, end_column is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int) -> Span:
        return cls(line, column, line, column + 1)


@dataclass(frozen=True)
class Source:
    """The text of a model file and the name it is reported under."""

    text: str
    filename: str | None = None

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def clamp(self, span: Span) -> Span:
        """The span moved inside the text: a line that exists, a column on it or just past its end."""
        lines = self.lines
        line = min(max(span.line, 1), len(lines))
        width = len(lines[line - 1].rstrip("\r"))
        column = min(max(span.column, 1), width + 1)
        end_column = span.end_column if span.end_line == line else width + 1
        end_column = min(max(end_column, column + 1), max(width + 1, column + 1))
        return Span(line, column, line, end_column)


class SymdynError(Exception):
    """A fault in a model file, located by filename, line and column, with a hint.

    `str(error)` renders `file:line:col: message`, the offending line with a
    caret under the fault, and the hint.
    """

    def __init__(
        self,
        message: str,
        *,
        source: Source | None = None,
        span: Span | None = None,
        hint: str | None = None,
    ):
        self.message = message
        self.hint = hint
        self.filename = source.filename if source is not None else None
        if source is not None and span is not None:
            span = source.clamp(span)
            self.source_line: str | None = source.lines[span.line - 1].rstrip("\r")
        else:
            self.source_line = None
        self.span = span
        self.line = span.line if span is not None else None
        self.column = span.column if span is not None else None
        super().__init__(self._render())

    @property
    def location(self) -> str:
        """`file:line:col`, as compilers print it."""
        parts = [self.filename or "<model>"]
        if self.line is not None:
            parts += [str(self.line), str(self.column)]
        return ":".join(parts)

    def _render(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.source_line is not None and self.span is not None:
            gutter = f"{self.line:>4} | "
            width = max(self.span.end_column - self.span.column, 1)
            prefix = "".join(c if c == "\t" else " " for c in self.source_line[: self.column - 1])
            text += f"\n{gutter}{self.source_line}\n{' ' * (len(gutter) - 2)}| {prefix}{'^' * width}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class SymdynSyntaxError(SymdynError):
    """The text is not in the symdyn language: a stray character, a missing bracket, a truncated line."""


class SymdynSemanticError(SymdynError):
    """The text parses but does not describe a model: an undeclared name, a state without an equation, ..."""
