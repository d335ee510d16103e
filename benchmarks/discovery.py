"""Equation discovery on the Lorenz benchmark of Chen et al. (Section 5.2, Tables 1 and 4), in one run.

(a) Time per optimization step (forward, backward and the Adam update, data gathering
    included) of `symdyn.discover`'s S-MNN method at the shapes of the paper's Table 1,
    at the paper's R = 2 and our default R = 3; with `--reference DIR`, the same step
    written with the published PyTorch S-MNN, side by side (ratio = symdyn / reference).
(b) Wall time to the Table 4 accuracy (every coefficient within the paper's S-MNN error)
    for each way of fitting, and the coefficient errors reached; PySINDy on the same data
    when it is installed (an optional peer, not a dependency).
(c) The textbook polynomial systems of benchmarks/systems, one trajectory each: `symdyn.discover`'s
    sparse method on a degree-3 library (default threshold, and 0.1) against PySINDy's STLSQ (0.1) on
    the same library and data. A fit succeeds when its right-hand side is within 1 % of the true one
    on the training trajectory and on one from an initial state 10 % larger.
(d) Lorenz with 1 % and 5 % noise, degree-2 library: finite differences, Savitzky-Golay, the weak form and
    S-MNN against PySINDy's strong and weak forms.
(e) PDE discovery from the KS and KdV presets' fields, clean and with 1 % noise, strong and weak form,
    against PySINDy's PDE-FIND and weak PDE-FIND.

    python benchmarks/discovery.py [--parts a b c d e] [--reference path/to/ScalableMNN]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import symdyn  # noqa: E402
from symdyn.discovery import SMNN, PolynomialLibrary  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import _noise_and_fields  # noqa: E402
import _textbook  # noqa: E402
from lorenz_discovery import PAPER, TARGET, TRUTH, lorenz_data  # noqa: E402

TEMPLATE = Path(__file__).resolve().parents[1] / "examples" / "lorenz_template.sdyn"
SHAPES = [(512, 50), (512, 5), (512, 500), (64, 50), (4096, 50)]  # Table 1: batch, sequence length
PAPER_GPU_MS = {(512, 50): 7.4, (512, 5): 5.5, (512, 500): 32.2, (64, 50): 5.5, (4096, 50): 18.3}


def discover_seconds(data, method) -> tuple[float, object]:
    start = time.perf_counter()
    found = symdyn.discover(TEMPLATE, data, method=method, progress=False)
    return time.perf_counter() - start, found


def ms_per_step(data, batch: int, length: int, order: int) -> float:
    """Adam steps timed by `symdyn.discover` itself, compilation excluded (6 blocks of 25 steps, the first compiles)."""
    method = SMNN(sequence_length=length, batch_size=batch, order=order, steps=150, fine_tune=False)
    _, found = discover_seconds(data, method)
    return 1e3 * found.seconds_per_step


def part_a(data, reference_path: str | None) -> None:
    reference = None
    if reference_path:
        import _scalable_mnn

        reference = _scalable_mnn.load_reference(reference_path)
    print("\n(a) ms per optimization step (forward + backward + Adam), Lorenz template, float64, 2 CPU threads")
    columns = ["R = 2", "R = 3", *(["ScalableMNN R = 2", "ratio"] if reference else []), "paper, H100"]
    print(f"{'batch x T':<12}" + "".join(f"{c:>20}" for c in columns))
    values = np.stack([data[n] for n in "xyz"], axis=-1)
    for batch, length in SHAPES:
        row = [ms_per_step(data, batch, length, 2), ms_per_step(data, batch, length, 3)]
        if reference is not None:
            theirs = 1e3 * _scalable_mnn.time_reference_discovery_step(reference, values, batch, length)
            row += [theirs, row[0] / theirs]
        row.append(PAPER_GPU_MS[batch, length])
        print(f"{f'{batch} x {length}':<12}" + "".join(f"{v:>20.3g}" for v in row))


def part_b(data) -> None:
    print("\n(b) wall time to the Table 4 accuracy (every |a_j - truth| at most the paper's S-MNN error)")
    print(f"{'':<34}" + "".join(f"{f'a{j + 1}':>10}" for j in range(7)) + f"{'seconds':>10}  target")
    print(f"{'S-MNN (paper), the target':<34}" + "".join(f"{v:>10.1e}" for v in TARGET))
    runs = {
        "sparse, FD4": "sparse",
        "S-MNN fine-tuning only, R = 3": SMNN(steps=0),
        "S-MNN 2000 Adam + fine-tuning": SMNN(),
        "S-MNN 2000 Adam only, R = 3": SMNN(fine_tune=False),
        "S-MNN 8000 Adam only, R = 3": SMNN(steps=8000, fine_tune=False),
        "S-MNN fine-tuning only, R = 2": SMNN(steps=0, order=2),
    }
    for name, method in runs.items():
        seconds, found = discover_seconds(data, method)
        error = np.abs(found.values - TRUTH)
        print(
            f"{name:<34}"
            + "".join(f"{v:>10.1e}" for v in error)
            + f"{seconds:>10.2f}  "
            + ("met" if (error <= TARGET).all() else "missed")
        )
    start = time.perf_counter()
    library = symdyn.discover(PolynomialLibrary(2), data, method="sparse", progress=False)
    seconds = time.perf_counter() - start
    print(
        f"{'sparse, degree-2 library (30 terms)':<34}"
        + "".join(f"{v:>10.1e}" for v in np.abs(library.values[library.active] - TRUTH))
        + f"{seconds:>10.2f}  "
        + f"{int(library.active.sum())} terms kept"
    )
    _pysindy(data)
    print(f"{'(paper: SINDy)':<34}" + "".join(f"{v:>10.1e}" for v in np.abs(np.array(PAPER["SINDy (paper)"]) - TRUTH)))


def _pysindy(data) -> None:
    try:
        import pysindy
    except ImportError:
        print(f"{'PySINDy':<34}not installed (pip install pysindy to compare)")
        return
    values = np.stack([data[n] for n in "xyz"], axis=-1)
    for order in (2, 4):
        model = pysindy.SINDy(
            optimizer=pysindy.STLSQ(threshold=0.1, alpha=0.0),
            feature_library=pysindy.PolynomialLibrary(degree=2),
            differentiation_method=pysindy.FiniteDifference(order=order),
        )
        start = time.perf_counter()
        model.fit(values, t=0.01, feature_names=["x", "y", "z"])
        seconds = time.perf_counter() - start
        xi = model.coefficients()  # (3, 10): 1, x, y, z, x², xy, xz, y², yz, z²
        found = np.array([xi[0, 1], xi[0, 2], xi[1, 1], xi[1, 2], xi[1, 6], xi[2, 3], xi[2, 5]])
        kept = int((xi != 0).sum())
        error = np.abs(found - TRUTH)
        print(
            f"{f'PySINDy {pysindy.__version__}, FD order {order}':<34}"
            + "".join(f"{v:>10.1e}" for v in error)
            + f"{seconds:>10.2f}  {'met' if (error <= TARGET).all() else 'missed'}, {kept} terms"
        )


def part_c() -> None:
    try:
        import pysindy
    except ImportError:
        pysindy = None
    print(
        "\n(c) textbook polynomial systems (benchmarks/systems), degree-3 library, one trajectory each\n"
        f"    ok: the rhs within {100 * _textbook.TOLERANCE:g} % of the truth on the training trajectory and on one "
        f"from the initial state {100 * (_textbook.PERTURBATION - 1):.0f} % larger"
    )
    runs = ["symdyn", "symdyn, threshold 0.1", f"PySINDy {pysindy.__version__}" if pysindy else "PySINDy"]
    fit = f"  {'ok?':<4}{'error':>8}{'terms':>6}{'s':>7}"
    columns = [fit + f"{'warm s':>8}", fit, fit if pysindy else "  not installed (pip install pysindy to compare)"]
    print(f"{'':<35}" + "".join(f"  {run:<{len(column) - 2}}" for run, column in zip(runs, columns)))
    print(f"{'system':<26}{'V':>3}{'terms':>6}" + "".join(columns))
    results = {run: [] for run in runs}  # (error, seconds) per system
    warm = []

    def cell(run: str, error: float, terms: int, seconds: float) -> str:
        results[run].append((error, seconds))
        return f"  {'ok' if error < _textbook.TOLERANCE else 'no':<4}{error:>8.1e}{terms:>6}{seconds:>7.2f}"

    for name in _textbook.names():
        system = _textbook.load(name)
        row = f"{name:<26}{len(system.data.names):>3}{system.terms:>6}"
        seconds, found = _symdyn_fit(system.data)
        warm.append(_symdyn_fit(system.data)[0])
        row += cell(runs[0], system.model_error(found.model), int(found.active.sum()), seconds) + f"{warm[-1]:>8.2f}"
        seconds, found = _symdyn_fit(system.data, threshold=0.1)
        row += cell(runs[1], system.model_error(found.model), int(found.active.sum()), seconds)
        if pysindy:
            seconds, model = _pysindy_fit(pysindy, system.data)
            row += cell(runs[2], system.error(model.predict), int(np.count_nonzero(model.coefficients())), seconds)
        print(row)
    reference = np.median([seconds for _, seconds in results[runs[2]]]) if pysindy else None
    for run, fits in results.items():
        if not fits:
            continue
        errors, seconds = np.array(fits).T
        failed = [name for name, error in zip(_textbook.names(), errors) if not error < _textbook.TOLERANCE]
        line = f"{run}: {len(fits) - len(failed)} of {len(fits)} ok, median {np.median(seconds):.2f} s"
        line += f" (warm {np.median(warm):.2f} s)" if run == runs[0] else ""
        line += f", {np.median(seconds) / reference:.0f} x PySINDy's" if reference and run != runs[2] else ""
        print(line + (f"; not ok: {', '.join(failed)}" if failed else ""))


def _symdyn_fit(data, threshold: float | None = None) -> tuple[float, object]:
    """`symdyn.discover`'s sparse method on a degree-3 library, timed as a user sees it (the table shows what its
    warnings would say)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = symdyn.discover(PolynomialLibrary(3), data, method="sparse", threshold=threshold, progress=False)
    return time.perf_counter() - start, found


def _pysindy_fit(pysindy, data) -> tuple[float, object]:
    """PySINDy's STLSQ (threshold 0.1) on a degree-3 library, its default derivatives, timed."""
    model = pysindy.SINDy(feature_library=pysindy.PolynomialLibrary(degree=3), optimizer=pysindy.STLSQ(threshold=0.1))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(np.asarray(data.states[0]), t=np.asarray(data.t), feature_names=list(data.names))
    return time.perf_counter() - start, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=list("abcde"), choices=list("abcde"))
    parser.add_argument("--reference", help="a checkout of IST-DASLab/ScalableMNN, timed side by side (needs torch)")
    args = parser.parse_args()
    print(f"jax {jax.__version__}, {jax.default_backend()}, {os.cpu_count()} cores")
    data = lorenz_data() if {"a", "b"} & set(args.parts) else None
    if "a" in args.parts:
        part_a(data, args.reference)
    if "b" in args.parts:
        part_b(data)
    if "c" in args.parts:
        part_c()
    installed = importlib.util.find_spec("pysindy") is not None
    if "d" in args.parts:
        _noise_and_fields.part_d(installed)
    if "e" in args.parts:
        _noise_and_fields.part_e(installed)


if __name__ == "__main__":
    main()
