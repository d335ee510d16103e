"""Equation discovery on the Lorenz benchmark of Chen et al. (Section 5.2, Tables 1 and 4), in one run.

(a) Time per optimization step (forward, backward and the Adam update, data gathering
    included) of `symdyn.discover`'s S-MNN method at the shapes of the paper's Table 1,
    at the paper's R = 2 and our default R = 3; with `--reference DIR`, the same step
    written with the published PyTorch S-MNN, side by side (ratio = symdyn / reference).
(b) Wall time to the Table 4 accuracy (every coefficient within the paper's S-MNN error)
    for each way of fitting, and the coefficient errors reached; PySINDy on the same data
    when it is installed (an optional peer, not a dependency).

    python benchmarks/discovery.py [--parts a b] [--reference path/to/ScalableMNN]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import symdyn  # noqa: E402
from symdyn.discovery import SMNN, PolynomialLibrary  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["a", "b"], choices=["a", "b"])
    parser.add_argument("--reference", help="a checkout of IST-DASLab/ScalableMNN, timed side by side (needs torch)")
    args = parser.parse_args()
    print(f"jax {jax.__version__}, {jax.default_backend()}, {os.cpu_count()} cores")
    data = lorenz_data()
    if "a" in args.parts:
        part_a(data, args.reference)
    if "b" in args.parts:
        part_b(data)


if __name__ == "__main__":
    main()
