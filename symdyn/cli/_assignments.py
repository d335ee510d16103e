"""Parsing of NAME=VALUE and NAME=LOW:HIGH command-line assignments, with messages that name the flag."""

from __future__ import annotations

from ..data import Uniform


def assignments(items: list[str], flag: str, names: tuple[str, ...]) -> dict[int, float]:
    """`NAME=VALUE` items as {index of NAME in names: value}."""
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in names:
            known = ", ".join(names) or "none"
            raise ValueError(f"{flag} {item!r}: expected NAME=VALUE with NAME one of {known}")
        try:
            values[names.index(name)] = float(value)
        except ValueError:
            raise ValueError(f"{flag} {item!r}: {value!r} is not a number") from None
    return values


def draws(items: list[str], names: tuple[str, ...]) -> dict[str, Uniform]:
    """`--draw NAME=LOW:HIGH` items as {NAME: Uniform(LOW, HIGH)}."""
    drawn = {}
    for item in items:
        name, sep, interval = item.partition("=")
        low, colon, high = interval.partition(":")
        try:
            if not (sep and colon) or name.strip() not in names:
                raise ValueError
            drawn[name.strip()] = Uniform(float(low), float(high))
        except ValueError:
            raise ValueError(f"--draw {item!r}: expected NAME=LOW:HIGH with NAME one of {', '.join(names)}") from None
    return drawn
