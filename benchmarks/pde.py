"""PDE models on grids: lowering latency, ETDRK4 against exponax, and the KS data set against scipy Radau, in one run.

1. Latency: parse + lower + first compiled call of `rhs` and of `jvp` for the seed's
   Kuramoto-Sivashinsky model at 256, 4,096 and 65,536 points, each in a fresh process.
   The generated source is the same at every size, so the times should be flat.
2. ETDRK4 against exponax's ETDRK4 (order 4, 16 contour points) at equal step, float64,
   no dealiasing on either side, u u_x in the conservative form ∂x(u²)/2 on both (symdyn
   recognises it in the model as written): KS (L = 64, 256 points, u_t = −u u_x − u_xx −
   u_xxxx, exponax's `KuramotoSivashinskyConservative`) and KdV (L = 128, 256 points,
   u_t + u u_x + u_xxx = 0, exponax's `KortewegDeVries` with convection_scale = 1,
   hyper_diffusivity = 0, conservative = True). Time per step (best of 7 warm runs of each,
   the two codes in turn: `integrate` as users call it, against a jitted scan of exponax's
   stepper; one field and a batch of 64) and the error at the final time against a
   reference: for KdV scipy's DOP853 at tolerance 1e-13 on the same semi-discrete system,
   for KS (too stiff for it) exponax at a 64 times finer step, where the two codes agree to
   round-off.
3. The seed-000 KS set (`symdyn simulate --preset ks`): 512 + 128 trajectories of 500
   steps and 128 of 1,000 (warm-up included), against the seeds' generator route, a
   spectral right-hand side in numpy integrated by `scipy.integrate.solve_ivp(Radau)` at
   tolerance 1e-9, on a few trajectories from the same initial fields, as a ratio per
   trajectory; the relative difference of the two at the end of the warm-up says both
   solve the same problem.
4. Allen-Cahn on a bounded grid (examples/allen_cahn.sdyn: 256 points, Dirichlet ends) to
   t = 70, where the hump falls away: ETDRK4 and the IMEX methods at h = 0.1 (φ-functions of
   the matrix L; banded solves), implicit Euler at h = 0.1 with the banded Newton and with
   the dense one, against RK4 with the substeps its stability needs (h = 0.004). Times in
   this run, first call (compilation included, what `simulate` costs) and best warm call,
   as ratios to RK4's; error: max over the grid and t = 0, 5, ..., 70 against RK4 at h = 0.001.

exponax and scipy are in the `bench` extra: `pip install -e ".[bench]"`.

    python benchmarks/pde.py [--radau 2] [--skip-set] [--allen-cahn]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from _timing import best_of, best_of_each  # noqa: E402

import symdyn  # noqa: E402
from symdyn.data import SumOfSines, preset  # noqa: E402
from symdyn.integrators import ModelVectorField, integrate  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KS_FILE = EXAMPLES / "kuramoto_sivashinsky.sdyn"
SIZES = (256, 4096, 65536)


# 1. latency ------------------------------------------------------------------------------------------------------


def latency_in_this_process(points: int) -> dict:
    start = time.perf_counter()
    model = symdyn.parse(KS_FILE.read_text().replace("points = 256", f"points = {points}"))
    parsed = time.perf_counter()
    low = model.lower(jnp.float64)
    lowered = time.perf_counter()
    jax.block_until_ready(jax.jit(lambda t, u, p: low.rhs(t, u, p))(0.0, low.x0, low.p))
    called = time.perf_counter()
    jax.block_until_ready(jax.jit(lambda t, u, p, v: low.jvp(t, u, p, v))(0.0, low.x0, low.p, low.x0))
    jvp_called = time.perf_counter()
    return {
        "parse": parsed - start,
        "lower": lowered - parsed,
        "rhs": called - lowered,
        "jvp": jvp_called - called,
        "source": len(low.source),
    }


def latency_table() -> None:
    print("1. Kuramoto-Sivashinsky: parse + lower + first compiled call, each size in a fresh process [s]")
    print(f"{'points':>8}{'parse':>8}{'lower':>8}{'rhs 1st':>9}{'jvp 1st':>9}{'total':>8}{'source chars':>14}")
    rows = []
    for points in SIZES:
        output = subprocess.run(
            [sys.executable, __file__, "--latency", str(points)], check=True, capture_output=True, text=True
        ).stdout
        row = json.loads(output.strip().splitlines()[-1])
        rows.append(row)
        total = row["parse"] + row["lower"] + row["rhs"] + row["jvp"]
        print(
            f"{points:>8}{row['parse']:>8.2f}{row['lower']:>8.2f}{row['rhs']:>9.2f}{row['jvp']:>9.2f}"
            f"{total:>8.2f}{row['source']:>14}"
        )
    first, last = rows[0], rows[-1]
    ratio = sum(last[k] for k in ("parse", "lower", "rhs", "jvp")) / sum(
        first[k] for k in ("parse", "lower", "rhs", "jvp")
    )
    print(f"total at {SIZES[-1]} points / total at {SIZES[0]}: {ratio:.2f}\n")


# 2. ETDRK4 against exponax ---------------------------------------------------------------------------------------

KDV_TEXT = """
model KdV
    @domain x ∈ Periodic(0, 128; points = 256)
    @variables u(t, x)
    D(u) ~ -u*∂x(u) - ∂x^3(u)
