"""Equation discovery: data checks, derivative estimates, libraries, thresholded fits, both methods, the CLI.

The Python API runs at the tier's precision; the `symdyn discover` tests run in float64 (as the
command does), so that their results can be compared digit for digit with the same Python calls.
"""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest
from conftest import EXAMPLES, model_text, tolerance

import symdyn
from symdyn.cli import main
from symdyn.data import Trajectories
from symdyn.discovery import (
    SMNN,
    AbstractDiscoveryMethod,
    DiscoveryWarning,
    FiniteDifference,
    LeastSquares,
    Plateau,
    PolynomialLibrary,
    SavitzkyGolay,
    Sparse,
)
from symdyn.discovery._candidates import candidates
from symdyn.discovery._result import _uncertain
from symdyn.discovery._smnn import _Chunks
from symdyn.integrators import integrate

TRUTH = np.array([-10, 10, 28, -1, -1, -8 / 3, 1])
PAPER_ERRORS = np.array([3e-4, 4e-4, 8.5e-3, 3.2e-3, 3e-4, 2.7e-4, 5e-5])  # seed 004, Table 4, S-MNN
TEMPLATE = EXAMPLES / "lorenz_template.sdyn"

# x' = -0.3x - 2y, y' = 2x - y: a damped oscillator with known coefficients, exact data at no cost
OSCILLATOR = np.array([[-0.3, -2.0], [2.0, -1.0]])
OSCILLATOR_TEMPLATE = model_text(
    "@unknowns a₁ a₂ a₃ a₄", "@variables x(t) = 1  y(t) = 0", "D(x) ~ a₁*x + a₂*y", "D(y) ~ a₃*x + a₄*y"
)
STARTS = np.array([[1.0, 0.0], [0.0, 1.5], [-1.0, 0.5], [1.0, 1.0], [2.0, 0.0], [0.0, -2.0], [-1.0, -1.0], [1.5, -0.5]])


def oscillations(starts, noise=0.0):
    """The oscillator's exact trajectories from each start (matrix exponential), 201 samples 0.02 apart, plus noise."""
    t = 0.02 * np.arange(201)
    rates, vectors = np.linalg.eig(OSCILLATOR)
    xs = np.real(np.einsum("ij,tj,jk,mk->mti", vectors, np.exp(np.outer(t, rates)), np.linalg.inv(vectors), starts))
    xs = xs + noise * np.random.default_rng(0).standard_normal(xs.shape)
    return {"t": t, "x": xs[..., 0], "y": xs[..., 1]}


# the newcomer's Lotka-Volterra: the predator's rates γ = 0.3 and δ = 0.05 (in D(y) ~ δ*x*y - γ*y) are of the
# size of the default threshold 0.1 for a library
LOTKA_VOLTERRA = model_text(
    "@parameters α = 1.1  β = 0.4  γ = 0.3  δ = 0.05",
    "@variables x(t) = 10  y(t) = 5",
    "D(x) ~ α*x - β*x*y",
    "D(y) ~ δ*x*y - γ*y",
)


@pytest.fixture(scope="module")
def lotka_volterra():
    """1,001 samples 0.02 apart (RK4 at a step of 0.002, in float64 in either tier): a little over one orbit."""
    with jax.enable_x64(True):
        low = symdyn.parse(LOTKA_VOLTERRA).lower(np.float64)
        xs = np.asarray(integrate(low, low.x0, 0.0, 0.002, 10_000, save_every=10))
    return {"t": 0.02 * np.arange(xs.shape[0]), "x": xs[:, 0], "y": xs[:, 1]}


def terms(equation: str) -> dict[str, float]:
    """A printed equation's coefficients by term: `D(y) ~ -0.3(±2e-09)*y + 0.05(±3e-10)*x*y` -> {y: -0.3, x*y: 0.05}."""
    parts = equation.split(" ~ ", 1)[1].replace(" - ", " + -").split(" + ")
    found = (re.fullmatch(r"(-?[\d.]+(?:e[+-]\d+)?)\(±[\d.e+-]+\)(?:\*(.+))?", part) for part in parts)
    return {match[2] or "1": float(match[1]) for match in found}


