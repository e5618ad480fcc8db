"""The compiled baseline step (``baseline_kernel.step_pass``) against the step written with
numpy, second by second, on random rates with quiet stretches and bursts: the same state
after every second, and the same keys firing in the same seconds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.baseline_kernel import step_pass

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


def test_the_kernel_steps_as_numpy_does() -> None:
    seconds, keys = 120, 40
    rates = random_rates(7, seconds, keys)
    expected, fired = fresh_state(keys), []
    for row in range(seconds):
        fired += [(row, int(i)) for i in np.flatnonzero(numpy_step(expected, rates[row], row))]
    assert len(fired) >= 5  # the bursts fired, so the comparison covers firing

    state = fresh_state(keys)
    fire = np.full(keys, -1.0)
    grid = rates.copy()
    got = []
    row = step_pass(grid, 0, 0, tuple(state), fire, SETTINGS)
    while row < seconds:
        at = np.flatnonzero(fire >= 0)
        got += [(row, int(i)) for i in at]
        np.testing.assert_array_equal(fire[at], rates[row, at])  # the rate it fired on
        fire[:] = -1.0
        row = step_pass(grid, row + 1, 0, tuple(state), fire, SETTINGS)
    assert got == fired
    assert not grid.any()  # every cell read is cleared for the next span
    for mine, theirs in zip(state, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_pass_stops_at_the_second_that_fires_with_its_state() -> None:
    rates = np.full((40, 2), 100.0)
    rates[30:, 1] = 10_000.0  # key 1 floods from second 30; fires on its third second
    state = fresh_state(2)
    fire = np.full(2, -1.0)
    row = step_pass(rates, 0, 1_000, tuple(state), fire, SETTINGS)
    assert row == 32
    assert fire.tolist() == [-1.0, 10_000.0]
    mean, deviation, learnt, run, raised, peak, peak_at = state
    assert (mean[1], deviation[1], learnt[1], run[1]) == (100.0, 0.0, 30, 3)
    assert (bool(raised[1]), peak[1], peak_at[1]) == (True, 10_000.0, 1_030)
    fire[:] = -1.0
    assert step_pass(rates, row + 1, 1_000, tuple(state), fire, SETTINGS) == 40  # raised once
    assert (fire == -1.0).all()
    assert state[3][1] == 10  # the run goes on
