"""Names as people write them: first-order entries as `θ_t` or `D(θ)`, spelled-out Greek names suggested,
in `match_name` and in the command-line flags that use it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES

from symdyn.cli import main
from symdyn.model import NameMatch, match_name, spellings

PENDULUM = ("θ", "θˍt")  # the first-order state of examples/pendulum.sdyn
THIRD = ("x", "xˍt", "xˍtt", "y")


@pytest.mark.parametrize(
    "written, names, found",
    [
        ("θˍt", PENDULUM, "θˍt"),
        ("θ_t", PENDULUM, "θˍt"),
        ("D(θ)", PENDULUM, "θˍt"),
        (" D( θ ) ", PENDULUM, "θˍt"),
        ("D(θ_t)", ("θ", "θˍt", "θˍtt"), "θˍtt"),
        ("D^2(x)", THIRD, "xˍtt"),
        ("D(D(x))", THIRD, "xˍtt"),
        ("x_tt", THIRD, "xˍtt"),
        ("D(x)", ("xˍt",), "xˍt"),  # the state itself need not be among the names
        ("D^3(x)", THIRD, None),  # not an entry of the first-order state
        ("D(y)", THIRD, None),
        ("x_t", ("x", "xˍt", "x_t"), "x_t"),  # a declared name wins over a spelling
        ("gamma", ("γ",), None),  # a spelled-out name is another name
    ],
)
def test_a_written_name_resolves_to_the_models(written, names, found):
    assert match_name(written, names).name == found


@pytest.mark.parametrize(
    "written, names, suggestion",
    [
        ("gamma", ("γ", "x"), "γ"),
        ("theta", PENDULUM, "θ"),
        ("Gamma", ("Γ", "γ"), "Γ"),
        ("sigma1", ("σ₁", "σ₂"), "σ₁"),
        ("theta_t", PENDULUM, "θˍt"),
        ("D(theta)", PENDULUM, "θˍt"),
        ("l", ("L",), "L"),
        ("sigm", ("sigma",), "sigma"),
        ("gama", ("γ",), "γ"),
        ("zzz", PENDULUM, None),
    ],
)
def test_a_name_that_resolves_to_nothing_gets_a_suggestion(written, names, suggestion):
    assert match_name(written, names) == NameMatch(None, suggestion)


def test_the_other_spellings_of_a_first_order_entry():
    assert spellings("θˍt") == ("θ_t", "D(θ)")
    assert spellings("xˍtt") == ("x_tt", "D^2(x)")
    assert spellings("θ") == spellings("x_t") == ()


PENDULUM_FILE = str(EXAMPLES / "pendulum.sdyn")
THIRD_ORDER_FILE = str(EXAMPLES / "third_order.sdyn")


def simulate(tmp_path, model: str, *flags: str) -> np.lib.npyio.NpzFile | None:
    """`symdyn simulate` for two steps of 0.1 with `flags`: the data written, or None when refused."""
    out = tmp_path / "out.npz"
    code = main(["simulate", model, "--t-end", "0.2", "--dt", "0.1", "-o", str(out), *flags])
    return np.load(out) if code == 0 else None


@pytest.mark.parametrize("written", ["θˍt", "θ_t", "D(θ)"])
def test_initial_takes_a_first_order_entry_in_every_spelling(tmp_path, written):
    assert simulate(tmp_path, PENDULUM_FILE, "--initial", f"{written}=1.5")["θˍt"][0] == 1.5


def test_initial_takes_higher_derivatives_as_d_powers(tmp_path):
    data = simulate(tmp_path, THIRD_ORDER_FILE, "--initial", "D^2(y)=2", "--initial", "y_t=3")
    assert (data["yˍtt"][0], data["yˍt"][0], data["y"][0]) == (2.0, 3.0, 0.0)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--param", "l=2"], "--param 'l=2': expected NAME=VALUE with NAME one of L; did you mean `L`?"),
        (
            ["--initial", "theta_t=1"],
            "--initial 'theta_t=1': expected NAME=VALUE with NAME one of θ, θˍt (or θ_t, D(θ)); did you mean `θ_t`?",
        ),
        (["--initial", "D(θ)"], "--initial 'D(θ)': expected NAME=VALUE with NAME one of θ, θˍt (or θ_t, D(θ))"),
        (["--initial", "D^2(θ)=1"], "--initial 'D^2(θ)=1': expected NAME=VALUE with NAME one of θ, θˍt (or θ_t, D(θ))"),
        (["--initial", "θ=one"], "--initial 'θ=one': 'one' is not a number"),
        (["--draw", "ell=1:2"], "--draw 'ell=1:2': expected NAME=LOW:HIGH with NAME one of L"),
    ],
    ids=["case", "spelled out", "no value", "no such entry", "not a number", "draw"],
)
def test_a_flag_with_an_unknown_name_says_what_was_meant(tmp_path, capsys, flags, message):
    assert simulate(tmp_path, PENDULUM_FILE, *flags) is None
    assert capsys.readouterr().err == f"symdyn simulate: error: {message}\n"


def test_a_spelled_out_greek_parameter_is_suggested(tmp_path, capsys):
    model = tmp_path / "decay.sdyn"
    model.write_text("model Decay\n    @parameters γ = 1\n    @variables x(t) = 1\n    D(x) ~ -γ*x\nend\n")
    assert simulate(tmp_path, str(model), "--param", "gamma=0.2") is None
    assert capsys.readouterr().err.endswith("with NAME one of γ; did you mean `γ`?\n")
    assert simulate(tmp_path, str(model), "--draw", "gamma=0:1", "--trajectories", "2") is None
    assert capsys.readouterr().err.endswith("did you mean `γ`?\n")
    data = simulate(tmp_path, str(model), "--draw", "γ=0.1:0.2", "--trajectories", "2")
    assert data["parameters"].shape == (2, 1)
