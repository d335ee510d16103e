"""Every code block of README.md and docs/ runs, so that a changed API breaks a test, not the reader.

A page's blocks run in order, in a scratch folder that holds the repository's `examples/`:
- ```python: executed, one namespace per page (a block of `>>>` lines runs as a doctest);
- ```sh: each `symdyn` command runs through the command line and must succeed; a `make` line must name a
  target of the Makefile, a `python SCRIPT` line a script whose options include the ones given;
- ```console: `$ symdyn ...` lines run, and the output printed below each must appear in what the command
  prints (`...` stands for anything);
- ```sdyn: a model (`model ... end`) must parse;
- ```text and unlabelled blocks are output or layout, and are not run.

A comment right above a block may shrink its work for the test, as in `<!-- test: "--epochs 300" -> "--epochs 2" -->`
(several pairs separated by `;`): what runs is then the block with those replacements, and nothing else.
The pages in HEAVY run with the exhaustive tier (`make test-all`, which CI runs too).
"""

from __future__ import annotations

import contextlib
import doctest
import fnmatch
import glob
import io
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLES

import symdyn
from symdyn.cli import main

ROOT = EXAMPLES.parent
# pages whose blocks train, discover or integrate at length: in the exhaustive tier (make test-all, CI)
HEAVY = ("training.md", "mnn.md", "pde.md", "discovery.md", "smnn.md", "integrators.md")
PAGES = [
    pytest.param(page, marks=pytest.mark.exhaustive) if page.name in HEAVY else page
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
]
RUN = ("python", "sh", "console", "sdyn")
KNOWN = (*RUN, "text", "")

_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*test:(.*?)-->\s*$")
_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*->\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    text: str


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, with their replacements applied."""
    found, lines = [], page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        text = "\n".join(lines[i + 1 : end]) + "\n"
        directive = _DIRECTIVE.match(lines[i - 1]) if i else None
        for old, new in _PAIR.findall(directive[1]) if directive else ():
            assert old in text, f"{page.name}:{i + 1}: the test's replacement {old!r} is not in the block"
            text = text.replace(old, new)
        found.append(Block(page.name, i + 1, fence[1], text))
        i = end + 1
    return found


def commands(text: str) -> list[str]:
    """Command lines of a shell block: continuations joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = (line.split(" #")[0].strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run_symdyn(command: str) -> tuple[int, str]:
    # a pattern that matches no file stays as written, as in the shell (`--terms "x*y"`)
    args = [
        a for part in shlex.split(command)[1:] for a in ((sorted(glob.glob(part)) or [part]) if "*" in part else [part])
    ]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue() + err.getvalue()


def check_script(command: str) -> None:
    """`python SCRIPT ARGS`: the script exists and takes every option given (its --help lists it)."""
    parts = shlex.split(command)
    script = Path(parts[1])
    assert script.exists(), f"{command}: no script {script}"
    usage = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 0, usage.stderr
    for option in (p.split("=")[0].strip("[]") for p in parts[2:] if p.lstrip("[").startswith("--")):
        assert option in usage.stdout, f"{command}: {script} has no option {option}"


def run_block(block: Block, namespace: dict) -> None:
    where = f"{block.page}:{block.line}"
    if block.language == "python" and block.text.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(block.text, namespace, where, block.page, block.line)
        flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
        runner = doctest.DocTestRunner(optionflags=flags)
        output = io.StringIO()
        runner.run(test, out=output.write, clear_globs=False)
        assert runner.failures == 0, output.getvalue()
        namespace.update(test.globs)  # doctest ran on a copy: later blocks see what it defined
    elif block.language == "python":
        exec(compile(block.text, where, "exec"), namespace)
    elif block.language == "sh":
        for command in commands(block.text):
            if command.startswith("symdyn "):
                code, printed = run_symdyn(command)
                assert code == 0, f"{where}: `{command}` exited {code}:\n{printed[-2000:]}"
            elif command.startswith("make "):
                target = command.split()[1]
                assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), command
            elif command.startswith("python "):
                check_script(command)
            else:
                raise AssertionError(f"{where}: a shell line the docs test cannot check: {command}")
    elif block.language == "console":
        for command, expected in re.findall(r"^\$ (.+)\n((?:(?!\$ ).*\n)*)", block.text, re.M):
            _, printed = run_symdyn(command)
            lines = [line.strip() for line in printed.splitlines()]
            for wanted in filter(None, (line.strip() for line in expected.splitlines())):
                pattern = wanted.replace("[", "[[]").replace("...", "*")
                assert any(fnmatch.fnmatchcase(line, pattern) for line in lines), (
                    f"{where}: `{command}` does not print\n  {wanted}\nit prints:\n{printed}"
                )
    elif block.language == "sdyn":
        symdyn.parse(block.text, filename=where)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(EXAMPLES)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    found = blocks(page)
    unknown = [f"{b.page}:{b.line} ```{b.language}" for b in found if b.language not in KNOWN]
    assert not unknown, f"blocks of no known kind: {unknown}"
    for block in found:
        if block.language in RUN:
            run_block(block, namespace)
