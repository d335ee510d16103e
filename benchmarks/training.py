"""The cost of Jacobian regularization: one training step with the trajectory loss alone, with L_FD and with L_AD
(the Jacobians formed, and Hutchinson's estimate), and the model's symbolic Jacobian-vector product against
`jax.jvp` of its lowered right-hand side, in one run.

Two-body (4 states) and rigid body (3 states) of the seed, the seed's MLP (hidden 200),
RK4 rollouts of N model steps, minibatches of 256 chunks; L_AD as `JacobianAD` chooses it
(d ≤ V = 10: the Jacobians formed) and with V = 10 Gaussian directions; one step = loss,
gradient and Adam update, compiled. Each entry is the best of --repeats (5) warm runs, the
variants taken in turn; float32 as in training. The floor is the ratio of floating-point
operations XLA counts: the L_AD penalty's gradient against the plain step's 4N network
evaluations per chunk, forward and backward (the RK4 combinations and Adam are left out).

Kuramoto-Sivashinsky (the seed's preset: 256 points, Δt = 0.2, the MLP 256 → 200 → 200 →
256): the same step, and L_AD once more with `jax.jvp` of the lowered right-hand side in
place of the model's exact operator JVP, and with J_F v = 0 (the network's part alone).

    python benchmarks/training.py [--batch 256] [--rollout 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from _timing import best_of, best_of_each

import symdyn
from symdyn.data import Uniform, generate, preset
from symdyn.integrators import Rk4
from symdyn.train import MLP, JacobianAD, JacobianFD, objective

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASES = {
    "two-body": ("two_body.sdyn", {"e": Uniform(0.5, 0.7)}),
    "rigid body": ("rigid_body.sdyn", {"φ": Uniform(0.5, 1.5)}),
}


def training_step(network, chunks, regularizer, optimizer, dt=0.01):
    params, static = eqx.partition(network, eqx.is_inexact_array)
    state = optimizer.init(params)
    integrator = Rk4()

    @jax.jit
    def step(params, state, key):
        def loss(p):
            return objective(eqx.combine(p, static), chunks, key, dt, integrator, regularizer)[0]

        value, grads = jax.value_and_grad(loss)(params)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    key = jax.random.PRNGKey(0)
    return lambda: step(params, state, key)


def flops(f, *args) -> float:
    """The floating-point operations XLA's cost analysis counts in the compiled `f(*args)` (no loops in `f`)."""
    cost = jax.jit(f).lower(*args).compile().cost_analysis()
    return (cost[0] if isinstance(cost, list) else cost)["flops"]


def flop_floor(network, chunks, regularizer, rollout: int) -> float:
    """1 + (the penalty's gradient) / (the plain step's network evaluations and their gradient), in flops."""
    params, static = eqx.partition(network, eqx.is_inexact_array)
    key = jax.random.PRNGKey(0)

    def penalty(p):
        return regularizer(eqx.combine(p, static), chunks, 0.01, key)

    def evaluations(p):  # one of the 4N network evaluations of every chunk in an RK4 rollout
        return jnp.sum(jax.vmap(eqx.combine(p, static))(chunks.t[:, 0], chunks.states[:, 0]))

    return 1 + flops(jax.grad(penalty), params) / (4 * rollout * flops(jax.grad(evaluations), params))


def jvp_times(low, chunks) -> tuple[int, float, float, float]:
    """(products, symbolic s, jax.jvp s, largest difference) for J_F v at every point of `chunks`, V = 10."""
    x = chunks.states.reshape(-1, chunks.states.shape[-1])
    p = jnp.repeat(chunks.p, chunks.states.shape[1], axis=0)
    v = jax.random.normal(jax.random.PRNGKey(2), (10, *x.shape), x.dtype)
    symbolic = jax.jit(jax.vmap(lambda v_i: low.jvp(0.0, x, p, v_i)))
    autodiff = jax.jit(jax.vmap(lambda v_i: jax.jvp(lambda y: low.rhs(0.0, y, p), (x,), (v_i,))[1]))
    error = float(jnp.max(jnp.abs(symbolic(v) - autodiff(v))))
    return x.shape[0] * 10, best_of(lambda: symbolic(v)), best_of(lambda: autodiff(v)), error


class _AutodiffJVP(eqx.Module):
    """A lowered model's J v by `jax.jvp` of its rhs, for comparison with its exact operator JVP."""

    rhs: object = eqx.field(static=True)

    def jvp(self, t, x, p, v):
        return jax.jvp(lambda y: self.rhs(t, y, p), (x,), (v,))[1]


