"""The `symdyn` command: check, show, codegen and simulate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import EXAMPLES, LORENZ, tolerance

import symdyn
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


def lorenz_rhs(x, p):
    """Lorenz written out by hand: the reference for the generated code."""
    (sigma, rho, beta), (a, b, c) = p, x
    return np.array([sigma * (b - a), a * (rho - c) - b, a * b - beta * c])


def lorenz_jacobian(x, p):
    (sigma, rho, beta), (a, b, c) = p, x
    return np.array([[-sigma, sigma, 0.0], [rho - c, -1.0, -a], [b, a, -beta]])


def test_codegen_prints_source_whose_functions_are_lorenz(capsys):
    """The printed module, run on its own, computes Lorenz's rhs, Jacobian and JVP as written by hand."""
    assert main(["codegen", LORENZ_FILE]) == 0
    namespace: dict = {}
    exec(compile(capsys.readouterr().out, "codegen", "exec"), namespace)
    x, p, v = np.array([1.5, -0.5, 20.0]), np.array([10.0, 28.0, 8 / 3]), np.array([0.3, -1.0, 2.0])
    batch = jnp.asarray(np.stack([x, 2 * x]))
    x, p, v = jnp.asarray(x), jnp.asarray(p), jnp.asarray(v)
    np.testing.assert_allclose(namespace["rhs"](0.0, x, p), lorenz_rhs(x, p), rtol=1e-6)
    np.testing.assert_allclose(namespace["jac"](0.0, x, p), lorenz_jacobian(x, p), rtol=1e-6)
    np.testing.assert_allclose(namespace["jvp"](0.0, x, p, v), lorenz_jacobian(x, p) @ v, rtol=1e-6)
    np.testing.assert_allclose(namespace["initial"](p), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(namespace["rhs"](0.0, batch, p)[1], lorenz_rhs(2 * x, p), rtol=1e-6)
    assert namespace["observed"](0.0, batch, p).shape == namespace["conserved"](0.0, batch, p).shape == (2, 0)


def test_python_m_symdyn_cli_runs_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "symdyn.cli", "check", LORENZ_FILE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ok: ODE model Lorenz, 3 first-order states" in result.stdout


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
    assert "Lorenz: 1×201×3 (rk4, dt = 0.01) to t = 2 in" in capsys.readouterr().out


def test_simulate_starts_at_t0(tmp_path):
    """A forced model whose solution depends on the start: x' = cos t, x(t0) = 0.5 gives x = 0.5 + sin t − sin t0."""
    forced = tmp_path / "forced.sdyn"
    forced.write_text("model Forced\n    @variables x(t) = 0\n    D(x) ~ cos(t)\nend\n", encoding="utf-8")
    out = tmp_path / "forced.npz"
    args = ["simulate", str(forced), "--t0", "1", "--t-end", "3", "--dt", "0.01", "--initial", "x=0.5", "-o", str(out)]
    assert main(args) == 0
    data = np.load(out)
    np.testing.assert_allclose(data["t"][[0, -1]], [1.0, 3.0], rtol=1e-12)
    assert data["t"].shape == (201,)
    # RK4 integrates cos exactly up to O(h⁴): measured 2.8e-13
    np.testing.assert_allclose(data["x"], 0.5 + np.sin(data["t"]) - np.sin(1.0), atol=1e-11)


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


def test_audit_at_a_given_point_with_a_given_refinement(capsys):
    """--at sets the point linearised (Lorenz's eigenvalues there, from the hand-written Jacobian);
    --refine sets the fine step of the gap (Euler on a linear system: matrix powers in closed form)."""
    at = ["--at", "x=1", "--at", "y=2", "--at", "z=3"]
    assert main(["audit", LORENZ_FILE, "--method", "rk4", "--h", "0.01", "--steps", "5", *at]) == 0
    out = capsys.readouterr().out
    eigenvalues = 0.01 * np.linalg.eigvals(lorenz_jacobian([1.0, 2.0, 3.0], [10.0, 28.0, 8 / 3]))
    for z in eigenvalues:
        assert f"{z.real:+.5f}{z.imag:+.5f}i" in out or f"{z.real:+.5f}{-z.imag:+.5f}i" in out

    model = str(EXAMPLES / "damped_oscillator.sdyn")
    a = np.array([[-0.1, -2.0], [2.0, -0.1]])
    x0 = np.array([1.0, 0.0])
    for refine in (2, 50):
        args = ["audit", model, "--method", "euler", "--h", "0.1", "--steps", "10", "--refine", str(refine)]
        assert main(args) == 0
        coarse = [np.linalg.matrix_power(np.eye(2) + 0.1 * a, k) @ x0 for k in range(11)]
        fine = [np.linalg.matrix_power(np.eye(2) + 0.1 / refine * a, refine * k) @ x0 for k in range(11)]
        gap = max(np.linalg.norm(c - f) for c, f in zip(coarse, fine)) / max(np.linalg.norm(f) for f in fine)
        assert f"largest gap between steps h and h/{refine}: {gap:.3e}" in capsys.readouterr().out


def test_stability_of_a_pde_step_from_its_model(tmp_path, capsys):
    """KS at dt = 0.2: the spectrum dt·(k² − k⁴) of L = 64, 256 points reaches −4956, far outside RK4's
    region (exit 1), while ETDRK4 takes L exactly; --plot draws both."""
    png = tmp_path / "ks.png"
    model = str(EXAMPLES / "kuramoto_sivashinsky.sdyn")
    assert main(["stability", "rk4", "etdrk4", "--model", model, "--dt", "0.2", "--plot", str(png)]) == 1
    out = capsys.readouterr().out
    k = 2 * np.pi / 64 * np.arange(129)
    worst = 0.2 * (k**2 - k**4)[np.argmax(np.abs(k**2 - k**4))]
    assert f"largest |z| = {abs(worst):.4g} at {complex(worst):.4g}" in out
    assert "KuramotoSivashinsky, rk4 at dt = 0.2: UNSTABLE for the linear part" in out
    assert "KuramotoSivashinsky, etdrk4 at dt = 0.2: stable for the linear part" in out
    assert png.stat().st_size > 20_000
    assert main(["stability", "etdrk4", "--model", model, "--dt", "0.2"]) == 0


def test_simulate_ends_exactly_at_t_end_or_says_which_t_end_it_can(tmp_path, capsys):
    """--t-end 1 --dt 0.3 is refused with the two ends it can reach (it used to stop at 0.9 without a word)."""
    out = str(tmp_path / "x.npz")
    assert main(["simulate", LORENZ_FILE, "--t-end", "1", "--dt", "0.3", "-o", out]) == 2
    assert (
        "--t-end 1 is not a whole number of steps --dt 0.3 from --t0 0: take --t-end 0.9 or 1.2"
        in capsys.readouterr().err
    )


def test_simulate_writes_npz_only_and_says_so(tmp_path, capsys):
    """-o x.png used to write x.png.npz and report x.png."""
    assert main(["simulate", LORENZ_FILE, "--t-end", "1", "--dt", "0.1", "-o", str(tmp_path / "x.png")]) == 2
    assert "-o " + str(tmp_path / "x.png") + ": trajectories are written as .npz" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_simulate_substeps_integrate_an_ode_at_the_finer_step(tmp_path):
    """--substeps 50 of --dt 0.5: RK4 at 0.01, saved every 0.5 (it used to be ignored for ODEs): equal to --dt 0.01
    saved every 50th point."""
    fine, coarse = tmp_path / "fine.npz", tmp_path / "coarse.npz"
    assert main(["simulate", LORENZ_FILE, "--t-end", "2", "--dt", "0.01", "-o", str(fine)]) == 0
    assert main(["simulate", LORENZ_FILE, "--t-end", "2", "--dt", "0.5", "--substeps", "50", "-o", str(coarse)]) == 0
    np.testing.assert_allclose(np.load(coarse)["x"], np.load(fine)["x"][::50], rtol=1e-12)
    np.testing.assert_allclose(np.load(coarse)["t"], [0.0, 0.5, 1.0, 1.5, 2.0])


def test_codegen_prints_a_pdes_pointwise_functions(capsys):
    """For KS the printed module is pointwise in the jet (u, u_xx, u_xxxx) with the flux −u²/2 of the conservative
    term ∂x(−u²/2) = −u u_x: fed the jets of u and of a direction v (spectral derivatives in NumPy), rhs plus ∂x of
    the fluxes gives −u u_x − u_xx − u_xxxx and its linearisation, as the lowered model (u band-limited: no
    aliasing between the two forms)."""
    path = str(EXAMPLES / "kuramoto_sivashinsky.sdyn")
    assert main(["codegen", path]) == 0
    source = capsys.readouterr().out
    assert "Pointwise in the jet _j = (u, uˍxx, uˍxxxx) of the fields on the grid _x." in source
    namespace: dict = {}
    exec(compile(source, "codegen", "exec"), namespace)
    x = np.arange(256) * 64 / 256
    k = 2 * np.pi * np.fft.rfftfreq(256, 64 / 256)

    def jet(f):
        modes = np.fft.rfft(f)
        return [f] + [
            np.fft.irfft((1j * k) ** n * np.where(n % 2 and k == k.max(), 0, 1) * modes, 256) for n in (1, 2, 4)
        ]

    u, v = np.cos(2 * np.pi * x / 64) * (1 + np.sin(2 * np.pi * x / 64)), np.sin(6 * np.pi * x / 64)
    (u0, u1, u2, u4), (v0, v1, v2, v4) = jet(u), jet(v)
    p, grid = jnp.zeros(0), [jnp.asarray(x)]
    jets, directions = [jnp.asarray(a) for a in (u0, u2, u4)], [jnp.asarray(a) for a in (v0, v2, v4)]

    def with_fluxes(pointwise, fluxes):
        return np.asarray(pointwise[0]) + jet(np.asarray(fluxes[0]))[1]

    rhs = with_fluxes(namespace["rhs"](0.0, jets, p, grid), namespace["fluxes"](0.0, jets, p, grid))
    np.testing.assert_allclose(rhs, -u0 * u1 - u2 - u4, rtol=1e-6, atol=1e-6)
    jvp = with_fluxes(
        namespace["jvp"](0.0, jets, directions, p, grid), namespace["fluxes_jvp"](0.0, jets, directions, p, grid)
    )
    np.testing.assert_allclose(jvp, -v0 * u1 - v1 * u0 - v2 - v4, rtol=1e-6, atol=1e-6)
    low = symdyn.load(path).lower()
    scale = float(np.abs(rhs).max())
    # float32 rounding in the spectral ∂x⁴ grows with k_max⁴ ≈ 2.5e4: 6e-3 of the scale measured (float64: 4e-16)
    atol = tolerance(1e-10, 2e-2) * scale
    np.testing.assert_allclose(low.rhs(0.0, jnp.asarray(u)[None], low.p)[0], rhs, atol=atol)


def test_a_run_time_failure_is_one_line_with_the_flag_that_helps(tmp_path, capsys):
    """Newton's method failing in an implicit step (x' = x², h = 1) is reported in one line, exit 1, no traceback."""
    quadratic = tmp_path / "q.sdyn"
    quadratic.write_text("model Q\n    @variables x(t) = 1\n    D(x) ~ x^2\nend\n", encoding="utf-8")
    args = ["simulate", str(quadratic), "--method", "implicit_euler", "--dt", "1", "--t-end", "3"]
    assert main([*args, "-o", str(tmp_path / "q.npz")]) == 1
    err = capsys.readouterr().err
    assert err == (
        "symdyn simulate: error: implicit_euler: Newton's method did not converge in an implicit step (step 0, t = 0); "
        "try a smaller --dt, more --substeps or another --method\n"
    )


def test_simulate_plots_several_trajectories(tmp_path, capsys):
    """--trajectories 3 --plot draws them over each other (it was refused)."""
    args = ["simulate", str(EXAMPLES / "two_body.sdyn"), "--t-end", "1", "--dt", "0.1", "--trajectories", "3"]
    png = tmp_path / "orbits.png"
    assert main([*args, "--draw", "e=0.5:0.7", "-o", str(tmp_path / "d.npz"), "--plot", str(png)]) == 0
    assert f"plot -> {png} (the first 3 of 3 trajectories)" in capsys.readouterr().out
    assert png.stat().st_size > 20_000


def test_a_mistyped_option_gets_the_closest_one(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", LORENZ_FILE, "--tend", "3", "-o", "x.npz"])
    assert "unknown option --tend; did you mean --t-end?" in capsys.readouterr().err


def test_audit_names_the_point_and_says_stable_in_words(capsys):
    model = str(EXAMPLES / "damped_oscillator.sdyn")
    assert main(["audit", model, "--method", "rk4", "--h", "1", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "linearised at x = 1, y = 0" in out and "stable: decays, as the step does" in out
    assert "rk4 at h = 1 agrees with the field at all 1 points: stable at the 1 where the field decays" in out
