"""Rigid body (Janvier, Salomon & Meunier, Section 4.2; Table 2, second column).

40 training and 40 validation trajectories of 15 s, 100 test trajectories of 800 s,
X₀ = (cos φ, 0, sin φ), φ ~ U(0.5, 1.5), (I₁, I₂, I₃) = (1.6, 1, 2/3). The data is RK4
at Δt = 0.01; the models step RK4 at Δt_model = 0.1 (8000 steps over the test
horizon). The seed's MLP is trained four ways: rollouts of N = 5 model steps (the
baseline), N = 10 (longer rollouts), and N = 5 with L_AD or L_FD, their λ chosen by
grid search on the validation trajectory loss. Writes the table of the seed's Table 1
and the figures of its Figures 1-3 to --out.

The reduced configuration (default) trains 1000 epochs on two λ each; --full is the
seed's (4500 epochs, its λ grids). The seed's chosen λ_AD = 1e-6 cuts its J_e 17-fold;
here 1e-6 leaves J_e near the baseline's and 1e-4 cuts it 14-fold, so the reduced grid
sits two decades above the seed's optimum.

    python examples/rigid_body.py [--full] [--seeds 0 1 2] [--x64] [--out out]
"""

from __future__ import annotations

from _jacobian_experiment import Experiment, command_line

from symdyn.data import Uniform

COMMON = dict(
    name="rigid_body",
    model_file="rigid_body.sdyn",
    draw={"φ": Uniform(0.5, 1.5)},
    data_dt=0.01,
    model_dt=0.1,
    train_time=15.0,
    test_time=800.0,
    short=5,
    long=10,
    trajectories=(40, 40, 100),
    batch_size=256,
    paper={  # Table 1, RB rows
        "N=5Δt": (1.41e4, 0.0, 0.0),
        "N=10Δt": (1.62, 0.79e-7, -0.55e-3),
        "N=5Δt, L_AD": (1.79e-1, -0.13e-7, -7.39e-3),
        "N=5Δt, L_FD": (1.52e-1, 4.73e-6, -1.96e-3),
    },
)
SEED_GRID = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)  # Table 2, for both regularizers
REDUCED = Experiment(**COMMON, epochs=1000, weights_ad=(1e-3, 1e-4), weights_fd=(1e-2, 1e-3))
FULL = Experiment(**COMMON, epochs=4500, weights_ad=SEED_GRID, weights_fd=SEED_GRID)

if __name__ == "__main__":
    command_line(REDUCED, FULL, __doc__)
