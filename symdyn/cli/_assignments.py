"""Parsing of NAME=VALUE and NAME=LOW:HIGH command-line assignments, with messages that name the flag.

NAME is resolved by `symdyn.model.match_name`: a first-order entry `θˍt` may be written
`θ_t` or `D(θ)`, and a spelled-out `gamma` gets "did you mean `γ`?".
"""

from __future__ import annotations

from ..data import Uniform
from ..model import match_name, spellings


def _known(names: tuple[str, ...]) -> str:
    """`θ, θˍt (or θ_t, D(θ))`: the names a flag takes, with the other spellings of first-order entries."""
    written = [name + (f" (or {', '.join(spellings(name))})" if spellings(name) else "") for name in names]
    return ", ".join(written) or "none"


def _resolve(item: str, flag: str, form: str, names: tuple[str, ...]) -> tuple[str, str]:
    """(the name of `names` that `item` sets, what follows its `=`), or a ValueError naming the flag."""
    written, sep, value = item.partition("=")
    found = match_name(written, names)
    if sep and found.name is not None:
        return found.name, value
    hint = ""
    if sep and found.suggestion:  # a first-order entry in the spelling one can type: `θ_t`
        hint = f"; did you mean `{(*spellings(found.suggestion), found.suggestion)[0]}`?"
    raise ValueError(f"{flag} {item!r}: expected {form} with NAME one of {_known(names)}{hint}")


def assignments(items: list[str], flag: str, names: tuple[str, ...]) -> dict[int, float]:
    """`NAME=VALUE` items as {index of NAME in names: value}."""
    values = {}
    for item in items:
        name, value = _resolve(item, flag, "NAME=VALUE", names)
        try:
            values[names.index(name)] = float(value)
        except ValueError:
            raise ValueError(f"{flag} {item!r}: {value!r} is not a number") from None
    return values


def draws(items: list[str], names: tuple[str, ...]) -> dict[str, Uniform]:
    """`--draw NAME=LOW:HIGH` items as {NAME: Uniform(LOW, HIGH)}."""
    drawn = {}
    for item in items:
        name, interval = _resolve(item, "--draw", "NAME=LOW:HIGH", names)
        low, colon, high = interval.partition(":")
        try:
            if not colon:
                raise ValueError
            drawn[name] = Uniform(float(low), float(high))
        except ValueError:
            raise ValueError(f"--draw {item!r}: expected NAME=LOW:HIGH with NAME one of {_known(names)}") from None
    return drawn
