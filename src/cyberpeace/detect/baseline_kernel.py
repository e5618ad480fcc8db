"""The baselines' compiled passes (``baselines.py`` says what they count and when a key is
over its baseline): the rates of a span of seconds as a grid of (key, second), and the step of
the keys' states through that grid.

``rates_pass`` adds each record's packets to the seconds it overlaps, spread evenly over its
duration as the cells spread them (``cells.py``), in the column of its host and in that of its
safe area, and lists the keys it touched; the answers towards hosts that asked questions go to
a grid of their own, so that ``less_pass`` can take off each host's and area's rate as many
answers as the host asked for.

``step_pass`` updates the keys' states in place. Most keys of a busy network see nothing in
most seconds (on the benchmark's ordinary traffic, 96 in 100 of the (second, host) rates are
zero), and a quiet second cannot be over a baseline: it only decays the mean and the deviation.
So the seconds are taken a span at a time (eight), and only the keys with traffic in the span
are stepped, through each of its seconds (a branch per second to skip the quiet ones would
mispredict, and cost more than the step). Each key remembers the first second it has not
been stepped through (``since``); when it next has traffic, or when the batch ends
(``caught_up_pass``), the spans it sat out are taken at once in closed form: with
``q = 1 - alpha``, ``k`` seconds of zero rate give ``mean_k = q**k * mean`` and, the mean being
non-negative, ``deviation_k = q**k * deviation + alpha * k * q**(k - 1) * mean``. Work is then
proportional to the keys with traffic in each span, not to all keys times seconds. The closed
form rounds differently from the step repeated, by a few units in the last place.

The pass stops after the first second in which a key fires, its rate kept in ``fire``, so the
caller can describe it while its state is that of the second it fired in (a firing key is over
its baseline: its mean and deviation did not learn from that second), then resume.

Compiled by numba with ``cache=True`` (see ``hash_groups.py``).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.hash_groups import _slot

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]
# A baseline's state as the kernels take it: mean, deviation, learnt, run, raised, peak, peak_at.
StateArrays = tuple[F64, F64, I64, I64, B, F64, I64]


@numba.njit(cache=True)
def watched_pass(
    kind: NDArray[np.uint8],
    classes: tuple[B, int],
    columns: tuple[F64, F64, I64, NDArray[np.uint64]],
    inside_v4: NDArray[np.uint64],
    v6: tuple[int, B],
    everything: bool,
) -> tuple[tuple[F64, F64, I64, NDArray[np.uint64]], B, I64, tuple[int, int]]:  # pragma: no cover
    """In one pass over the records (sorted by start), those of a class ``counted`` marks
    (``classes``: the marks and the class of answers) towards a watched host: every host when
    ``everything``, else an IPv4 host in a /24 that the bitmap ``inside_v4`` of
    ``Borders.inside_v4`` marks, or for IPv6 ids (from ``v6_base``) one ``v6_watched`` marks
    (``v6``). (The bitmap lets through a few hosts outside the borders, in /24s that a longer
    prefix splits; the caller's keys leave them out.) Returns their start, end, destination
    and packets (of ``columns``: start, end, dst, packets); whether each is an answer; which of
    them last three seconds or more (their places among them); and the first second of any
    counted record and the last second any of them overlaps, watched or not (-1 and -1 when
    there are none). The arrays are views of arrays of the batch's length."""
    counted, answer_kind = classes
    start, end, dst, packets = columns
    v6_base, v6_watched = v6
    n = len(kind)
    o_start, o_end = np.empty(n), np.empty(n)
    o_dst, o_packets = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.uint64)
    answer, long = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.int64)
    kept, longs, first, last = 0, 0, -1, -1
    for i in range(n):
        c = kind[i]
        if not counted[c]:
            continue
        s, e = start[i], end[i]
        opens = np.floor(s)
        if first < 0:
            first = int(opens)
        last = max(last, int(max(np.ceil(e) - 1, opens)))
        d, held = dst[i], np.int64(1)
        if not everything:
            if d >= v6_base:
                held = np.int64(v6_watched[d - v6_base])
            else:
                # Without a branch: about half the counted records of a busy network are
                # towards inside hosts, and a branch would mispredict.
                shift = np.uint64((d >> 8) & 63)
                held = np.int64((inside_v4[d >> 14] >> shift) & np.uint64(1))
        # Written whether or not the host is watched, the next record over it if not.
        o_start[kept], o_end[kept], o_dst[kept], o_packets[kept] = s, e, d, packets[i]
        answer[kept] = c == answer_kind
        long[longs] = kept
        longs += int(held) if e > opens + 2 else 0
        kept += int(held)
    return (
        (o_start[:kept], o_end[:kept], o_dst[:kept], o_packets[:kept]),
        answer[:kept],
        long[:longs],
        (first, last),
    )


