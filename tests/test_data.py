"""The one trajectory container: its files (npz written atomically, npz and CSV read), checks, chunks, generation."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import EXAMPLES, tolerance

import symdyn
from symdyn.cli import main
from symdyn.data import ModelInitial, SumOfSines, Trajectories, Uniform, generate
from symdyn.integrators import integrate

LORENZ = symdyn.load(EXAMPLES / "lorenz.sdyn")
TWO_BODY = symdyn.load(EXAMPLES / "two_body.sdyn")
KS = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn")


def small_ks(points: int = 32) -> symdyn.Model:
    return symdyn.parse(str(KS).replace("points = 256", f"points = {points}"))


# --- files
def test_ode_trajectories_round_trip_and_a_single_one_is_saved_without_its_batch_axis(tmp_path):
    data = generate(LORENZ, duration=0.5, dt=0.1, key=jax.random.PRNGKey(0))
    data.save(tmp_path / "one.npz")
    raw = np.load(tmp_path / "one.npz")
    assert raw["x"].shape == raw["t"].shape == (6,) and list(raw["state_names"]) == ["x", "y", "z"]
    assert str(raw["model"]) == str(LORENZ)
    back = Trajectories.load(tmp_path / "one.npz")
    np.testing.assert_array_equal(back.states, data.states)
    assert back.names == ("x", "y", "z") and back.parameter_names == ("σ", "ρ", "β")
    np.testing.assert_allclose(back.parameters, [[10.0, 28.0, 8 / 3]])
    assert back.model_name == "Lorenz" and symdyn.parse(back.model) == LORENZ
    many = generate(
        TWO_BODY, parameters={"e": Uniform(0.5, 0.7)}, samples=3, duration=0.1, dt=0.05, key=jax.random.PRNGKey(1)
    )
    many.save(tmp_path / "many.npz")
    again = Trajectories.load(tmp_path / "many.npz")
    np.testing.assert_array_equal(again.states, many.states)
    np.testing.assert_array_equal(again.parameters, many.parameters)
    np.testing.assert_array_equal(again.observed["H"], many.observed["H"])  # the two-body energy, (3, 3)
    assert again.observed["H"].shape == (3, 3)
    assert not list(tmp_path.glob("*.partial*"))


def test_field_trajectories_round_trip_with_their_grid(tmp_path):
    data = generate(small_ks(), initial=SumOfSines(), samples=2, duration=0.4, dt=0.2, key=jax.random.PRNGKey(0))
    assert data.states.shape == (2, 3, 1, 32) and data.coordinate_names == ("x",)
    data.save(tmp_path / "ks.npz")
    raw = np.load(tmp_path / "ks.npz")
    assert raw["u"].shape == (2, 3, 32) and raw["grid_x"].shape == (32,) and raw["mass"].shape == (2, 3)
    back = Trajectories.load(tmp_path / "ks.npz")
    np.testing.assert_array_equal(back.states, data.states)
    np.testing.assert_array_equal(back.grid[0], np.arange(32) * 2.0)
    np.testing.assert_allclose(back.observed["mass"], 0.0, atol=tolerance(1e-12, 1e-5))  # sines have no mean


def test_simulate_npz_and_csv_agree(tmp_path):
    npz, csv = tmp_path / "lorenz.npz", tmp_path / "lorenz.csv"
    assert main(["simulate", str(EXAMPLES / "lorenz.sdyn"), "--t-end", "1", "--dt", "0.01", "-o", str(npz)]) == 0
    from_npz = Trajectories.load(npz)
    assert from_npz.names == ("x", "y", "z") and from_npz.states.shape == (1, 101, 3)
    table = np.column_stack([from_npz.t, from_npz.states[0]])
    np.savetxt(csv, table, delimiter=",", header="t,x,y,z", comments="", fmt="%.17g")
    from_csv = Trajectories.load(csv, ["z", "x"])
    np.testing.assert_array_equal(from_csv.states[0], from_npz.states[0][:, [2, 0]])
    assert from_csv.dt == pytest.approx(0.01)


def test_several_trajectories_on_one_grid_from_plain_arrays():
    t = np.linspace(0, 1, 11)
    x, y = np.arange(44.0).reshape(4, 11), -np.arange(44.0).reshape(4, 11)
    data = Trajectories.load({"t": t, "x": x, "y": y})
    assert data.names == ("x", "y") and data.parameters.shape == (4, 0) and data.model == ""
    np.testing.assert_array_equal(data.states, np.stack([x, y], axis=-1))  # trajectory m, time n, state v
    np.testing.assert_array_equal(data.t, t)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"t": [0, 1, 2], "x": [1, 2, 3]}, "data has no state 'y' (it has 'x')"),
        (
            {"t": [0, 1, 2], "x": [1, 2, 3], "yy": [1, 2, 3]},
            "data has no state 'y' (it has 'x', 'yy'); did you mean 'yy'?",
        ),
        ({"x": [1, 2, 3], "y": [1, 2, 3]}, "data has no time array 't'"),
        ({"t": [0, 2, 1], "x": [1, 2, 3], "y": [1, 2, 3]}, "'t' must increase, but t[2] = 1 follows t[1] = 2"),
        ({"t": [0, 1, 3, 4], "x": [1, 2, 3, 4], "y": [1, 2, 3, 4]}, "'t' is not uniformly spaced"),
        ({"t": [0, 1, 2], "x": [1, np.nan, 3], "y": [1, 2, 3]}, "state 'x' is nan at t = 1 (index 1)"),
        ({"t": [0, 1, 2], "x": [1, 2], "y": [1, 2, 3]}, "state 'x' has shape (2,); expected (3) or (M, 3)"),
    ],
)
def test_bad_data_gets_a_message_that_names_the_fault(arrays, message):
    with pytest.raises(ValueError) as error:
        Trajectories.load({k: np.asarray(v, dtype=float) for k, v in arrays.items()}, ["x", "y"])
    assert message in str(error.value)


def test_csv_with_a_bad_cell_names_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("t,x\n0,1\n0.1,oops\n")
    with pytest.raises(ValueError, match=r"data row 2, column 'x': 'oops' is not a number"):
        Trajectories.load(path)


def test_only_npz_is_written(tmp_path):
    data = generate(LORENZ, duration=0.2, dt=0.1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="x.png: trajectories are written as .npz"):
        data.save(tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


# --- chunks
def test_chunks_are_non_overlapping_pieces_at_the_model_step():
    data = generate(
        TWO_BODY, parameters={"e": Uniform(0.5, 0.7)}, samples=3, duration=0.6, dt=0.01, key=jax.random.PRNGKey(1)
    )
    chunks = data.chunks(2, dt=0.02)
    per = 31 // 3  # 61 points at 0.01 -> 31 at 0.02 -> 10 chunks of 3
    assert chunks.states.shape == (3 * per, 3, 4) and chunks.p.shape == (3 * per, 1)
    np.testing.assert_allclose(chunks.states[1], data.states[0, 6:12:2], rtol=tolerance(1e-15, 1e-7))
    np.testing.assert_allclose(chunks.t[1], [0.06, 0.08, 0.10], rtol=tolerance(1e-12, 1e-6))
    with pytest.raises(ValueError, match="multiple of the data's step 0.01"):
        data.chunks(2, dt=0.015)
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        data.chunks(0)


def test_fields_chunk_with_their_grid():
    data = generate(small_ks(16), initial=SumOfSines(), samples=2, duration=1.0, dt=0.2, key=jax.random.PRNGKey(0))
    chunks = data.chunks(2)
    assert chunks.states.shape == (4, 3, 1, 16)  # 6 points -> 2 chunks of 3 per trajectory
    np.testing.assert_array_equal(chunks.states[3], np.asarray(data.states[1, 3:6], chunks.states.dtype))


# --- generation
def test_generate_draws_parameters_and_starts_from_the_models_initial_values():
    """The seed's two-body data: e ~ U(0.5, 0.7), x(0) = (1 − e, 0, 0, √((1 + e)/(1 − e))), RK4 at dt."""
    data = generate(
        TWO_BODY, parameters={"e": Uniform(0.5, 0.7)}, samples=3, duration=0.6, dt=0.01, key=jax.random.PRNGKey(1)
    )
    e = data.parameters[:, 0]
    assert np.all((e >= 0.5) & (e <= 0.7))
    np.testing.assert_allclose(
        data.states[:, 0],
        np.stack([1 - e, 0 * e, 0 * e, np.sqrt((1 + e) / (1 - e))], axis=-1),
        rtol=tolerance(1e-14, 1e-6),
    )
    step = np.asarray(integrate(TWO_BODY.lower(), data.states[0, 0], 0.0, 0.01, 60, p=data.parameters[0]))
    np.testing.assert_allclose(data.states[0], step, rtol=tolerance(1e-12, 1e-5))


def test_substeps_warmup_and_t0_by_value():
    """dt/substeps steps with every substeps-th saved; warm-up steps integrated and dropped; time from t0."""
    base = generate(LORENZ, duration=0.3, dt=0.01, t0=1.0, key=jax.random.PRNGKey(0))
    fine = generate(LORENZ, duration=0.3, dt=0.03, substeps=3, t0=1.0, key=jax.random.PRNGKey(0))
    np.testing.assert_allclose(fine.states[0], base.states[0, ::3], rtol=tolerance(1e-12, 1e-5))
    np.testing.assert_allclose(fine.t, [1.0, 1.03, 1.06, 1.09, 1.12, 1.15, 1.18, 1.21, 1.24, 1.27, 1.3])
    warm = generate(LORENZ, duration=0.24, dt=0.03, substeps=3, warmup=2, t0=1.0, key=jax.random.PRNGKey(0))
    np.testing.assert_allclose(warm.t[0], 1.06)
    np.testing.assert_allclose(warm.states[0], base.states[0, 6::3], rtol=tolerance(1e-12, 1e-5))


def test_durations_that_differ_share_one_compiled_segment():
    """`segment=3`: the trajectories integrate in pieces of 3 saved steps, the last one cut; 7 and 5 steps run the
    one compiled piece, and the data equal those of one piece over the whole duration."""
    from symdyn.integrators._integrate import _integrate as compiled

    low = small_ks().lower()
    options = dict(
        dt=0.2, substeps=2, warmup=3, samples=3, batch_size=2, initial=SumOfSines(), key=jax.random.PRNGKey(4)
    )
    long = generate(low, duration=1.4, segment=3, **options)
    before = compiled._cached._cache_size()
    short = generate(low, duration=1.0, segment=3, **options)
    assert compiled._cached._cache_size() == before  # the warm-up and the piece, compiled for the longer one
    for data, duration in ((long, 1.4), (short, 1.0)):
        whole = generate(low, duration=duration, **options)
        assert data.states.shape == whole.states.shape
        np.testing.assert_allclose(data.t, whole.t, rtol=1e-15)
        np.testing.assert_allclose(data.states, whole.states, rtol=tolerance(1e-13, 1e-5), atol=tolerance(1e-13, 1e-5))
        np.testing.assert_allclose(data.observed["mass"], whole.observed["mass"], atol=tolerance(1e-12, 1e-5))
    with pytest.raises(ValueError, match="segment restarts the method at each piece; leapfrog is a multistep"):
        generate(LORENZ, duration=0.3, dt=0.1, key=jax.random.PRNGKey(0), method="leapfrog", segment=1)
    with pytest.raises(ValueError, match="segment must be a positive int, not 0"):
        generate(LORENZ, duration=0.3, dt=0.1, key=jax.random.PRNGKey(0), segment=0)