@pytest.fixture(scope="module")
def lorenz():
    """3,001 Lorenz samples 0.01 apart from x = y = z = 1 (RK4 at a step of 0.001, in float64 in either tier)."""
    with jax.enable_x64(True):
        low = symdyn.load(EXAMPLES / "lorenz.sdyn").lower(np.float64)
        xs = np.asarray(integrate(low, low.x0, 0.0, 0.001, 30_000, save_every=10))
    return {"t": 0.01 * np.arange(xs.shape[0]), "x": xs[:, 0], "y": xs[:, 1], "z": xs[:, 2]}


# --- data
def test_discovery_from_several_trajectories():
    """Three oscillator trajectories on one grid: both methods recover the true coefficients.

    Only stencils and chunks that stay inside one trajectory fit: the same data joined end to
    end into one trajectory give errors of 0.75 to 0.8.
    """
    template = symdyn.parse(OSCILLATOR_TEMPLATE)
    data = oscillations(STARTS[:3])
    found = symdyn.discover(template, data, method=Sparse(), progress=False)
    np.testing.assert_allclose(found.values, OSCILLATOR.ravel(), rtol=0, atol=1e-6)  # 2.1e-7 in either precision
    found = symdyn.discover(template, data, method=SMNN(steps=0, sequence_length=20), progress=False)
    atol = tolerance(2e-6, 1e-4)  # 4.9e-7 / 2.4e-5 measured
    np.testing.assert_allclose(found.values, OSCILLATOR.ravel(), rtol=0, atol=atol)