@numba.njit(cache=True)
def asks_pass(
    protocol: NDArray[np.uint8],
    dst_port: NDArray[np.uint16],
    src: I64,
    asks: tuple[int, NDArray[np.uint16]],
    hosts: I64,
) -> tuple[I64, I64]:  # pragma: no cover
    """The records of protocol ``udp`` to a port ``marks`` marks (``asks``) sent by one of
    ``hosts`` (distinct ids), in one pass: their rows, and the place of each one's sender among
    ``hosts`` (a hash table of them, open addressing as in ``hash_groups.py``)."""
    udp, marks = asks
    bits = 4
    while (1 << bits) < 2 * len(hosts):
        bits += 1
    mask = (1 << bits) - 1
    keys = np.full(1 << bits, -1, dtype=np.int64)
    place = np.empty(1 << bits, dtype=np.int64)
    for j in range(len(hosts)):
        at = _slot(hosts[j], bits)
        while keys[at] != -1:
            at = (at + 1) & mask
        keys[at], place[at] = hosts[j], j
    n = len(protocol)
    rows = np.empty(n, dtype=np.int64)
    candidates = 0
    for i in range(n):  # without a branch: the protocols come mixed, and it would mispredict
        rows[candidates] = i
        candidates += (protocol[i] == udp) & (marks[dst_port[i]] != 0)
    senders = np.empty(candidates, dtype=np.int64)
    found = 0
    for c in range(candidates):
        i = rows[c]
        at = _slot(src[i], bits)
        while keys[at] != -1 and keys[at] != src[i]:
            at = (at + 1) & mask
        if keys[at] == src[i]:
            rows[found], senders[found] = i, place[at]
            found += 1
    return rows[:found], senders[:found]


@numba.njit(cache=True)
def rates_pass(
    start: F64,
    end: F64,
    packets: NDArray[np.uint64],
    where: tuple[I64, I64, I64, B, I64],
    rows: tuple[int, int, I64],
    seconds: tuple[int, int],
    grid: F64,
    answers: F64,
    touched: tuple[I64, I64],
) -> int:  # pragma: no cover
    """Add the packets of records (sorted by start) to the seconds of ``grid`` they overlap
    (one row per key; its first ``span`` columns are the seconds from ``first``, as
    ``seconds`` gives them). ``where`` says, per record, its host (-1: none, the record is
    skipped); per host, its column (-1: none, skipped too) and that of its safe area (-1:
    none); per record, whether it is an answer; and per host column its column in ``answers``
    (-1: the host asks nothing): an answer towards a host that asks is added there as well.
    ``rows`` are the records from ``low`` to ``high`` that last under three seconds and
    ``long``, the longer ones that matter. The keys added to are listed in ``touched``
    (``mark``, ``listed``), once each and in ascending order (their ``mark`` set to ``first``);
    returns how many."""
    host, column, area_column, answer, asking = where
    low, high, long = rows
    first, span = seconds
    mark, listed = touched
    count = 0
    short = high - low
    after = first + span
    for r in range(short + len(long)):  # one loop body: an inlined helper compiles slower
        if r < short:
            i = low + r
            if end[i] > np.floor(start[i]) + 2:
                continue  # among ``long`` if it reaches the grid
        else:
            i = long[r - short]
        h = host[i]
        if h < 0 or column[h] < 0:
            continue
        col = column[h]
        s, e = start[i], end[i]
        opens = int(np.floor(s))
        stops = max(int(np.ceil(e)), opens + 1)  # the second after the last it overlaps
        if opens >= after or stops <= first:
            continue
        p, duration = float(packets[i]), e - s
        area = area_column[h]
        ask = asking[col] if answer[i] else -1
        mark[col] = first
        if area >= 0:
            mark[area] = first
        whole = stops - opens == 1 or duration <= 0  # one second: all of it, no division
        for t in range(max(opens, first), min(stops, after)):
            added = p if whole else p * ((min(e, t + 1.0) - max(s, float(t))) / duration)
            grid[col, t - first] += added
            if area >= 0:
                grid[area, t - first] += added
            if ask >= 0:
                answers[t - first, ask] += added
    for col in range(len(mark)):  # in key order: the steps then read the state in order
        if mark[col] == first:
            listed[count] = col
            count += 1
    return count


@numba.njit(cache=True)
def less_pass(
    grid: F64, answers: F64, asked: F64, ask_column: I64, ask_area: I64
) -> None:  # pragma: no cover
    """Take off each asking host's row of ``grid`` (``ask_column``) and its safe area's
    (``ask_area``, or -1) the answers it asked for: per second, the least of its ``answers``
    and the packets it ``asked`` with."""
    for t in range(answers.shape[0]):
        for j in range(answers.shape[1]):
            less = min(answers[t, j], asked[t, j])
            if less > 0:
                grid[ask_column[j], t] -= less
                if ask_area[j] >= 0:
                    grid[ask_area[j], t] -= less


