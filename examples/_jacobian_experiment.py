"""Shared by two_body.py, rigid_body.py and kuramoto_sivashinsky.py: the seed's comparison of short rollouts, longer
rollouts, L_AD and L_FD (Janvier, Salomon & Meunier, Section 4, Table 1, Figures 1-3), once per seed, with the
median and range over seeds."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import jax
import numpy as np

import symdyn
from symdyn.data import Trajectories, Uniform, generate, preset
from symdyn.train import MLP, JacobianAD, JacobianFD, evaluate, grid_search, train

HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One column of the seed's Table 2; `paper` holds its Table 1 rows (L_traj, ε_θ − ε_θ^B, J_e − J_e^B).

    The data comes from `model_file` with parameters drawn from `draw`, or from the data set `preset`
    (its own splits and steps; `trajectories` then says how many of each split to use)."""

    name: str
    model_file: str  # "" for a preset
    draw: dict[str, Uniform]
    data_dt: float
    model_dt: float
    train_time: float
    test_time: float
    short: int
    long: int
    trajectories: tuple[int, int, int]  # train, validation, test
    epochs: int
    batch_size: int
    weights_ad: tuple[float, ...]
    weights_fd: tuple[float, ...]
    directions: int = 10
    preset: str | None = None
    paper: dict[str, tuple[float, float, float]] = dataclasses.field(default_factory=dict)


def datasets(experiment: Experiment, model: symdyn.Model, keys) -> list[Trajectories]:
    """The training, validation and test trajectories."""
    if experiment.preset is not None:
        data_set = preset(experiment.preset)
        return [
            data_set.generate(split, key=key, samples=m)
            for split, m, key in zip(("train", "validation", "test"), experiment.trajectories, keys)
        ]
    durations = (experiment.train_time, experiment.train_time, experiment.test_time)
    return [
        generate(model, parameters=experiment.draw, samples=m, duration=d, dt=experiment.data_dt, key=k)
        for m, d, k in zip(experiment.trajectories, durations, keys)
    ]


def run(experiment: Experiment, out: Path, seed: int = 0) -> dict:
    """Generate the data, train the four models (λ by grid search on validation), evaluate, write table and figures."""
    from symdyn.plot import plot_conserved_errors, plot_grid_search, plot_rollouts, plot_space_time

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    model = preset(experiment.preset).model() if experiment.preset else symdyn.load(HERE / experiment.model_file)
    keys = jax.random.split(jax.random.PRNGKey(seed), 5)
    train_set, validation, test = datasets(experiment, model, keys[:3])
    network = MLP(train_set.names, grid=tuple(len(axis) for axis in train_set.grid), key=keys[3])
    options = dict(
        epochs=experiment.epochs,
        key=keys[4],
        dt=experiment.model_dt,
        validation=validation,
        batch_size=experiment.batch_size,
    )
    short, long = experiment.short, experiment.long
    print(f"{experiment.name}: N = {short} (baseline)")
    trained = {f"N={short}Δt": train(network, train_set, rollout=short, **options)}
    print(f"{experiment.name}: N = {long} (longer rollout)")
    trained[f"N={long}Δt"] = train(network, train_set, rollout=long, **options)
    searches = {}
    for label, regularizer, weights in (
        ("L_AD", JacobianAD(model, 0.0, directions=experiment.directions), experiment.weights_ad),
        ("L_FD", JacobianFD(0.0), experiment.weights_fd),
    ):
        print(f"{experiment.name}: N = {short} with {label}, λ in {list(weights)}")
        searches[label] = grid_search(network, train_set, regularizer, weights, rollout=short, **options)
        print(searches[label].table())
        trained[f"N={short}Δt, {label}"] = searches[label].best

    evaluations = {
        label: evaluate(result.network, model, test, dt=experiment.model_dt) for label, result in trained.items()
    }
    baseline = next(iter(evaluations.values()))
    rows = []
    for label, evaluation in evaluations.items():
        rows.append(
            {
                "model": label,
                "L_traj": evaluation.trajectory_loss,
                "eps": evaluation.offline_error,
                "J_e": evaluation.jacobian_error,
                "d_eps": evaluation.offline_error - baseline.offline_error,
                "d_J_e": evaluation.jacobian_error - baseline.jacobian_error,
                "final_median": float(np.median(evaluation.final_error)),
                "final_90": float(np.quantile(evaluation.final_error, 0.9, method="higher")),
                "diverged": evaluation.diverged,
                "train_s": trained[label].seconds,
                **{
                    f"{name} error": float(np.median(evaluation.conserved_error[:, -1, i]))
                    for i, name in enumerate(evaluation.conserved_names)
                },
            }
        )
    table = markdown_table(experiment, rows, searches, len(test), baseline.diverged_above)
    (out / f"{experiment.name}_table.md").write_text(table)
    every = test.every(experiment.model_dt)
    plot_rollouts(
        evaluations,
        test.states[0, ::every],
        test.names,
        out / f"{experiment.name}_rollouts.png",
        title=f"{model.name}: {len(test)} test trajectories of {experiment.test_time:g} s",
    )
    plot_conserved_errors(evaluations, out / f"{experiment.name}_conserved.png", title=model.name)
    if len(test.grid) == 1:
        plot_space_time(
            evaluations,
            test.states[0, ::every],
            test.grid[0],
            test.coordinate_names[0],
            out / f"{experiment.name}_space_time.png",
            title=f"{model.name}: a test trajectory",
        )
    plot_grid_search(searches, out / f"{experiment.name}_lambda.png", title=f"{model.name}: choosing λ")
    print(table)
    print(f"{experiment.name}: {time.perf_counter() - started:.0f} s; table and figures in {out}")
    return {"rows": rows, "searches": searches, "evaluations": evaluations}