end
"""


def exponax_stepper(name: str, dt: float):
    import exponax

    if name == "KS":
        return exponax.stepper.KuramotoSivashinskyConservative(1, 64.0, 256, dt, order=4, dealiasing_fraction=None)
    return exponax.stepper.KortewegDeVries(
        1,
        128.0,
        256,
        dt,
        convection_scale=1.0,
        hyper_diffusivity=0.0,
        order=4,
        dealiasing_fraction=None,
        conservative=True,
    )


def exponax_rollout(stepper, steps: int):
    @jax.jit
    def run(u):  # u: (batch, 1, N)
        def step(v, _):
            return jax.vmap(stepper)(v), None

        return jax.lax.scan(step, u, None, length=steps)[0]

    return run


def symdyn_rollout(low, dt: float, steps: int):
    return lambda u: integrate(low, u, 0.0, dt, steps, method="etdrk4", save_every=steps)[:, -1]


def relative(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(np.asarray(b)))


FINE = 64  # the reference steps are this much smaller


def initial_fields(low, warmup: float):
    """64 of the seeds' sums of sines; for KS, carried onto the attractor first."""
    keys = jax.random.split(jax.random.PRNGKey(0), 64)
    u0 = jax.vmap(lambda k: SumOfSines().sample(k, low, low.p))(keys)  # (64, 1, 256)
    if not warmup:
        return u0
    steps = int(round(warmup / 0.05))
    return integrate(low, u0, 0.0, 0.05, steps, method="etdrk4", save_every=steps)[:, -1]


def compare_with_exponax(name: str, text: str, dt: float, horizon: float, warmup: float) -> list[str]:
    """Print the two rows of one problem; return what the reference was."""
    low = symdyn.parse(text).lower(jnp.float64)
    u0 = initial_fields(low, warmup)
    steps = int(round(horizon / dt))
    ours_fine = symdyn_rollout(low, dt / FINE, steps * FINE)(u0[:4])
    theirs_fine = exponax_rollout(exponax_stepper(name, dt / FINE), steps * FINE)(u0[:4])
    if name == "KS":  # too stiff for an explicit reference; the two fine ETDRK4 runs agree instead
        reference = theirs_fine
        notes = [
            f"KS: error against exponax at dt/{FINE}; symdyn there differs by {relative(ours_fine, reference):.1e}"
        ]
    else:
        reference = kdv_reference(np.asarray(u0[:4, 0]), horizon)[:, None]
        notes = [
            f"KdV: error against scipy DOP853 (tol 1e-13); at dt/{FINE} symdyn is {relative(ours_fine, reference):.1e} "
            f"and exponax {relative(theirs_fine, reference):.1e} from it"
        ]
    ours_run, theirs_run = symdyn_rollout(low, dt, steps), exponax_rollout(exponax_stepper(name, dt), steps)
    ours_error = relative(ours_run(u0[:4]), reference)
    theirs_error = relative(theirs_run(u0[:4]), reference)
    for batch in (1, 64):
        u = u0[:batch]
        ours, theirs = (
            seconds / steps * 1e6 for seconds in best_of_each([partial(ours_run, u), partial(theirs_run, u)], 7)
        )
        print(
            f"{name:>8}{dt:>6g}{steps:>7}{batch:>7}{ours:>16.1f}{theirs:>17.1f}{ours / theirs:>7.2f}"
            f"{ours_error:>14.1e}{theirs_error:>15.1e}"
        )
    return notes


def stepper_table() -> None:
    print("2. ETDRK4 at equal step against exponax (float64, no dealiasing)")
    print(
        f"{'problem':>8}{'dt':>6}{'steps':>7}{'batch':>7}{'symdyn µs/step':>16}{'exponax µs/step':>17}"
        f"{'ratio':>7}{'symdyn error':>14}{'exponax error':>15}"
    )
    notes = compare_with_exponax("KS", KS_FILE.read_text(), 0.2, 20.0, 72.0)
    notes += compare_with_exponax("KdV", KDV_TEXT, 0.01, 10.0, 0.0)
    print("\n".join(notes))
    print("error: relative L2 at the final time over 4 fields\n")


# 3. the seed-000 KS set against scipy Radau ----------------------------------------------------------------------


def spectral_rhs(length: float, linear_symbol, points: int = 256, conservative: bool = False):
    """The seeds' generator route: u_t = −u u_x + L u with numpy FFT derivatives (L by its symbol in k);
    with `conservative`, −u u_x as −∂x(u²)/2."""
    k = 2 * np.pi * np.fft.rfftfreq(points, length / points)
    ik = 1j * k
    ik[-1] = 0.0  # Nyquist of the odd derivative
    linear = linear_symbol(k).astype(complex)
    linear[-1] = linear[-1].real  # an odd symbol loses its Nyquist part too

    def rhs(t, u):
        modes = np.fft.rfft(u)
        if conservative:
            advection = -np.fft.irfft(ik * np.fft.rfft(u * u), points) / 2
        else:
            advection = -u * np.fft.irfft(ik * modes, points)
        return advection + np.fft.irfft(linear * modes, points)

    return rhs


def ks_spectral_rhs():
    return spectral_rhs(64.0, lambda k: k**2 - k**4)


def kdv_reference(u0: np.ndarray, horizon: float) -> np.ndarray:
    """KdV by scipy's DOP853 at tolerance 1e-13: independent of both ETDRK4 codes (the same semi-discrete system)."""
    from scipy.integrate import solve_ivp

    rhs = spectral_rhs(128.0, lambda k: 1j * k**3, conservative=True)
    return np.stack([solve_ivp(rhs, (0.0, horizon), u, method="DOP853", rtol=1e-13, atol=1e-13).y[:, -1] for u in u0])


def radau_trajectory(u0: np.ndarray, steps: int, dt: float) -> np.ndarray:
    from scipy.integrate import solve_ivp

    times = dt * np.arange(steps)
    solution = solve_ivp(ks_spectral_rhs(), (0.0, times[-1]), u0, method="Radau", t_eval=times, rtol=1e-9, atol=1e-9)
    return solution.y.T