@numba.njit(cache=True, inline="always")
def _power(powers: F64, q: float, k: int) -> float:  # pragma: no cover
    """``q**k`` from the table ``powers`` (``q**0`` on), or computed past its end."""
    return powers[k] if k < len(powers) else q**k


@numba.njit(cache=True, inline="always")
def _quiet(
    i: int,
    k: int,
    state: StateArrays,
    alpha: float,
    powers: F64,
) -> None:  # pragma: no cover
    """Step key ``i`` through ``k`` seconds without traffic at once (the closed form above)."""
    mean, deviation, learnt, run, raised, peak, _ = state
    if k <= 0:
        return
    if learnt[i] > 0:
        q = 1.0 - alpha
        m = mean[i]
        mean[i] = m * _power(powers, q, k)
        deviation[i] = (
            _power(powers, q, k) * deviation[i] + alpha * k * _power(powers, q, k - 1) * m
        )
    else:  # a key's first second sets its mean to the rate: zero, and it stays zero
        mean[i] = 0.0
    learnt[i] += k
    run[i] = 0
    peak[i] = 0.0
    raised[i] = False


@numba.njit(cache=True)
def step_pass(
    grid: F64,
    touched: I64,
    begin: int,
    seconds: tuple[int, int],
    state: StateArrays,
    since: I64,
    fire: F64,
    settings: tuple[int, float, float, float, float, int],
    powers: F64,
) -> int:  # pragma: no cover
    """Step each of the ``touched`` keys through its row of ``grid`` (its first ``span``
    columns are the seconds from ``first``: ``seconds``), clearing each cell read, its quiet
    seconds since ``since`` (the key's first second not yet stepped) in closed form; from
    position ``begin`` on (a position is the key's place in ``touched`` times ``span`` plus the
    column). Keys past the state's (spare rows, read by no step) are only cleared. ``state`` is
    (mean, deviation, learnt, run, raised, peak, peak_at), ``settings`` (learning_s, alpha, k,
    floor_pps, ratio, min_duration_s) and ``powers`` the table of ``(1 - alpha)**k``. Returns
    the position of the first second in which a key fired, its rate set in ``fire[0]``, or
    ``len(touched) * span`` when none did."""
    mean, deviation, learnt, run, raised, peak, peak_at = state
    learning_s, alpha, k, floor, ratio, min_duration = settings
    first, span = seconds
    keys = len(mean)
    opening, column = begin // span, begin % span  # divided once: not per key
    for place in range(opening, len(touched)):
        i = touched[place]
        if place > opening:
            column = 0
        if i >= keys:
            grid[i, column:span] = 0.0
            continue
        _quiet(i, first + column - since[i], state, alpha, powers)  # the quiet seconds before
        # The key's state in locals for its row (the arrays might alias the grid, so the
        # compiler would otherwise load and store each of them at every second).
        m, d, seen, rising, up = mean[i], deviation[i], learnt[i], run[i], raised[i]
        top, top_at = peak[i], peak_at[i]
        fired = -1
        for t in range(column, span):  # its row in full: a branch per cell would mispredict
            rate = grid[i, t]
            grid[i, t] = 0.0
            if seen >= learning_s and rate > max(max(m + k * d, ratio * m), floor):
                rising += 1  # an over second rises, may fire, and teaches nothing
                if rate > top:
                    top, top_at = rate, first + t
                if not up and rising >= min_duration:
                    up = True
                    fire[0] = rate
                    fired = t
                    break
                continue
            rising, top, up = 0, 0.0, False
            if seen == 0:
                m = rate
            else:
                diff = rate - m
                m = m + alpha * diff
                d = d + alpha * (abs(diff) - d)
            seen += 1
        mean[i], deviation[i], learnt[i], run[i], raised[i] = m, d, seen, rising, up
        peak[i], peak_at[i] = top, top_at
        since[i] = first + (fired + 1 if fired >= 0 else span)
        if fired >= 0:
            return place * span + fired
    return len(touched) * span


@numba.njit(cache=True)
def caught_up_pass(
    state: StateArrays,
    since: I64,
    until: int,
    alpha: float,
    powers: F64,
) -> None:  # pragma: no cover
    """Step every key through its quiet seconds from ``since`` to ``until`` (the first second
    after the batch), so that the state is every key's at the batch's end."""
    for i in range(len(since)):
        _quiet(i, until - since[i], state, alpha, powers)
        since[i] = until
