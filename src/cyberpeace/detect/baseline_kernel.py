"""The baselines' step through the seconds of a batch, compiled: one pass over a grid of
(second, key) rates, updating every key's state in place (``baselines.py`` says what the
state means and when a key is over its baseline).

A step vectorised with numpy makes a dozen temporaries the size of the keys for each second;
with 100,000 hosts and ten minutes of records that is most of the baselines' work. Here each
key's numbers are read and written once per second. The pass stops after the first second in
which some key fires, its keys marked in ``fire``, so the caller can describe them while their
state is that of the second they fired in (a firing key is over its baseline: its mean and
deviation did not learn from that second), then resume after it.

Compiled by numba with ``cache=True`` (see ``hash_groups.py``). Without fast-math, each
operation rounds as numpy's does, so the state is the one the vectorised step gives.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


@numba.njit(cache=True)
def step_pass(
    grid: F64,
    begin: int,
    first_moment: int,
    state: tuple[F64, F64, I64, I64, B, F64, I64],
    fire: B,
    settings: tuple[int, float, float, float, float, int],
) -> int:  # pragma: no cover
    """Step every key through the rows of ``grid`` (one per second, from ``first_moment``;
    columns are keys) from row ``begin`` on. ``state`` is (mean, deviation, learnt, run,
    raised, peak, peak_at) and ``settings`` (learning_s, alpha, k, floor_pps, ratio,
    min_duration_s). Returns the row of the first second in which some key fired, its keys
    set in ``fire``, or the number of rows when none did."""
    mean, deviation, learnt, run, raised, peak, peak_at = state
    learning_s, alpha, k, floor, ratio, min_duration = settings
    seconds, keys = grid.shape
    for row in range(begin, seconds):
        moment = first_moment + row
        fired = False
        for i in range(keys):
            rate = grid[row, i]
            m = mean[i]
            over = False
            if learnt[i] >= learning_s:
                limit = max(max(m + k * deviation[i], ratio * m), floor)
                over = rate > limit
            if over:  # an over second rises, may fire, and teaches nothing
                run[i] += 1
                if rate > peak[i]:
                    peak[i] = rate
                    peak_at[i] = moment
                if not raised[i] and run[i] >= min_duration:
                    raised[i] = True
                    fire[i] = True
                    fired = True
                continue
            run[i] = 0
            peak[i] = 0.0
            raised[i] = False
            if learnt[i] == 0:
                mean[i] = rate
            else:
                diff = rate - m
                mean[i] = m + alpha * diff
                deviation[i] = deviation[i] + alpha * (abs(diff) - deviation[i])
            learnt[i] += 1
        if fired:
            return row
    return int(seconds)