def data_set_table(radau_count: int, skip_set: bool) -> None:
    ks = preset("ks")
    print(f"3. the seed-000 KS set: symdyn ETDRK4 ({ks.substeps} substeps per saved step) against scipy Radau")
    low = ks.model().lower(jnp.float64)
    keys = jax.random.split(jax.random.PRNGKey(1), radau_count)
    u0 = np.asarray(jax.vmap(lambda k: ks.initial.sample(k, low, low.p))(keys))[:, 0]
    steps = ks.warmup + ks.splits["train"][1]  # 500 saved steps of a training trajectory

    start = time.perf_counter()
    radau = np.stack([radau_trajectory(u, steps, ks.dt) for u in u0])
    radau_each = (time.perf_counter() - start) / radau_count

    dt_fine = ks.dt / ks.substeps
    ours = np.asarray(
        integrate(low, u0[:, None], 0.0, dt_fine, (steps - 1) * ks.substeps, method="etdrk4", save_every=ks.substeps)
    )[:, :, 0]
    at_warmup = max(relative(a[ks.warmup], b[ks.warmup]) for a, b in zip(ours, radau))
    print(
        f"Radau (rtol = atol = 1e-9): {radau_each:.1f} s per trajectory of {steps} steps "
        f"(mean of {radau_count}); largest relative difference to symdyn at the end of the warm-up: {at_warmup:.1e}"
    )
    train_steps = sum(count * (ks.warmup + saved) for count, saved in ks.splits.values())
    radau_set = radau_each * train_steps / steps
    if skip_set:
        print(f"the whole set by Radau would take {radau_set / 3600:.1f} h\n")
        return
    print(f"{'dtype':>8}{'split':>12}{'trajectories':>14}{'steps':>7}{'seconds':>9}{'s/trajectory':>14}")
    for dtype in (jnp.float32, jnp.float64):
        total = 0.0
        for split, (count, saved) in ks.splits.items():
            start = time.perf_counter()
            data = ks.generate(split, key=jax.random.PRNGKey(0), progress=False, dtype=dtype)
            jax.block_until_ready(data.states)
            seconds = time.perf_counter() - start
            total += seconds
            print(
                f"{jnp.dtype(dtype).name:>8}{split:>12}{count:>14}{ks.warmup + saved:>7}{seconds:>9.1f}"
                f"{seconds / count:>14.3f}"
            )
        per_train = total * steps / train_steps
        print(
            f"{jnp.dtype(dtype).name:>8}: whole set {total:.0f} s, Radau's {radau_set / 3600:.1f} h; "
            f"per {steps}-step trajectory {per_train:.3f} s against Radau's {radau_each:.1f} s: "
            f"{radau_each / per_train:.0f}× faster"
        )
    print()


# 4. Allen-Cahn on a bounded grid -------------------------------------------------------------------------------


def allen_cahn_table() -> None:
    print("4. Allen-Cahn, 256 points, Dirichlet ends, to t = 70 (float64)")
    low = symdyn.load(EXAMPLES / "allen_cahn.sdyn").lower(jnp.float64)
    horizon = 70.0
    every = 5.0  # the error is the largest over t = 0, 5, ..., 70: the collapse near t = 45 included
    reference = integrate(low, low.x0, 0.0, 0.001, 70_000, method="rk4", save_every=5_000)
    runs = {  # label: (field, method, step)
        "rk4, h = 0.004": (low, "rk4", 0.004),
        "etdrk4, h = 0.1": (low, "etdrk4", 0.1),
        "imex_trapezoid, h = 0.1": (low, "imex_trapezoid", 0.1),
        "imex_euler, h = 0.1": (low, "imex_euler", 0.1),
        "implicit_euler banded, h = 0.1": (low, "implicit_euler", 0.1),
        "implicit_euler dense, h = 0.1": (ModelVectorField(low, low.p), "implicit_euler", 0.1),
    }
    print(f"{'run':>32}{'first call':>12}{'warm':>9}{'first / rk4':>13}{'warm / rk4':>12}{'error':>10}")
    base = None
    for label, (field, method, h) in runs.items():
        steps = int(round(horizon / h))

        def run(field=field, method=method, h=h, steps=steps):
            return integrate(field, low.x0, 0.0, h, steps, method=method, save_every=int(round(every / h)))

        start = time.perf_counter()
        u = jax.block_until_ready(run())
        first = time.perf_counter() - start
        warm = best_of(run, 3)
        base = base or (first, warm)
        error = float(jnp.abs(u - reference).max())
        print(f"{label:>32}{first:>11.2f}s{warm:>8.3f}s{first / base[0]:>13.2f}{warm / base[1]:>12.2f}{error:>10.1e}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--radau", type=int, default=2, help="trajectories integrated by scipy Radau (default 2)")
    parser.add_argument("--skip-set", action="store_true", help="do not generate the whole symdyn set")
    parser.add_argument("--allen-cahn", action="store_true", help="only the Allen-Cahn table (no exponax, no scipy)")
    parser.add_argument("--latency", type=int, help=argparse.SUPPRESS)  # one size, in the child process
    args = parser.parse_args()
    if args.latency:
        print(json.dumps(latency_in_this_process(args.latency)))
        return
    if args.allen_cahn:
        allen_cahn_table()
        return
    latency_table()
    stepper_table()
    data_set_table(args.radau, args.skip_set)
    allen_cahn_table()


if __name__ == "__main__":
    main()
