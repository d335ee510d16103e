"""Optional adapter to the published PyTorch S-MNN (IST-DASLab/ScalableMNN), used by `benchmarks/smnn.py --reference`.

The reference is imported from a local checkout of https://github.com/IST-DASLab/ScalableMNN and called through
its public entry point `smnn.ode_forward(coefficients, rhs_equation, init_vars, steps)`. Its arguments map onto
ours one to one, with the same axis order (batch first, time second):

    coefficients (B, T, Q, V, R+1)   = c        rhs_equation (B, T, Q)   = d
    init_vars    (B, T_init, V, R_init+1) = u   steps        (B, T-1)    = s

with its default weights (1, 1, 1), which it squares like we do, and without its optional central smoothness
constraint (`enable_central_smoothness=False`, its default), so the least-squares problem matches
`symdyn.smnn.solve` with `weights=(1, 1, 1)`. Its optional compiled `mnn` extension is not needed: without it the
reference falls back to its pure PyTorch block LDL solver. Nothing from that repository is copied here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path
from types import ModuleType

THREADS = 2  # torch intra-op threads for the reference
STEP = 0.01


def load_reference(path: str) -> ModuleType:
    """Import `smnn.py` of a ScalableMNN checkout at `path` (under a private name); ImportError if impossible."""
    source = Path(path).expanduser() / "smnn.py"
    if not source.is_file():
        raise ImportError(f"no ScalableMNN checkout at {path!r}: {source} does not exist")
    try:
        import torch
    except ImportError as error:
        raise ImportError("the ScalableMNN reference needs PyTorch (pip install torch)") from error
    torch.set_num_threads(THREADS)
    spec = importlib.util.spec_from_file_location("_scalable_mnn_reference", source)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise ImportError(f"could not import the ScalableMNN solver from {source}: {error}") from error
    if not callable(getattr(module, "ode_forward", None)):
        raise ImportError(f"{source} has no ode_forward: not a ScalableMNN solver module")
    return module


def problem_arrays(systems: int, times: int, seed: int = 0) -> dict:
    """Random well-posed scalar problems y' + a y + b y'' = d with small a, b, per system and time point, as NumPy
    float64 arrays c, d, u, s and the fixed tensor `weight` the output is reduced against: the inputs both
    implementations get."""
    import numpy as np

    rng = np.random.default_rng(seed)
    c = 0.1 * rng.standard_normal((systems, times, 1, 1, 3))
    c[..., 1] = 1.0  # coefficient of y'
    return {
        "c": c,
        "d": rng.standard_normal((systems, times, 1)),
        "u": rng.standard_normal((systems, 1, 1, 1)),
        "s": np.full((systems, times - 1), STEP),
        "weight": rng.standard_normal((systems, times, 1, 3)),
    }


def _problem(systems: int, times: int, seed: int = 0):
    import torch

    arrays = {name: torch.from_numpy(value) for name, value in problem_arrays(systems, times, seed).items()}
    inputs = [arrays[name].clone().requires_grad_() for name in "cdus"]
    return inputs, arrays["weight"]


def reference_solution(module: ModuleType, systems: int, times: int, seed: int = 0):
    """The reference's y (B, T, V, R+1) on `problem_arrays(systems, times, seed)`, as a NumPy array."""
    import torch

    inputs, _ = _problem(systems, times, seed)
    with torch.no_grad():
        return module.ode_forward(*inputs).numpy()


def _forward_backward(module: ModuleType, inputs, weight) -> None:
    y = module.ode_forward(*inputs)
    (y * weight).sum().backward()


def _clear_gradients(inputs) -> None:
    for x in inputs:
        x.grad = None


def _peak_bytes(module: ModuleType, inputs, weight) -> int:
    """Peak of torch's CPU allocations during one forward + backward, from the profiler's allocation events."""
    from torch.profiler import ProfilerActivity, profile

    _clear_gradients(inputs)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        _forward_backward(module, inputs, weight)
    with tempfile.TemporaryDirectory() as folder:
        trace = os.path.join(folder, "trace.json")
        prof.export_chrome_trace(trace)
        with open(trace) as file:
            events = json.load(file)["traceEvents"]
    allocations = sorted(
        (e["ts"], e["args"]["Bytes"])
        for e in events
        if e.get("name") == "[memory]" and e["args"].get("Device Type") == 0
    )
    if not allocations:
        return -1
    peak = current = 0
    for _, size in allocations:
        current += size
        peak = max(peak, current)
    return peak


def time_reference(
    module: ModuleType, systems: int, times: int, repeats: int = 10, warmups: int = 3
) -> tuple[float, int]:
    """Forward + backward of the reference on `systems` independent scalar linear ODEs of `times` points.

    The problem: V = 1, Q = 1, R = 2 (c y + c' y' + c'' y'' = d with per-system, per-time-point coefficients),
    T_init = 1, R_init = 0, constant step 0.01, float64, on the CPU with `THREADS` torch threads, the inputs of
    `problem_arrays`. `warmups` runs, then `repeats` timed runs of `ode_forward`, (y * fixed random tensor).sum()
    and backward, with gradients with respect to c, d, u and s (the reference differentiates through the steps too).

    Returns:
        The median wall time in seconds, and the peak extra memory in bytes: the high-water mark of torch's CPU
        allocations during one further forward + backward, relative to its start (inputs excluded, output,
        saved tensors and gradients included), from `torch.profiler` allocation events; -1 if none were recorded.
    """
    import numpy as np
    import torch

    torch.set_num_threads(THREADS)
    inputs, weight = _problem(systems, times)
    for _ in range(warmups):
        _clear_gradients(inputs)
        _forward_backward(module, inputs, weight)
    seconds = []
    for _ in range(repeats):
        _clear_gradients(inputs)
        start = time.perf_counter()
        _forward_backward(module, inputs, weight)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), _peak_bytes(module, inputs, weight)


def time_reference_discovery_step(module: ModuleType, data, batch: int, times: int, repeats: int = 20) -> float:
    """One Lorenz discovery step of the reference: the template's terms on a batch of chunks, `ode_forward`
    (V = 1 per state, R = 2, T_init = 1), the trajectory MSE, backward and an Adam update of a₁..a₇.

    `data` is the (N, 3) float64 trajectory; chunks start at random points. Returns the mean seconds per step
    after two warm-up steps.
    """
    import torch

    torch.set_num_threads(THREADS)
    x_all = torch.as_tensor(data)
    a = torch.zeros(7, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([a], lr=0.1)
    coefficients = torch.zeros(1, 1, 1, 1, 3, dtype=torch.float64)
    coefficients[..., 1] = 1.0
    steps = torch.full((1, times - 1), STEP, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)

    def step():
        starts = torch.randint(0, x_all.shape[0] - times + 1, (batch,), generator=generator)
        chunk = x_all[starts[:, None] + torch.arange(times)]  # (B, T, 3)
        x, y, z = chunk.unbind(-1)
        rhs = torch.stack([a[0] * x + a[1] * y, a[2] * x + a[3] * y + a[4] * x * z, a[5] * z + a[6] * x * y], -1)
        d = rhs.transpose(1, 2).reshape(batch * 3, times, 1)
        u = chunk[:, 0, :].reshape(batch * 3, 1, 1, 1)
        solution = module.ode_forward(coefficients, d, u, steps)[..., 0, 0].reshape(batch, 3, times)
        loss = (solution.transpose(1, 2) - chunk).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats
