"""Simulate each PDE example and draw it: space-time images in 1D, snapshots in 2D.

Each runs with `default_method`: ETDRK4, also on the bounded grids of the heat rod and Allen-Cahn
(φ-functions of the stencils' matrix L).

    python examples/pde_gallery.py [--out out]

The same, one model at a time, from the command line:

    symdyn simulate examples/kuramoto_sivashinsky.sdyn --t-end 100 --dt 0.5 --substeps 2 -o ks.npz --plot ks.png
    symdyn simulate examples/kdv.sdyn --t-end 100 --dt 0.5 --substeps 5 -o kdv.npz --plot kdv.png
    symdyn simulate examples/burgers.sdyn --t-end 4 --dt 0.05 --substeps 5 -o burgers.npz --plot burgers.png
    symdyn simulate examples/heat_rod.sdyn --t-end 1 --dt 0.01 --substeps 20 -o heat.npz --plot heat.png
    symdyn simulate examples/allen_cahn.sdyn --t-end 70 --dt 1 --substeps 10 -o ac.npz --plot ac.png
    symdyn simulate examples/gray_scott.sdyn --t-end 2000 --dt 100 --substeps 100 -o gs.npz --plot gs.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax

import symdyn
from symdyn.data import generate
from symdyn.integrators import default_method
from symdyn.plot import plot_fields

HERE = Path(__file__).resolve().parent
RUNS = {  # file: (t_end, saved dt, substeps)
    "kuramoto_sivashinsky": (100.0, 0.5, 2),
    "kdv": (100.0, 0.5, 5),
    "burgers": (4.0, 0.05, 5),
    "heat_rod": (1.0, 0.01, 20),
    "allen_cahn": (70.0, 1.0, 10),
    "gray_scott": (2000.0, 100.0, 100),
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (t_end, dt, substeps) in RUNS.items():
        model = symdyn.load(HERE / f"{name}.sdyn")
        low = model.lower()
        method = default_method(low)
        data = generate(
            low,
            duration=t_end,
            dt=dt,
            substeps=substeps,
            method=method,
            key=jax.random.PRNGKey(0),
        )
        path = out / f"{name}.png"
        plot_fields(data.t, data.grid, data.states[0], data.names, data.coordinate_names, path, title=model.name)
        print(f"{model.name}: {method}, {data.states.shape[1]} saved steps -> {path}")