def test_initial_values_by_name_and_their_errors():
    data = generate(LORENZ, duration=0.1, dt=0.1, key=jax.random.PRNGKey(0), initial=ModelInitial({"z": 2.0}))
    np.testing.assert_allclose(data.states[0, 0], [1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="initial values for w, not a state of Lorenz"):
        generate(LORENZ, duration=0.1, dt=0.1, key=jax.random.PRNGKey(0), initial=ModelInitial({"w": 2.0}))
    with pytest.raises(ValueError, match="SumOfSines draws fields on a grid; Lorenz is an ODE"):
        generate(LORENZ, duration=0.1, dt=0.1, key=jax.random.PRNGKey(0), initial=SumOfSines())


def test_a_duration_that_is_not_a_whole_number_of_steps_is_refused():
    with pytest.raises(
        ValueError, match=r"duration 1 is not a whole number of steps dt = 0.3; take duration 0.9 or 1.2"
    ):
        generate(LORENZ, duration=1.0, dt=0.3, key=jax.random.PRNGKey(0))


def test_a_trajectory_that_blows_up_says_when():
    blow_up = symdyn.parse("model B\n    @variables x(t) = 1\n    D(x) ~ x^2\nend\n")
    with pytest.raises(FloatingPointError, match=r"B: the solution is not finite from t = 1\.0\d"):
        generate(blow_up, duration=3.0, dt=0.01, key=jax.random.PRNGKey(0))


def test_observed_quantities_follow_the_trajectory():
    """The RC circuit's @observed closed form along its own trajectory, saved with the data."""
    data = generate(symdyn.load(EXAMPLES / "rc_circuit.sdyn"), duration=1.0, dt=0.01, key=jax.random.PRNGKey(0))
    np.testing.assert_allclose(data.states[0, :, 0], data.observed["exact"][0], rtol=tolerance(1e-10, 1e-5))


# --- names of first-order states
@pytest.mark.parametrize("column", ["θˍt", "θ_t", "D(θ)"])
def test_a_first_order_state_is_found_under_any_of_its_spellings(tmp_path, column):
    """A CSV column `θ_t` or `D(θ)` holds the pendulum's state `θˍt`, as asked by its model."""
    path = tmp_path / "pendulum.csv"
    path.write_text(f"t,θ,{column}\n0,0.5,0\n0.1,0.49,-0.1\n0.2,0.48,-0.2\n", encoding="utf-8")
    names = [s.name for s in symdyn.load(EXAMPLES / "pendulum.sdyn").state_vector]
    data = Trajectories.load(path, names)
    assert data.names == ("θ", "θˍt")
    np.testing.assert_array_equal(data.states[0, :, 1], [0, -0.1, -0.2])
    as_written = Trajectories.load(path)  # the file's own names, asked for in the model's
    np.testing.assert_array_equal(as_written.select(["θˍt", "θ"]).states[0, :, 0], [0, -0.1, -0.2])
    np.testing.assert_array_equal(data.select(["D(θ)"]).states[0, :, 0], [0, -0.1, -0.2])


@pytest.mark.parametrize(
    "arrays, name, message",
    [
        ({"t": [0, 1], "θ": [1, 2]}, "θˍt", "data has no state 'θˍt' (nor 'θ_t' or 'D(θ)') (it has 'θ')"),
        ({"t": [0, 1], "theta_t": [1, 2]}, "θˍt", "(it has 'theta_t'); did you mean 'theta_t'?"),
        ({"t": [0, 1], "γ": [1, 2]}, "gamma", "data has no state 'gamma' (it has 'γ'); did you mean 'γ'?"),
        ({"t": [0, 1], "X": [1, 2]}, "x", "did you mean 'X'?"),
    ],
    ids=["first-order", "spelled out", "greek", "case"],
)
def test_a_missing_state_names_its_spellings_and_the_closest_column(arrays, name, message):
    with pytest.raises(ValueError) as error:
        Trajectories.load({k: np.asarray(v, dtype=float) for k, v in arrays.items()}, [name])
    assert message in str(error.value)


# --- the layout of a CSV file
@pytest.mark.parametrize(
    "text, message",
    [
        ("time,x,y\n0,1,2\n0.1,1,2\n", "if the column 'time' holds the times, name it `t` in the header row: `t,x,y`"),
        ("x,T,y\n1,0,2\n1,0.1,2\n", "if the column 'T' holds the times, name it `t` in the header row: `x,t,y`"),
        ("x,y\n1,2\n1,2\n", "a CSV needs a column `t` of the sample times, named in the header row: `t,x,y`"),
        (
            "0,1,2\n0.1,1,2\n",
            "the first row (0,1,2) holds numbers, not names; a CSV needs a header row naming the time `t` and "
            "the states, one per column, as in `t,x,y`",
        ),
    ],
    ids=["time", "T", "no time", "no header"],
)
def test_a_csv_without_t_says_what_its_header_must_be(tmp_path, text, message):
    """A time column is read only as `t` (`T` may be a temperature): the message gives the header to write."""
    path = tmp_path / "lv.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        Trajectories.load(path)
    assert message in str(error.value)
    arrays = {"time": np.arange(3.0), "x": np.ones(3)}
    with pytest.raises(ValueError, match=r"data has no time array 't' \(it has 'time', 'x'\); if 'time' holds the "):
        Trajectories.load(arrays)


def test_a_csv_a_spreadsheet_saved_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("t,x\n0,1\n0.5,2\n", encoding="utf-8-sig")
    data = Trajectories.load(path)
    assert data.names == ("x",) and data.dt == 0.5
    np.testing.assert_array_equal(data.states[0, :, 0], [1, 2])


def test_measurement_noise_is_a_fraction_of_each_states_spread():
    t = np.linspace(0.0, 1.0, 2001)
    states = np.stack([np.sin(2 * np.pi * t), 100 * np.cos(2 * np.pi * t)], axis=-1)[None]
    data = Trajectories(t=t, states=states, names=("x", "y"), parameters=np.zeros((1, 0)))
    noisy = data.with_noise(0.05, seed=3)
    added = (noisy.states - data.states)[0]
    assert added.std(axis=0) == pytest.approx(0.05 * states[0].std(axis=0), rel=0.05)
    assert np.array_equal(noisy.states, data.with_noise(0.05, seed=3).states)  # the seed fixes the draw
    with pytest.raises(ValueError, match="noise level"):
        data.with_noise(-0.1)
