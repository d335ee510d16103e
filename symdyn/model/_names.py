"""ASCII spellings of model names, for LaTeX and for generated Python code."""

from __future__ import annotations

import unicodedata


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
        elif char == "ˍ":
            parts.append("_")
        elif "GREEK" in unicodedata.name(char, ""):
            letter = unicodedata.name(char).split()[-1].lower()
            parts.append(letter.capitalize() if "CAPITAL" in unicodedata.name(char) else letter)
        else:
            parts.append(f"u{ord(char):04x}")
    return "".join(parts)
