"""Kuramoto-Sivashinsky (Janvier, Salomon & Meunier, Section 4.3; Table 2, third column).

The seed's data set (`symdyn.data.preset("ks")`): u_t = −u u_x − u_xx − u_xxxx on a periodic
domain of length 64 with 256 points, Δt = 0.2, 360 warm-up steps dropped, initial fields
Σ₁¹⁰ A_m sin(2π l_m x/64 + φ_m); training and validation trajectories of 140 steps, test
trajectories of 640. The seed's MLP (256 → 200 → 200 → 256, ReLU) steps RK4 at Δt and is
trained four ways: rollouts of N = 2Δt (the baseline), N = 10Δt (longer rollouts), and
N = 2Δt with L_AD (the exact operator JVP of the model) or L_FD, their λ chosen by grid
search on the validation trajectory loss. J_e is Hutchinson's estimate with 4 directions,
as in the seed; the mass ∫u, zero for these fields, is compared absolutely.

The reduced configuration (default) uses 128 / 32 / 32 trajectories, 100 epochs and two λ
each from the seed's grids (with 32 training trajectories the MLP memorises them: its
validation loss rises from the first epochs); --full is the seed's (512 / 128 / 128 trajectories, 1000 epochs,
its λ grids: days on 2 cores). --seeds 0 1 2 trains everything once per seed and writes
the median and range over seeds.

    python examples/kuramoto_sivashinsky.py [--full] [--seeds 0 1 2] [--x64] [--out out]
"""

from __future__ import annotations

from _jacobian_experiment import Experiment, command_line

COMMON = dict(
    name="kuramoto_sivashinsky",
    model_file="",
    preset="ks",
    draw={},
    data_dt=0.2,
    model_dt=0.2,
    train_time=27.8,
    test_time=127.8,
    short=2,
    long=10,
    batch_size=256,
    paper={  # Table 1, KS rows
        "N=2Δt": (4.77e14, 0.0, 0.0),
        "N=10Δt": (2.91, 5.49e-3, -2.15e-2),
        "N=2Δt, L_AD": (8.50e5, -0.04e-3, -0.01e-2),
        "N=2Δt, L_FD": (3.59, -0.08e-3, -0.05e-2),
    },
)
REDUCED = Experiment(
    **COMMON, trajectories=(128, 32, 32), epochs=100, weights_ad=(5e-12, 5e-13), weights_fd=(1e-5, 1e-7)
)
FULL = Experiment(
    **COMMON,
    trajectories=(512, 128, 128),
    epochs=1000,
    weights_ad=(5e-12, 1e-12, 5e-13, 1e-13),  # Table 2
    weights_fd=(1e-4, 1e-5, 1e-6, 1e-7, 1e-8),
)

if __name__ == "__main__":
    command_line(REDUCED, FULL, __doc__)
