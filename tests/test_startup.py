"""Start-up: `import symdyn` and the command's parsers load neither JAX, SymPy nor matplotlib."""

from __future__ import annotations

import subprocess
import sys

import symdyn
from symdyn.cli import _choices
from symdyn.cli._main import build_parser

HEAVY = ("jax", "sympy", "matplotlib")


def _subcommands(parser):
    """(path of command words, parser) for every command and sub-command."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for name, sub in action.choices.items():
            yield (name,), sub
            for path, deeper in _subcommands(sub):
                yield (name, *path), deeper


def test_the_parsers_and_help_import_no_heavy_module():
    script = f"""
import contextlib, io, sys
from symdyn.cli import main
from symdyn.cli._main import build_parser
for words in {[list(path) for path, _ in _subcommands(build_parser())]!r}:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main([*words, "--help"])
        except SystemExit as exit:
            assert exit.code == 0, words
print(sorted(name for name in {HEAVY!r} if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in symdyn.__all__:
        assert getattr(symdyn, name) is not None, name
    assert set(symdyn.__all__) <= set(dir(symdyn))
    assert symdyn.Model.__module__.startswith("symdyn.model")
    namespace: dict = {}
    exec(f"from symdyn import {', '.join(symdyn.__all__)}", namespace)  # the form users write
    assert all(name in namespace for name in symdyn.__all__)


def test_an_unknown_name_is_an_attribute_error():
    try:
        symdyn.integrate_everything  # noqa: B018
    except AttributeError as error:
        assert "integrate_everything" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_the_parsers_choices_equal_the_registries():
    from symdyn.data import PRESETS
    from symdyn.discovery import SMNN, WeakForm
    from symdyn.integrators import available

    assert _choices.INTEGRATORS == available()
    assert _choices.INTEGRATORS_ANY == available(split=False)
    assert _choices.PRESETS == tuple(sorted(PRESETS))
    assert _choices.SMNN_DEFAULTS == {name: getattr(SMNN, name) for name in _choices.SMNN_DEFAULTS}
    assert _choices.WEAK_DEFAULTS == {name: getattr(WeakForm, name) for name in _choices.WEAK_DEFAULTS}