# --- derivatives
@pytest.mark.parametrize("order", [2, 4, 6])
def test_central_differences_are_exact_for_polynomials_of_their_order(order):
    t = np.linspace(0, 1, 41)
    x = (t**order + 3 * t)[None, :, None]
    states, slopes = FiniteDifference(order)(x, t[1] - t[0])
    inner = t[order // 2 : t.size - order // 2]
    np.testing.assert_allclose(states[0, :, 0], inner**order + 3 * inner, rtol=1e-12)
    np.testing.assert_allclose(slopes[0, :, 0], order * inner ** (order - 1) + 3, rtol=1e-9, atol=1e-9)


def test_savitzky_golay_reproduces_polynomials_and_removes_noise():
    t = np.linspace(0, 2, 201)
    dt = t[1] - t[0]
    smoother = SavitzkyGolay(window=21, degree=5)
    value, slope = smoother.weights()
    assert value.sum() == pytest.approx(1.0) and slope.sum() == pytest.approx(0.0, abs=1e-12)
    poly = (t**5 - 2 * t**3)[None, :, None]
    smoothed, slopes = smoother(poly, dt)
    inner = t[10:-10]
    np.testing.assert_allclose(smoothed[0, :, 0], inner**5 - 2 * inner**3, atol=1e-10)
    np.testing.assert_allclose(slopes[0, :, 0], 5 * inner**4 - 6 * inner**2, atol=1e-8)
    noise = 0.01 * np.random.default_rng(0).standard_normal((1, t.size, 1))
    noisy = np.sin(3 * t)[None, :, None] + noise
    smoothed, slopes = smoother(noisy, dt)
    _, differences = FiniteDifference(2)(noisy, dt)
    rms = lambda e: np.sqrt(np.mean(e**2))
    assert rms(smoothed[0, :, 0] - np.sin(3 * inner)) < 0.6 * rms(noise)
    unsmoothed = rms(differences[0, 9:-9, 0] - 3 * np.cos(3 * inner))
    assert rms(slopes[0, :, 0] - 3 * np.cos(3 * inner)) < 0.3 * unsmoothed


def test_derivative_settings_are_checked():
    with pytest.raises(ValueError, match="order must be one of"):
        FiniteDifference(3)
    with pytest.raises(ValueError, match="window must be an odd int"):
        SavitzkyGolay(window=20)


# --- libraries and templates
def test_polynomial_library_lists_monomials_and_makes_a_template():
    library = PolynomialLibrary(degree=2)
    assert library.terms(["x", "y"]) == ["1", "x", "y", "x^2", "x*y", "y^2"]
    template = library.template(["x", "y"])
    assert len(template.unknowns) == 12 and template.order == 1
    equation = next(line for line in str(template).splitlines() if "D(y) ~" in line)
    assert set(equation.split("~ ")[1].split(" + ")) == {"ξ₇", "ξ₈*x", "ξ₉*y", "ξ₁₀*x^2", "ξ₁₁*x*y", "ξ₁₂*y^2"}
    with pytest.raises(ValueError, match="cannot name a state"):
        library.template(["x", "temp(C)"])


def test_candidates_report_terms_and_affinity():
    fitted = candidates(symdyn.load(TEMPLATE))
    assert fitted.state_names == ("x", "y", "z") and fitted.affine
    assert fitted.terms[4] == "D(y): x*z"
    nonlinear = candidates(symdyn.parse(model_text("@unknowns k = 1", "@variables x(t) = 1", "D(x) ~ -exp(k)*x")))
    assert not nonlinear.affine
    with pytest.raises(ValueError, match="has no @unknowns"):
        candidates(symdyn.load(EXAMPLES / "lorenz.sdyn"))


# --- the shared fit
def test_thresholded_least_squares_removes_small_terms_and_refits():
    rng = np.random.default_rng(1)
    design = rng.standard_normal((400, 5))
    truth = np.array([2.0, 0.0, -1.5, 0.0, 0.0])
    target = design @ truth + 1e-3 * rng.standard_normal(400)
    fit = LeastSquares(lambda a: design @ a - target, np.zeros(5), affine=True, segments=np.arange(400) // 40).fit(0.1)
    np.testing.assert_array_equal(fit.active, truth != 0)
    np.testing.assert_allclose(fit.values, truth, atol=2e-4)
    # batch-means errors against the textbook OLS errors of independent noise
    assert fit.standard_errors[0] == pytest.approx(1e-3 / np.sqrt(400), rel=0.6)


def test_gauss_newton_fits_a_template_that_is_not_affine():
    t = np.linspace(0, 2, 201)
    data = {"t": t, "x": 2 * np.exp(-0.7 * t)}
    template = symdyn.parse(model_text("@unknowns k = 0", "@variables x(t) = 2", "D(x) ~ -exp(k)*x"))
    for method in (Sparse(), SMNN(steps=20, batch_size=16, sequence_length=20)):
        found = symdyn.discover(template, data, method=method, progress=False)
        assert np.exp(found.values[0]) == pytest.approx(0.7, rel=1e-4)


# --- the two methods
def test_the_fine_tuning_loss_is_the_adam_loss(lorenz):
    """The S-MNN operator of one chunk gives the same predictions as solving every chunk."""
    fitted = candidates(symdyn.load(TEMPLATE))
    chunks = _Chunks.build(SMNN(max_chunks=64), fitted, Trajectories.load(lorenz, fitted.state_names))
    x, terms_on, t = chunks.gather(np.asarray(chunks.fine_tune_chunks))
    a = jax.numpy.asarray(TRUTH + 0.1, chunks.dtype)
    by_solve = (chunks.predict(a, terms_on, t) - x) / chunks.scale
    # residuals up to 1.5; measured at most 8.4e-15 / 4.7e-6 apart
    np.testing.assert_allclose(chunks.residual(a), np.ravel(by_solve), rtol=0, atol=tolerance(3e-14, 1.5e-5))
    design, target = chunks.design()  # the same loss, built from the terms' affine parts without compiling them
    np.testing.assert_allclose(
        design @ np.asarray(a, np.float64) - target, chunks.residual(a), rtol=0, atol=tolerance(1e-12, 2e-5)
    )


def test_an_affine_template_takes_no_adam_steps(lorenz):
    """The loss is quadratic in the unknowns, so the exact fine-tuning reaches its minimum from any start:
    Adam's 50 steps change the result by round-off only, and by default none are taken."""
    by_default = symdyn.discover(TEMPLATE, lorenz, method=SMNN(max_chunks=256), progress=False)
    with_adam = symdyn.discover(TEMPLATE, lorenz, method=SMNN(steps=50, batch_size=64, max_chunks=256), progress=False)
    assert by_default.loss_history.shape == (0,) and with_adam.loss_history.shape == (50,)
    assert by_default.description.endswith("; no Adam steps: the loss is quadratic in the unknowns")
    np.testing.assert_allclose(by_default.values, with_adam.values, rtol=tolerance(1e-10, 1e-4))
    np.testing.assert_allclose(by_default.values, TRUTH, rtol=tolerance(1e-3, 1e-2))


@pytest.mark.parametrize("method", [Sparse(), pytest.param(SMNN(steps=50), marks=pytest.mark.exhaustive)])
def test_lorenz_template_coefficients(lorenz, method):
    found = symdyn.discover(TEMPLATE, lorenz, method=method, progress=False)
    np.testing.assert_array_less(np.abs(found.values - TRUTH), PAPER_ERRORS)
    assert found.active.all() and (found.standard_errors > 0).all()
    if method.name == "smnn":
        assert found.loss_history.shape == (50,) and found.loss_history[-1] < found.loss_history[0]


@pytest.mark.parametrize("method", [Sparse(), SMNN(steps=0)])
def test_a_library_comes_back_to_the_lorenz_terms(lorenz, method):
    found = symdyn.discover(PolynomialLibrary(degree=2), lorenz, method=method, progress=False)
    kept = sorted(found.terms[j] for j in np.flatnonzero(found.active))
    assert kept == sorted(["D(x): x", "D(x): y", "D(y): x", "D(y): y", "D(y): x*z", "D(z): z", "D(z): x*y"])
    # the library's order (by equation, then degree) is the template's: a₁ ... a₇
    np.testing.assert_array_less(np.abs(found.values[found.active] - TRUTH), PAPER_ERRORS)


# --- what a discovery says: the equations, a threshold that empties one, where Adam stopped
@pytest.mark.parametrize("method", ["sparse", pytest.param("smnn", marks=pytest.mark.exhaustive)])
def test_a_threshold_that_removes_a_whole_equation_warns_and_names_one_that_keeps_it(lotka_volterra, method):
    """A threshold of 0.1 (PySINDy's default) removes δ*x*y (0.05) from D(y), and then γ*y, refitted alone (its
    coefficient averages out over an orbit): a warning gives the largest unthresholded terms and a threshold,
    checked by refitting, that keeps D(y)."""
    library = PolynomialLibrary(degree=2)
    with pytest.warns(DiscoveryWarning) as caught:
        found = symdyn.discover(library, lotka_volterra, method=method, threshold=0.1, progress=False)
    assert found.warnings == tuple(str(w.message) for w in caught) and len(found.warnings) == 1
    assert found.equations[1] == "D(y) ~ 0"
    message = found.warnings[0]
    assert message.startswith(
        "the threshold 0.1 removed every term of D(y), whose largest terms without a threshold are -0.3*y, 0.05*x*y, "
    )
    keeping, kept = re.search(r"a threshold of (\S+) keeps (D\(y\) ~ .*)$", message).groups()
    atol = tolerance(1e-6, 1e-4)  # 1e-8 / 4e-5 measured
    assert terms(kept) == pytest.approx({"y": -0.3, "x*y": 0.05}, abs=atol)
    again = symdyn.discover(library, lotka_volterra, method=method, threshold=float(keeping), progress=False)
    assert not again.warnings and again.equations[1] == kept
    assert terms(again.equations[0]) == pytest.approx({"x": 1.1, "x*y": -0.4}, abs=atol)


def test_discover_command_prints_a_librarys_equations_and_warns_on_stderr(tmp_path, lotka_volterra, capsys):
    """`symdyn discover --library poly2 --data lv.csv --method sparse`, as the newcomer ran it: by default the
    threshold is chosen on held-out data and keeps δ*x*y (0.05); with `--threshold 0.1` the equations on screen
    (not a table of anonymous ξ), the warning on stderr and in the file; its threshold keeps D(y)."""
    data, found = tmp_path / "lv.csv", tmp_path / "found.sdyn"
    table = np.column_stack([lotka_volterra[k] for k in "txy"])
    np.savetxt(data, table, delimiter=",", header="t,x,y", comments="", fmt="%.17g")
    command = ["discover", "--library", "poly2", "--data", str(data), "--method", "sparse", "--quiet", "-o", str(found)]
    assert main(command) == 0
    out, err = capsys.readouterr()
    equations = [line for line in out.splitlines() if line.startswith("D(")]
    assert terms(equations[0]) == pytest.approx({"x": 1.1, "x*y": -0.4}, abs=1e-6)
    assert terms(equations[1]) == pytest.approx({"y": -0.3, "x*y": 0.05}, abs=1e-6) and not err
    command += ["--threshold", "0.1"]
    assert main(command) == 0
    out, err = capsys.readouterr()
    equations = [line for line in out.splitlines() if line.startswith("D(")]
    assert equations[1] == "D(y) ~ 0" and "ξ" not in out
    assert terms(equations[0]) == pytest.approx({"x": 1.1, "x*y": -0.4}, abs=1e-6)
    assert err.startswith("symdyn discover: warning: the threshold 0.1 removed every term of D(y)")
    assert "\n# warning: the threshold 0.1 removed every term of D(y)" in found.read_text()
    assert main([*command[:-1], re.search(r"a threshold of (\S+) keeps", err)[1]]) == 0
    out, err = capsys.readouterr()
    equations = [line for line in out.splitlines() if line.startswith("D(")]
    assert terms(equations[1]) == pytest.approx({"y": -0.3, "x*y": 0.05}, abs=1e-6) and not err


@pytest.mark.float64
def test_printed_equations_carry_standard_errors_in_the_templates_form():
    """Each coefficient to its error's first digit; a term's sign comes out in front; known terms as written."""
    assert _uncertain(0.075, 0.00016) == "0.0750(±0.0002)"
    assert _uncertain(27.9976, 0.00041) == "27.9976(±0.0004)"
    assert _uncertain(28.3, 3.2) == "28(±3)"
    assert _uncertain(1.1, 1.1e-8) == "1.1(±1e-08)"  # beyond six digits of the value, six and the error's one
    assert _uncertain(0.7, np.nan) == "0.7"  # no error without fine-tuning
    # the oscillator x' = -0.3x - 2y, y' = 2x - y as -a₁*x - 2*y and a₂*(x + y) + a₃*y: a = (0.3, 2, -3)
    template = symdyn.parse(
        model_text(
            "@unknowns a₁ a₂ a₃", "@variables x(t) = 1  y(t) = 0", "D(x) ~ -a₁*x - 2*y", "D(y) ~ a₂*(x + y) + a₃*y"
        )
    )
    found = symdyn.discover(template, oscillations(STARTS[:3]), method="sparse", progress=False)
    shown = [re.sub(r"\(±[\d.e-]+\)", "(±)", line) for line in found.equations]
    assert shown == ["D(x) ~ -0.3(±)*x - 2*y", "D(y) ~ 2(±)*(x + y) - 3(±)*y"]
    assert str(found).splitlines()[1:3] == list(found.equations) and "a₂       D(y): x + y" in str(found)


def test_the_plateau_rule():
    """`Plateau(window=100, tolerance=0.01)` on loss histories of known shape."""
    plateau = Plateau()
    geometric = 0.9 ** (np.arange(1000) / 10)  # falls by 65 % every 100 steps
    assert not plateau.reached(geometric, fine_tuning=False)  # Adam alone goes on
    assert not plateau.reached(geometric[:400], fine_tuning=True)  # the last 100 steps: 3 % of the fall so far
    assert plateau.reached(geometric, fine_tuning=True)  # 0.01 % of it: flat on a linear scale
    flat = 1 + 0.01 * np.random.default_rng(0).standard_normal(300)
    rising = np.linspace(1, 2, 300)
    assert all(plateau.reached(losses, fine_tuning=f) for losses in (flat, rising) for f in (False, True))
    assert not plateau.reached(rising[:199], fine_tuning=False)  # two windows needed
    with pytest.raises(ValueError, match="Plateau window must be a positive int"):
        Plateau(window=0)
    with pytest.raises(TypeError, match="SMNN plateau must be a Plateau or None"):
        SMNN(plateau=0.01)


def test_adam_stops_on_a_plateau_and_says_where():
    """Adam alone on the clean oscillator: its loss falls to rounding level and stops falling by step ~500.

    Before, all 2000 steps ran. The stop is where the rule is first met (checked every 25 steps),
    so the same data and key stop at the same step.
    """
    template = symdyn.parse(OSCILLATOR_TEMPLATE)
    method = SMNN(batch_size=16, sequence_length=20, fine_tune=False)
    found = symdyn.discover(template, oscillations(STARTS[:3]), method=method, progress=False)
    steps = found.steps  # 525 measured (475 in float32)
    assert 200 <= steps < 1000 and found.loss_history.shape == (steps,)
    assert Plateau().reached(found.loss_history, fine_tuning=False)
    assert not Plateau().reached(found.loss_history[:-25], fine_tuning=False)
    assert found.description.endswith(
        f"; Adam stopped at step {steps} of 2000: the mean loss of the last 100 steps fell by at most 1% of the mean "
        "of the 100 before"
    )
    np.testing.assert_allclose(found.values, OSCILLATOR.ravel(), rtol=0, atol=tolerance(2e-6, 1e-4))  # 5e-7 / 2e-5


def test_discovered_models_round_trip_and_reproduce_the_data(tmp_path, lorenz):
    for template in (TEMPLATE, PolynomialLibrary(degree=2)):
        found = symdyn.discover(template, lorenz, method="sparse", progress=False)
        assert symdyn.parse(str(found.model)) == found.model
        found.save(tmp_path / "found.sdyn")
        loaded = symdyn.load(tmp_path / "found.sdyn")
        assert loaded == found.model and not loaded.unknowns
        low = loaded.lower()
        xs = np.asarray(integrate(low, low.x0, 0.0, 0.001, 2000, save_every=10))
        data = np.stack([lorenz[n][:201] for n in "xyz"], axis=-1)
        assert np.abs(xs - data).max() < 1e-2 * np.abs(data).max()
    text = (tmp_path / "found.sdyn").read_text()
    assert text.startswith("# Discovered: sparse regression") and "\n# D(y) ~ 27.99" in text and "*x*z\n" in text


def test_settings_and_templates_are_checked(lorenz):
    with pytest.raises(ValueError, match="method must be one of 'smnn', 'sparse'"):
        symdyn.discover(TEMPLATE, lorenz, method="sindy")
    with pytest.raises(ValueError, match="SMNN sequence_length must be an int of at least 3"):
        SMNN(sequence_length=2)
    short = {k: v[:20] for k, v in lorenz.items()}
    with pytest.raises(ValueError, match="20 samples are fewer than one chunk"):
        symdyn.discover(TEMPLATE, short, progress=False)


def test_a_diverging_adam_run_stops_with_a_clear_message():
    t = np.linspace(0, 1, 101)
    template = symdyn.parse(model_text("@unknowns k = 800", "@variables x(t) = 1", "D(x) ~ -exp(k)*x"))
    with pytest.raises(FloatingPointError, match="the loss is (nan|inf) at Adam step 0; lower the learning rate"):
        symdyn.discover(template, {"t": t, "x": np.exp(-t)}, method=SMNN(steps=10, batch_size=4), progress=False)


# --- the command
@pytest.mark.exhaustive  # the fast tier runs the command in tests/test_inputs.py and tests/test_discovery_breadth.py
def test_discover_command_writes_a_loadable_model_and_a_plot(tmp_path, lorenz, capsys):
    data, found, png = tmp_path / "lorenz.npz", tmp_path / "found.sdyn", tmp_path / "found.png"
    np.savez(data, **lorenz)
    args = ["discover", str(TEMPLATE), "--data", str(data), "-o", str(found), "--plot", str(png), "--quiet"]
    assert main([*args, "--steps", "25"]) == 0
    out = capsys.readouterr().out
    assert "a₅       D(y): x*z" in out and f"discovered model -> {found}" in out
    assert symdyn.load(found).parameters[4].name == "a₅"
    assert png.stat().st_size > 10_000
    assert main(["discover", "--library", "poly2", "--data", str(data), "--method", "sparse", "--quiet"]) == 0
    assert "D(z) ~ " in capsys.readouterr().out


def test_discover_command_reports_bad_input_without_a_traceback(tmp_path, capsys):
    data = tmp_path / "bad.npz"
    np.savez(data, t=np.linspace(0, 1, 11), x=np.ones(11), Y=np.ones(11), z=np.ones(11))
    assert main(["discover", str(TEMPLATE), "--data", str(data), "--quiet"]) == 2
    assert "has no state 'y' (it has 'x', 'Y', 'z'); did you mean 'Y'?" in capsys.readouterr().err
    assert main(["discover", "--data", str(data)]) == 2
    assert "give either a TEMPLATE model file or candidate terms (--library" in capsys.readouterr().err


def test_discover_reads_a_training_file_of_several_trajectories(tmp_path, capsys):
    """`symdyn simulate --trajectories 3` writes the parameters, the names, the model and the conserved V beside
    the states: discovery takes the states alone, and a missing state's message lists them alone (it listed V)."""
    data = tmp_path / "train.npz"
    simulate = ["simulate", str(EXAMPLES / "lotka_volterra.sdyn"), "--t-end", "4", "--dt", "0.01", "-o", str(data)]
    assert main([*simulate, "--trajectories", "3", "--draw", "α=0.6:0.7"]) == 0
    assert main(["discover", "--library", "poly1", "--data", str(data), "--method", "sparse", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert [line.split(" ~ ")[0] for line in out.splitlines() if line.startswith("D(")] == ["D(x)", "D(y)"]
    assert "@variables x(t) = 1.5  y(t) = 1.0" in out
    assert main(["discover", str(TEMPLATE), "--data", str(data), "--quiet"]) == 2
    assert f"{data} has no state 'z' (it has 'x', 'y')\n" in capsys.readouterr().err


# --- the command's options, each against the Python call with the same settings
@pytest.fixture(scope="module")
def oscillator_files(tmp_path_factory):
    """The oscillator template; clean data (three trajectories, and a state `w` outside the oscillator); noisy data."""
    folder = tmp_path_factory.mktemp("oscillator")
    (folder / "oscillator.sdyn").write_text(OSCILLATOR_TEMPLATE, encoding="utf-8")
    clean = oscillations(STARTS[:3])
    np.savez(folder / "clean.npz", **clean, w=np.cos(3 * clean["t"]) * np.ones((3, 1)))
    np.savez(folder / "noisy.npz", **oscillations(STARTS, noise=0.1))
    return folder


def discover_command(folder, *options, data="clean.npz"):
    """`symdyn discover` of the oscillator template (or of a --library) on DATA: the model it writes."""
    template = [] if "--library" in options else [str(folder / "oscillator.sdyn")]
    found = folder / "found.sdyn"
    assert main(["discover", *template, "--data", str(folder / data), "--quiet", "-o", str(found), *options]) == 0
    return symdyn.load(found)


def discover_in_python(folder, method, data="clean.npz", **settings):
    return symdyn.discover(folder / "oscillator.sdyn", folder / data, method=method, progress=False, **settings)


def error(model) -> float:
    """The largest error of the oscillator's four coefficients in a discovered model."""
    return float(np.max(np.abs([float(p.default) for p in model.parameters] - OSCILLATOR.ravel())))


@pytest.mark.float64
def test_discover_command_fd_order(oscillator_files):
    """--fd-order 2 is `Sparse(FiniteDifference(2))`, whose bias (5.5e-4) is far above order 4's (2.1e-7)."""
    second = discover_command(oscillator_files, "--method", "sparse", "--fd-order", "2")
    assert second == discover_in_python(oscillator_files, Sparse(FiniteDifference(2))).model
    fourth = discover_command(oscillator_files, "--method", "sparse")
    assert error(second) > 1e3 * error(fourth)


@pytest.mark.float64
def test_discover_command_smooth(oscillator_files):
    """--smooth 21,3 is `Sparse(SavitzkyGolay(21, 3))`, and on noisy data (σ = 0.1) it beats no smoothing.

    Measured errors: 0.043 smoothed, 0.117 not (over ten noise draws, smoothing cuts the RMS error by 1/3 or more).
    """
    smoothed = discover_command(oscillator_files, "--method", "sparse", "--smooth", "21,3", data="noisy.npz")
    assert smoothed == discover_in_python(oscillator_files, Sparse(SavitzkyGolay(21, 3)), "noisy.npz").model
    unsmoothed = discover_command(oscillator_files, "--method", "sparse", data="noisy.npz")
    assert error(smoothed) < 0.5 * error(unsmoothed)
    default = discover_command(oscillator_files, "--method", "sparse", "--smooth", data="noisy.npz")
    assert default == discover_in_python(oscillator_files, Sparse(SavitzkyGolay(21, 5)), "noisy.npz").model


@pytest.mark.float64
def test_discover_command_threshold(oscillator_files):
    """--threshold 0.5, between |a₁| = 0.3 and |a₄| = 1, removes a₁ alone (a template keeps every term by default)."""
    everything = discover_command(oscillator_files, "--method", "sparse")
    assert [p.name for p in everything.parameters] == ["a₁", "a₂", "a₃", "a₄"]
    thresholded = discover_command(oscillator_files, "--method", "sparse", "--threshold", "0.5")
    assert [p.name for p in thresholded.parameters] == ["a₂", "a₃", "a₄"]
    found = discover_in_python(oscillator_files, Sparse(), threshold=0.5)
    np.testing.assert_array_equal(found.active, [False, True, True, True])
    assert thresholded == found.model


@pytest.mark.float64
def test_discover_command_states(oscillator_files):
    """--states x y fits the library to those columns of the data alone, as `Trajectories.load(data, names)` does."""
    found = discover_command(oscillator_files, "--library", "poly1", "--states", "x", "y", "--method", "sparse")
    assert [s.name for s in found.states] == ["x", "y"]  # the data's third state, w, is left out
    data = Trajectories.load(oscillator_files / "clean.npz", ["x", "y"])
    expected = symdyn.discover(PolynomialLibrary(degree=1), data, method=Sparse(), progress=False)
    assert found == expected.model
    np.testing.assert_allclose(expected.values[expected.active], OSCILLATOR.ravel(), rtol=0, atol=1e-6)  # 2.1e-7
    everything = discover_command(oscillator_files, "--library", "poly1", "--method", "sparse")
    assert [s.name for s in everything.states] == ["x", "y", "w"]


@pytest.mark.float64
@pytest.mark.exhaustive
def test_discover_command_smnn_settings(oscillator_files):
    """--steps, --batch-size, --sequence-length, --order, --no-fine-tune and --no-plateau are the same `SMNN(...)`.

    Each setting changes the coefficients in their first eight digits, so a command that dropped
    one would write another model; without fine-tuning they are Adam's (0.86 off) with no error bars.
    """
    options = ["--steps", "25", "--batch-size", "16", "--sequence-length", "20", "--order", "2", "--no-fine-tune"]
    found = discover_command(oscillator_files, *options, "--no-plateau")
    method = SMNN(steps=25, batch_size=16, sequence_length=20, order=2, fine_tune=False, plateau=None)
    expected = discover_in_python(oscillator_files, method)
    assert found == expected.model
    # --no-plateau is plateau=None: "25 Adam steps", where the default takes "up to 25"
    described = "S-MNN (R = 2, chunks of 20), 25 Adam steps on batches of 16"
    assert expected.description == described and (oscillator_files / "found.sdyn").read_text().startswith(
        f"# M: {described};"
    )
    assert np.isnan(expected.standard_errors).all() and error(found) > 0.1
    assert expected.loss_history.shape == (25,) and expected.loss_history[-1] < expected.loss_history[0] / 2


def test_a_discovery_method_declares_its_name():
    """A method without the name users type is refused when its class is defined; one with it plugs into discover."""
    with pytest.raises(TypeError, match="Nameless must set the class variable `name`"):

        class Nameless(AbstractDiscoveryMethod):
            def describe(self):
                return ""

            def regression(self, candidates, data, *, key, progress):
                raise NotImplementedError

    assert {SMNN.name, Sparse.name} == {"smnn", "sparse"}
    assert all(issubclass(m, AbstractDiscoveryMethod) for m in (SMNN, Sparse))
