"""The baselines' compiled passes (``baselines.py`` says what they count and when a key is
over its baseline): the rates of a span of seconds as a grid of (second, key), and the step of
every key's state through that grid.

``rates_pass`` adds each record's packets to the seconds it overlaps, spread evenly over its
duration as the cells spread them (``cells.py``), in the column of its host and in that of its
safe area; the answers towards hosts that asked questions go to a grid of their own, so that
``less_pass`` can take off each host's and area's rate as many answers as the host asked for.

``step_pass`` updates every key's state in place. A step vectorised with numpy makes a dozen
temporaries the size of the keys for each second; with 100,000 hosts and ten minutes of records
that was most of the baselines' work. Here each key's numbers are read and written once per
second, and the grid's cell is cleared once read, so the grid serves the next span unfilled.
The pass stops after the first second in which some key fires, its rate kept in ``fire``, so
the caller can describe it while its state is that of the second it fired in (a firing key is
over its baseline: its mean and deviation did not learn from that second), then resume.

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
def rates_pass(
    start: F64,
    end: F64,
    packets: NDArray[np.uint64],
    where: tuple[I64, I64, B, I64],
    rows: tuple[int, int, I64],
    first: int,
    grid: F64,
    answers: F64,
) -> None:  # pragma: no cover
    """Add the packets of records (sorted by start) to the seconds of ``grid`` they overlap
    (its rows are the seconds from ``first``). ``where`` says, per record, the column of its
    host (-1: none, the record is skipped) and of its safe area (-1: none), whether it is an
    answer, and per column its column in ``answers`` (-1: the host asks nothing): an answer
    towards a host that asks is added there as well. ``rows`` are the records from ``low`` to
    ``high`` that last under three seconds and ``long``, the longer ones that matter."""
    column, area_column, answer, asking = where
    low, high, long = rows
    short = high - low
    after = first + grid.shape[0]
    for r in range(short + len(long)):  # one loop body: an inlined helper compiles slower
        if r < short:
            i = low + r
            if end[i] > np.floor(start[i]) + 2:
                continue  # among ``long`` if it reaches the grid
        else:
            i = long[r - short]
        col = column[i]
        if col < 0:
            continue
        s, e = start[i], end[i]
        opens = int(np.floor(s))
        stops = max(int(np.ceil(e)), opens + 1)  # the second after the last it overlaps
        p, duration = float(packets[i]), e - s
        area = area_column[i]
        ask = asking[col] if answer[i] else -1
        for t in range(max(opens, first), min(stops, after)):
            share = (min(e, t + 1.0) - max(s, float(t))) / duration if duration > 0 else 1.0
            added = p * share
            grid[t - first, col] += added
            if area >= 0:
                grid[t - first, area] += added
            if ask >= 0:
                answers[t - first, ask] += added


@numba.njit(cache=True)
def less_pass(
    grid: F64, answers: F64, asked: F64, ask_column: I64, ask_area: I64
) -> None:  # pragma: no cover
    """Take off each asking host's column (``ask_column``) and its safe area's (``ask_area``,
    or -1) the answers it asked for: per second, the least of its ``answers`` and the packets
    it ``asked`` with."""
    for row in range(answers.shape[0]):
        for j in range(answers.shape[1]):
            less = min(answers[row, j], asked[row, j])
            if less > 0:
                grid[row, ask_column[j]] -= less
                if ask_area[j] >= 0:
                    grid[row, ask_area[j]] -= less


@numba.njit(cache=True)
def step_pass(
    grid: F64,
    begin: int,
    first_moment: int,
    state: tuple[F64, F64, I64, I64, B, F64, I64],
    fire: F64,
    settings: tuple[int, float, float, float, float, int],
) -> int:  # pragma: no cover
    """Step every key (the first ``len(mean)`` columns of ``grid``) through the rows of
    ``grid`` (one per second, from ``first_moment``) from row ``begin`` on, clearing each cell
    read. ``state`` is (mean, deviation, learnt, run, raised, peak, peak_at) and ``settings``
    (learning_s, alpha, k, floor_pps, ratio, min_duration_s). Returns the row of the first
    second in which some key fired, each firing key's rate set in ``fire`` (the others are
    left as they are), or the number of rows when none did."""
    mean, deviation, learnt, run, raised, peak, peak_at = state
    learning_s, alpha, k, floor, ratio, min_duration = settings
    seconds, keys = grid.shape[0], len(mean)
    for row in range(begin, seconds):
        moment = first_moment + row
        fired = False
        for i in range(keys):
            rate = grid[row, i]
            grid[row, i] = 0.0
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
                    fire[i] = rate
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
