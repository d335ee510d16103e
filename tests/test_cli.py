"""The `symdyn` command: check, show, codegen and simulate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import EXAMPLES, LORENZ

from symdyn.cli import main

LORENZ_FILE = str(EXAMPLES / "lorenz.sdyn")


def test_check_accepts_good_files(capsys):
    assert main(["check", LORENZ_FILE, str(EXAMPLES / "kdv.sdyn")]) == 0
    out = capsys.readouterr().out
    assert "lorenz.sdyn: ok: ODE model Lorenz, 3 first-order states, 3 parameters" in out
    assert "kdv.sdyn: ok: PDE model KdV" in out


def test_check_locates_errors_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.sdyn"
    bad.write_text(LORENZ.replace("D(z) ~ x*y - β*z", "D(z) ~ x*y - β*"), encoding="utf-8")
    assert main(["check", str(bad), LORENZ_FILE]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"{bad}:7:20: the expression ends after an operator\n")
    assert "^" in captured.err and "hint:" in captured.err
    assert "lorenz.sdyn: ok" in captured.out
    assert main(["check", str(tmp_path / "missing.sdyn")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_show_prints_the_model_its_jacobian_and_latex(capsys):
    assert main(["show", LORENZ_FILE, "--jacobian"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model Lorenz\n")
    assert "Jacobian ∂f/∂x, x = (x, y, z):" in out
    assert "-σ" in out and "ρ - z" in out
    assert main(["show", str(EXAMPLES / "pendulum.sdyn"), "--first-order", "--latex"]) == 0
    latex = capsys.readouterr().out
    assert r"\frac{\mathrm{d} \theta_{t}}{\mathrm{d} t} &= - \frac{g \sin{\left(\theta \right)}}{L}" in latex


def test_show_gives_the_linearised_operator_of_a_pde(capsys):
    assert main(["show", str(EXAMPLES / "kuramoto_sivashinsky.sdyn"), "--jacobian"]) == 0
    assert "Linearised operator, its action on δu:\n-u*δuˍx - uˍx*δu - δuˍxx - δuˍxxxx" in capsys.readouterr().out


def test_codegen_prints_loadable_source(capsys):
    assert main(["codegen", LORENZ_FILE]) == 0
    source = capsys.readouterr().out
    namespace: dict = {}
    exec(compile(source, "codegen", "exec"), namespace)
    assert {"rhs", "jac", "jvp", "observed", "conserved", "initial"} <= set(namespace)


def test_simulate_writes_trajectory_and_plot(tmp_path, capsys):
    out, png = tmp_path / "lorenz.npz", tmp_path / "lorenz.png"
    args = ["simulate", LORENZ_FILE, "--t-end", "2", "--dt", "0.01", "-o", str(out), "--plot", str(png)]
    assert main([*args, "--param", "ρ=14", "--initial", "z=2"]) == 0
    data = np.load(out)
    assert data["x"].shape == data["t"].shape == (201,)
    np.testing.assert_allclose(data["t"][[0, -1]], [0.0, 2.0])
    np.testing.assert_allclose([data[n][0] for n in data["state_names"]], [1.0, 1.0, 2.0])
    np.testing.assert_allclose(data["parameters"], [10.0, 14.0, 8 / 3])
    assert list(data["parameter_names"]) == ["σ", "ρ", "β"]
    assert png.stat().st_size > 10_000
    assert "200 rk4 steps" in capsys.readouterr().out


def test_simulate_reports_bad_arguments_without_a_traceback(tmp_path, capsys):
    out = str(tmp_path / "x.npz")
    base = ["simulate", LORENZ_FILE, "--t-end", "1", "--dt", "0.1", "-o", out]
    assert main([*base, "--param", "κ=1"]) == 2
    assert "--param 'κ=1': expected NAME=VALUE with NAME one of σ, ρ, β" in capsys.readouterr().err
    assert main([*base, "--initial", "x=fast"]) == 2
    assert "'fast' is not a number" in capsys.readouterr().err
    template = str(EXAMPLES / "harmonic_oscillator.sdyn")
    assert main(["simulate", template, "--t-end", "1", "--dt", "0", "-o", out]) == 2
    assert "--dt must be a positive number" in capsys.readouterr().err


def test_simulate_with_an_implicit_method_keeps_the_pendulum_energy(tmp_path):
    out = tmp_path / "pendulum.npz"
    args = ["simulate", str(EXAMPLES / "pendulum.sdyn"), "--t-end", "20", "--dt", "0.05", "-o", str(out)]
    assert main([*args, "--method", "gauss_legendre4"]) == 0
    energy = np.load(out)["E"]
    assert np.max(np.abs(energy / energy[0] - 1)) < 1e-6


def test_simulate_saves_observed_quantities(tmp_path):
    out = tmp_path / "rc.npz"
    assert main(["simulate", str(EXAMPLES / "rc_circuit.sdyn"), "--t-end", "1", "--dt", "0.01", "-o", str(out)]) == 0
    data = np.load(out)
    np.testing.assert_allclose(data["y"], data["exact"], rtol=1e-10)


def test_simulate_says_when_the_solution_blows_up(tmp_path, capsys):
    out = str(tmp_path / "x.npz")
    blow_up = tmp_path / "blow.sdyn"
    blow_up.write_text("model B\n    @variables x(t) = 1\n    D(x) ~ x^2\nend\n", encoding="utf-8")
    assert main(["simulate", str(blow_up), "--t-end", "3", "--dt", "0.01", "-o", out]) == 1
    assert "not finite from t =" in capsys.readouterr().err


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "symdyn"
    result = subprocess.run([str(exe), "check", LORENZ_FILE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_stability_prints_regions_preimages_and_plots(tmp_path, capsys):
    png = tmp_path / "regions.png"
    args = ["stability", "euler", "rk4", "implicit_midpoint", "leapfrog", "--mu=-0.376545+0.822766j", "--h", "1"]
    assert main([*args, "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "rk4: z^4/24 + z^3/6 + z^2/2 + z + 1" in out
    assert "reaches Re z = 0.237 into the right half plane; on the imaginary axis: |Im z| <= 2.828" in out
    assert "+0.105105+1.926833i  anti-damped" in out
    assert "implicit_midpoint: (-z - 2)/(z - 2)" in out and "A-stable" in out
    assert "parasitic root grows ×1.1052 per step" in out
    assert png.stat().st_size > 20_000
    assert main(["stability", "rk4", "--mu", "0.9"]) == 2
    assert "--mu and --h go together" in capsys.readouterr().err


def test_audit_reports_each_point_and_plots(tmp_path, capsys):
    png = tmp_path / "audit.png"
    model = str(EXAMPLES / "damped_oscillator.sdyn")
    assert main(["audit", model, "--method", "euler", "--h", "1", "--steps", "10", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "audit of euler at h = 1: 1 points" in out
    assert "-0.10000+2.00000i" in out and "MADE UNSTABLE" in out  # |1 − 0.1 + 2i| > 1
    assert "0 of 1 points with growth the integrator hides, 1 with decay it turns into growth" in out
    assert png.stat().st_size > 20_000
    data = tmp_path / "orbit.npz"
    assert main(["simulate", model, "--t-end", "2", "--dt", "0.5", "-o", str(data)]) == 0
    assert main(["audit", model, "--h", "1", "--points", str(data), "--every", "2", "--steps", "5"]) == 0
    assert "audit of rk4 at h = 1: 3 points" in capsys.readouterr().out
