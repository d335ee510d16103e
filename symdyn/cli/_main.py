"""`symdyn COMMAND ...`: argument parsing and the one place where errors become exit codes."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence

from .._errors import SymdynError
from . import _audit, _check, _codegen, _discover, _evaluate, _mnn, _show, _simulate, _stability, _train

_COMMANDS = (_check, _show, _codegen, _simulate, _stability, _audit, _discover, _train, _evaluate, _mnn)


class _Parser(argparse.ArgumentParser):
    """argparse, with the closest known option suggested for a mistyped one (`--tend` → `--t-end`)."""

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str):
        given = getattr(self, "_given", [])
        known = list(self._option_string_actions)
        for action in self._actions:  # the options of the command given, for the top-level parser
            if isinstance(action, argparse._SubParsersAction):
                command = next((action.choices[t] for t in given if t in action.choices), None)
                known += list(command._option_string_actions) if command is not None else []
        for token in given:
            flag = token.split("=", 1)[0]
            if flag.startswith("--") and flag not in known:
                close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]}?" if close else ""
                message = f"unknown option {flag}{hint}"
                break
        super().error(message)


class _NeverRaised(Exception):
    """Stands for an error class whose module was never imported: nothing can have raised it."""


def _loaded(module: str, name: str) -> type[BaseException]:
    """`module.name` if a command imported `module`; its errors are caught without importing it (JAX)."""
    return getattr(sys.modules[module], name) if module in sys.modules else _NeverRaised


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symdyn",
        description="Dynamical systems from model files: exact Jacobians, JAX code, simulation.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader stopped (`symdyn discover ... | head -1`): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's own flush at exit does not fail again
        return 0
    except SymdynError as error:
        print(error, file=sys.stderr)
        return 1
    except _loaded("symdyn._results", "SymdynRuntimeError") as error:
        hint = getattr(args, "runtime_hint", None)
        print(f"symdyn {args.command}: error: {error.message}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 1
    except _loaded("equinox", "EquinoxRuntimeError") as error:  # from a compiled program: the first line says it
        message = str(error).split("EquinoxRuntimeError: ", 1)[-1].split("\n", 1)[0]
        print(f"symdyn {args.command}: error: {message}", file=sys.stderr)
        return 1
    except FloatingPointError as error:
        print(f"symdyn {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, NotImplementedError) as error:
        print(f"symdyn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"symdyn {args.command}: error: {error.strerror or error}: {error.filename}", file=sys.stderr)
        return 2