class _ZeroJVP(eqx.Module):
    """J v = 0: what L_AD costs without the model's products."""

    def jvp(self, t, x, p, v):
        return jnp.zeros_like(v)


def kuramoto_sivashinsky(batch: int, rollout: int, repeats: int) -> None:
    data_set = preset("ks")
    model = data_set.model()
    data = data_set.generate("train", key=jax.random.PRNGKey(1), samples=max(1, batch // 60 + 1), progress=False)
    chunks = jax.tree.map(lambda a: a[:batch], data.chunks(rollout))
    network = MLP(data.names, grid=(256,), key=jax.random.PRNGKey(0))
    exact = JacobianAD(model, 1e-12)  # 256 entries > V = 10: Hutchinson's estimate
    autodiff = eqx.tree_at(lambda r: r.model, exact, _AutodiffJVP(exact.model.rhs))
    no_model = eqx.tree_at(lambda r: r.model, exact, _ZeroJVP())
    optimizer = optax.adam(1e-3)
    regularizers = (None, JacobianFD(1e-7), exact, autodiff, no_model)
    steps = [training_step(network, chunks, r, optimizer, dt=0.2) for r in regularizers]
    base, *others = best_of_each(steps, repeats)
    floor = flop_floor(network, chunks, exact, rollout)
    print(f"\nKuramoto-Sivashinsky, 256 points: one training step, batch {chunks.states.shape[0]} chunks")
    print(f"(L_AD: {exact.jacobian}, V = {exact.directions}); the plain step in ms, the others as ratios to it")
    print(f"{'plain':>8} {'L_FD':>6} {'L_AD':>6} {'L_AD jax.jvp':>13} {'L_AD J_F v = 0':>15} {'floor':>6}")
    fd, ad, ad_jvp, ad_zero = (t / base for t in others)
    print(f"{1e3 * base:>8.2f} {fd:>6.2f} {ad:>6.2f} {ad_jvp:>13.2f} {ad_zero:>15.2f} {floor:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rollout", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="warm runs of each step; its best counts")
    args = parser.parse_args()
    print(f"one training step, batch {args.batch} chunks of N = {args.rollout}, RK4, float32 (best of {args.repeats}):")
    print("the plain step in ms, the others as ratios to it")
    print(f"{'system':<12} {'d':>2} {'plain':>8} {'L_FD':>6} {'L_AD exact':>11} {'L_AD V=10':>10} {'floor':>6}")
    jvp_rows = []
    for name, (file, draw) in CASES.items():
        model = symdyn.load(EXAMPLES / file)
        data = generate(model, parameters=draw, samples=40, duration=8.0, dt=0.01, key=jax.random.PRNGKey(1))
        chunks = data.chunks(args.rollout)
        chunks = jax.tree.map(lambda a: a[: args.batch], chunks)
        network = MLP(data.names, key=jax.random.PRNGKey(0))
        optimizer = optax.adam(1e-3)
        exact, hutchinson = JacobianAD(model, 1e-6), JacobianAD(model, 1e-6, jacobian="hutchinson")
        assert exact.jacobian == "exact"  # d <= V: what JacobianAD chooses
        steps = [training_step(network, chunks, r, optimizer) for r in (None, JacobianFD(1e-6), exact, hutchinson)]
        base, fd, ad, ad_v = best_of_each(steps, args.repeats)
        floor = flop_floor(network, chunks, exact, args.rollout)
        print(
            f"{name:<12} {len(data.names):>2} {1e3 * base:>8.2f} {fd / base:>6.2f} {ad / base:>11.2f} "
            f"{ad_v / base:>10.2f} {floor:>6.2f}"
        )

        jvp_rows.append((name, *jvp_times(model.lower(), chunks)))

    print("\nJ_F v for all points of a batch and V = 10 directions, µs (best of 5)")
    print(f"{'system':<12} {'products':>9} {'symbolic':>9} {'jax.jvp':>9} {'sym/jvp':>8} {'max diff':>9}")
    for name, count, symbolic, autodiff, error in jvp_rows:
        ratio = symbolic / autodiff
        print(f"{name:<12} {count:>9} {1e6 * symbolic:>9.1f} {1e6 * autodiff:>9.1f} {ratio:>8.2f} {error:>9.1e}")
    kuramoto_sivashinsky(args.batch, args.rollout, args.repeats)


if __name__ == "__main__":
    main()
