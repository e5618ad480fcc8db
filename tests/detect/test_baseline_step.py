"""The compiled baseline step (``baseline_kernel.step_pass``, with ``caught_up_pass``) against
the step written with numpy, second by second, on random rates with quiet stretches and
bursts: the same state at the end, and the same keys firing in the same seconds. The quiet
seconds are taken in closed form, which rounds a little differently from the step repeated:
the means and deviations agree to a relative 1e-12, the counts exactly."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.baseline_kernel import caught_up_pass, step_pass

SETTINGS = (20, 0.05, 4.0, 50.0, 2.0, 3)  # learning_s, alpha, k, floor, ratio, min_duration


def numpy_step(
    state: list[NDArray[np.generic]], rate: NDArray[np.float64], moment: int
) -> NDArray[np.bool_]:
    """One second of every key, vectorised: the reference the kernel must agree with."""
    learning_s, alpha, k, floor, ratio, min_duration = SETTINGS
    mean, deviation, learnt, run, raised, peak, peak_at = state
    ready = learnt >= learning_s
    limit = np.maximum(np.maximum(mean + k * deviation, ratio * mean), floor)
    over = ready & (rate > limit)
    run = np.where(over, run + 1, 0)
    peak_at = np.where(over & (rate > peak), moment, peak_at)
    peak = np.where(over, np.maximum(peak, rate), 0.0)
    raised = raised & over
    fire = over & ~raised & (run >= min_duration)
    raised = raised | fire
    learn = ~over
    diff = rate - mean
    fresh = learn & (learnt == 0)
    mean = np.where(fresh, rate, np.where(learn, mean + alpha * diff, mean))
    spread = deviation + alpha * (np.abs(diff) - deviation)
    deviation = np.where(learn & ~fresh, spread, deviation)
    learnt = learnt + learn
    state[:] = [mean, deviation, learnt, run, raised, peak, peak_at]
    return fire


def fresh_state(keys: int) -> list[NDArray[np.generic]]:
    f, i = np.zeros(keys), np.zeros(keys, dtype=np.int64)
    return [f, f.copy(), i, i.copy(), np.zeros(keys, dtype=np.bool_), f.copy(), i.copy()]


def random_rates(seed: int, seconds: int, keys: int) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    rates = rng.poisson(rng.uniform(0, 200, keys), (seconds, keys)).astype(np.float64)
    rates[rng.random((seconds, keys)) < 0.1] = 0.0  # quiet seconds
    for _ in range(keys // 2):  # bursts of a few seconds, some long enough to fire
        key, at, length = rng.integers(keys), rng.integers(20, seconds), rng.integers(1, 8)
        rates[at : at + length, key] += rng.uniform(100, 5_000)
    return rates


POWERS = (1 - SETTINGS[1]) ** np.arange(64)  # short, so that longer quiet runs compute it


def stepped(
    rates: NDArray[np.float64], state: list[NDArray[np.generic]], first: int = 0, chunk: int = 10
) -> list[tuple[int, int, float]]:
    """Step ``rates`` (seconds x keys) through the kernel as ``baselines.py`` does: in chunks
    of a key-major grid, only the keys with some traffic in the chunk; the (second, key, rate)
    of each firing."""
    seconds, keys = rates.shape
    since = np.full(keys, first, dtype=np.int64)
    fire, got = np.zeros(1), []
    for at in range(0, seconds, chunk):
        grid = np.ascontiguousarray(rates[at : at + chunk].T)
        span = grid.shape[1]
        touched = np.flatnonzero(grid.any(axis=1))
        window = (first + at, span)
        place = step_pass(grid, touched, 0, window, tuple(state), since, fire, SETTINGS, POWERS)
        while place < len(touched) * span:
            key, column = int(touched[place // span]), place % span
            got.append((first + at + column, key, float(fire[0])))
            place = step_pass(
                grid, touched, place + 1, window, tuple(state), since, fire, SETTINGS, POWERS
            )
        assert not grid.any()  # every cell read is cleared for the next span
    caught_up_pass(tuple(state), since, first + seconds, SETTINGS[1], POWERS)
    return sorted(got)


def same_state(mine: list[NDArray[np.generic]], theirs: list[NDArray[np.generic]]) -> None:
    for name, a, b in zip(("mean", "deviation"), mine[:2], theirs[:2], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)
    for a, b in zip(mine[2:], theirs[2:], strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_kernel_steps_as_numpy_does() -> None:
    seconds, keys = 400, 40
    rates = random_rates(7, seconds, keys)
    rates[100:300, :10] = 0.0  # long quiet stretches: past the table of powers
    rates[150:160, 10:20] = 0.0
    expected, fired = fresh_state(keys), []
    for row in range(seconds):
        fire = numpy_step(expected, rates[row], row)
        fired += [(row, int(i), float(rates[row, i])) for i in np.flatnonzero(fire)]
    assert len(fired) >= 5  # the bursts fired, so the comparison covers firing

    state = fresh_state(keys)
    assert stepped(rates, state) == sorted(fired)
    same_state(state, expected)


def test_a_key_quiet_from_its_first_second_learns_zero() -> None:
    rates = np.zeros((30, 2))
    rates[20:, 1] = 500.0
    expected = fresh_state(2)
    for row in range(30):
        numpy_step(expected, rates[row], 1_000 + row)
    state = fresh_state(2)
    stepped(rates, state, first=1_000, chunk=7)
    same_state(state, expected)
    # The quiet seconds count as learnt; key 1's traffic after them is over the floor of a
    # zero mean, and teaches nothing.
    assert state[2].tolist() == [30, 20]
    assert state[3].tolist() == [0, 10]


def test_a_pass_stops_at_the_second_that_fires_with_its_state() -> None:
    rates = np.full((2, 40), 100.0)  # two keys, forty seconds
    rates[1, 30:] = 10_000.0  # key 1 floods from second 30; fires on its third second
    state = fresh_state(2)
    since, fire, touched = np.full(2, 1_000), np.zeros(1), np.array([0, 1])
    window = (1_000, 40)
    place = step_pass(rates, touched, 0, window, tuple(state), since, fire, SETTINGS, POWERS)
    assert divmod(place, 40) == (1, 32)
    assert fire.tolist() == [10_000.0]
    mean, deviation, learnt, run, raised, peak, peak_at = state
    assert (mean[1], deviation[1], learnt[1], run[1]) == (100.0, 0.0, 30, 3)
    assert (bool(raised[1]), peak[1], peak_at[1]) == (True, 10_000.0, 1_030)
    assert learnt[0] == 40  # key 0 was stepped through its whole row first
    fire[:] = -1.0
    after = step_pass(
        rates, touched, place + 1, window, tuple(state), since, fire, SETTINGS, POWERS
    )
    assert after == 80  # raised once
    assert fire.tolist() == [-1.0]
    assert state[3][1] == 10  # the run goes on
