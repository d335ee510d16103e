"""Names as people write them: ASCII spellings, the spellings of first-order entries, and suggestions.

A first-order entry such as `θˍt` (U+02CD, ModelingToolkit's mark) may also be written
`θ_t` or `D(θ)`; `match_name` is the one place that resolves a written name against the
names of a model, for command-line flags and for the columns of trajectory files.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

# The mark between a state and its derivative letters in first-order names: `θˍt`, `uˍxx`.
JET_MARK = "ˍ"

_DERIVATIVE = re.compile(r"D(?:\^(\d+))?\((.+)\)")


def ascii_name(name: str, subscript: str = "_") -> str:
    """`σ₁` -> `sigma_1` (`sigma1` with `subscript=""`), `Δx` -> `Deltax`, `xˍt` -> `x_t`.

    Other non-ASCII characters become `u` and their code point.
    """
    parts = []
    for char in name:
        if char.isascii():
            parts.append(char)
        elif unicodedata.digit(char, None) is not None:
            parts.append(subscript + str(unicodedata.digit(char)))
        elif char == JET_MARK:
            parts.append("_")
        elif "GREEK" in unicodedata.name(char, ""):
            letter = unicodedata.name(char).split()[-1].lower()
            parts.append(letter.capitalize() if "CAPITAL" in unicodedata.name(char) else letter)
        else:
            parts.append(f"u{ord(char):04x}")
    return "".join(parts)


def time_derivative(name: str) -> tuple[str, int]:
    """`θˍt` -> (`θ`, 1), `θˍtt` -> (`θ`, 2), `xˍτ₁ˍτ₁` -> (`x`, 2); any other name -> (name, 0).

    Reads the first-order names of `jet_name`: a state, the mark, then one variable repeated.
    """
    base, mark, rest = name.partition(JET_MARK)
    if not (mark and base and rest):
        return name, 0
    if JET_MARK in rest:
        letters = rest.split(JET_MARK)
        return (base, len(letters)) if all(letters) and len(set(letters)) == 1 else (name, 0)
    return (base, len(rest)) if len(set(rest)) == 1 else (base, 1)


def spellings(name: str) -> tuple[str, ...]:
    """The other ways to write a first-order entry: `θˍt` -> (`θ_t`, `D(θ)`); () for other names."""
    base, order = time_derivative(name)
    if not order:
        return ()
    return name.replace(JET_MARK, "_"), f"D({base})" if order == 1 else f"D^{order}({base})"


class NameMatch(NamedTuple):
    """What a written name resolves to: `name` (one of the model's), else a `suggestion` (or None)."""

    name: str | None
    suggestion: str | None


def match_name(written: str, names: Iterable[str]) -> NameMatch:
    """Resolve `written` against `names`, the names of a model (its states, parameters, ...).

    A name matches itself; a first-order entry `θˍt` also matches `θ_t` and `D(θ)`
    (`θˍtt`: `θ_tt`, `D^2(θ)`, `D(D(θ))`). Unicode names and their spelled-out forms are
    different names, so `gamma` does not match `γ`: it is suggested instead.

    Example:
        >>> match_name("D(θ)", ["θ", "θˍt"])
        NameMatch(name='θˍt', suggestion=None)
        >>> match_name("gamma", ["γ", "x"])
        NameMatch(name=None, suggestion='γ')
    """
    names = list(dict.fromkeys(names))
    found = _resolve("".join(written.split()), names)
    return NameMatch(found, None if found is not None else closest_name(written, names))


def _resolve(written: str, names: list[str]) -> str | None:
    if written in names:
        return written
    for name in names:
        if JET_MARK in name and name.replace(JET_MARK, "_") == written:
            return name
    derivative = _DERIVATIVE.fullmatch(written)
    if derivative is None:
        return None
    order, inner = int(derivative[1] or 1), derivative[2]
    base, inner_order = time_derivative(_resolve(inner, names) or inner)
    return next((n for n in names if order and time_derivative(n) == (base, inner_order + order)), None)


def closest_name(written: str, names: Iterable[str]) -> str | None:
    """The name a misspelt `written` most likely means: `gamma` -> `γ`, `theta_t` -> `θˍt`, `sigm` -> `sigma`."""
    names = list(dict.fromkeys(names))
    flat = "".join(written.split())
    for name in names:
        if flat in (ascii_name(name), ascii_name(name, subscript="")):
            return name
    derivative = _DERIVATIVE.fullmatch(flat)
    if derivative is not None:  # `D(theta)`: the entry of the state the inner name means
        base = closest_name(derivative[2], [time_derivative(n)[0] for n in names])
        if base is not None:
            return _resolve(f"D{'^' + derivative[1] if derivative[1] else ''}({base})", names)
    close = [name for name in names if name.casefold() == flat.casefold()]
    close = close or difflib.get_close_matches(written, names, n=1, cutoff=0.6)
    if close:
        return close[0]
    spelled = {ascii_name(name): name for name in names}
    close = difflib.get_close_matches(ascii_name(written), list(spelled), n=1, cutoff=0.8)
    return spelled[close[0]] if close else None