def _conserved_columns(rows: list[dict]) -> list[str]:
    return [key for key in rows[0] if key.endswith(" error")]


def markdown_table(experiment: Experiment, rows: list[dict], searches: dict, tests: int, diverged_above: float) -> str:
    chosen = ", ".join(f"λ_{label[2:]} = {search.best_weight:g}" for label, search in searches.items())
    conserved = _conserved_columns(rows)
    lines = [
        f"{experiment.name}: {experiment.epochs} epochs in {jax.numpy.result_type(float).name}, "
        f"{tests} test trajectories of {experiment.test_time:g} s "
        f"({chosen}, chosen on validation). Errors are means per entry, as in the seed's Table 3; "
        f"diverged: R_e(T) > {diverged_above:g} or overflowed; L_traj is inf where a rollout overflowed.",
        "",
        "| model | L_traj(θ) | ε_θ | J_e(θ) | ε_θ − ε_θ^B | J_e − J_e^B | R_e(T) median | R_e(T) 90 % "
        "| diverged | train (s) |" + "".join(f" {name} (final median) |" for name in conserved),
        "|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(conserved),
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['L_traj']:.3g} | {row['eps']:.3g} | {row['J_e']:.4g} | {row['d_eps']:+.2g} | "
            f"{row['d_J_e']:+.3g} | {row['final_median']:.3g} | {row['final_90']:.3g} | {row['diverged']}/{tests} | "
            f"{row['train_s']:.0f} |" + "".join(f" {row[name]:.3g} |" for name in conserved)
        )
    if experiment.paper:
        lines += [
            "",
            "The seed's Table 1 rows:",
            "",
            "| model | L_traj(θ) | ε_θ − ε_θ^B | J_e − J_e^B |",
            "|---|---|---|---|",
        ]
        lines += [f"| {m} | {a:.3g} | {b:+.2g} | {c:+.3g} |" for m, (a, b, c) in experiment.paper.items()]
    return "\n".join(lines) + "\n"


SPREAD = ("L_traj", "eps", "J_e", "d_eps", "d_J_e", "final_median")


def spread_table(experiment: Experiment, runs: dict[int, list[dict]]) -> str:
    """Per model, the median [min, max] over seeds of each metric, and the divergence count of each seed."""
    seeds = list(runs)
    conserved = _conserved_columns(next(iter(runs.values())))
    columns = (*SPREAD, *conserved)
    lines = [
        f"{experiment.name}: {len(seeds)} seeds ({', '.join(map(str, seeds))}), {experiment.epochs} epochs; "
        "each cell is the median [min, max] over seeds; diverged lists each seed's count.",
        "",
        "| model | " + " | ".join(columns) + " | diverged per seed |",
        "|---|" + "---|" * (len(columns) + 1),
    ]
    for i, label in enumerate(row["model"] for row in next(iter(runs.values()))):
        cells = []
        for column in columns:
            values = np.array([runs[seed][i][column] for seed in seeds], dtype=float)
            cells.append(f"{np.median(values):.3g} [{values.min():.3g}, {values.max():.3g}]")
        diverged = ", ".join(str(runs[seed][i]["diverged"]) for seed in seeds)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {diverged} |")
    return "\n".join(lines) + "\n"


def command_line(reduced: Experiment, full: Experiment, doc: str) -> None:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the seed's configuration (hours on 2 cores)")
    parser.add_argument("--out", default="out", help="where the table and figures go (default out)")
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="train every model once per seed (data, weights and shuffles); several give the spread (default 0)",
    )
    parser.add_argument("--x64", action="store_true", help="generate, train and evaluate in float64 (default float32)")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    experiment, out = (full if args.full else reduced), Path(args.out)
    if len(args.seeds) == 1:
        run(experiment, out, seed=args.seeds[0])
        return
    runs = {seed: run(experiment, out / f"seed{seed}", seed=seed)["rows"] for seed in args.seeds}
    table = spread_table(experiment, runs)
    (out / f"{experiment.name}_seeds.md").write_text(table)
    print(table)
