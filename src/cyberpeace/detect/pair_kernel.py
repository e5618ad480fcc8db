"""Compiled passes behind ``cells.distinct_sources``: which chosen (second, destination) group
each cell's records count in, and the (group, source) pair of each record there, walked through
the cells' runs of records (``cells.py``) so that only the records of chosen cells are read.

Compiled by numba with ``cache=True`` (see ``hash_groups.py``); no Python loop per record.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.hash_groups import _slot
from cyberpeace.detect.hyperloglog import HyperLogLog
from cyberpeace.detect.hyperloglog_kernel import counted_hash, mixed

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]

_EMPTY = -1
_VALUE_BITS = 33  # sources are address ids, below 2**33 (``addresses.py``)
_FIRST_BITS = 12  # slots of each table at first (it doubles when half full)
_NO_SECOND = -(1 << 62)
_LAST_SECOND = 1 << 62


@numba.njit(cache=True)
def _groups_of_cells(
    cell_second: I64, cell_dst: I64, inside: Mask, pair_second: I64, pair_dst: I64, ahead: int
) -> I64:  # pragma: no cover
    n, m = len(cell_second), len(pair_second)
    found = np.full(n, -1, dtype=np.int64)
    p = 0
    for c in range(n):  # both sorted by (second, destination): one merge
        second, dst = cell_second[c] + ahead, cell_dst[c]
        while p < m and (
            pair_second[p] < second or (pair_second[p] == second and pair_dst[p] < dst)
        ):
            p += 1
        if p == m:
            break
        if inside[c] and pair_second[p] == second and pair_dst[p] == dst:
            found[c] = p
    return found


def groups_of_cells(
    cell_second: I64, cell_dst: I64, inside: Mask, pair_second: I64, pair_dst: I64, ahead: int
) -> I64:
    """For each cell (sorted by second and destination), the row of the pairs (sorted the
    same way) of its second plus ``ahead`` and its destination, or -1 (also for the cells not
    ``inside``)."""
    found: I64 = _groups_of_cells(
        cell_second, cell_dst, np.ascontiguousarray(inside), pair_second, pair_dst, int(ahead)
    )
    return found


@numba.njit(cache=True)
def _groups_here_and_after(
    cell_second: I64, cell_dst: I64, inside: Mask, pair_second: I64, pair_dst: I64
) -> tuple[I64, I64]:  # pragma: no cover
    n, m = len(cell_second), len(pair_second)
    here = np.full(n, -1, dtype=np.int64)
    after = np.full(n, -1, dtype=np.int64)
    p, q = 0, 0  # the merges of the cells' seconds and of the seconds after with the pairs
    for c in range(n):
        if p == m:  # (q runs ahead of p)
            break
        if not inside[c]:
            continue
        second, dst = cell_second[c], cell_dst[c]
        while p < m and (
            pair_second[p] < second or (pair_second[p] == second and pair_dst[p] < dst)
        ):
            p += 1
        if p < m and pair_second[p] == second and pair_dst[p] == dst:
            here[c] = p
        while q < m and (
            pair_second[q] < second + 1 or (pair_second[q] == second + 1 and pair_dst[q] < dst)
        ):
            q += 1
        if q < m and pair_second[q] == second + 1 and pair_dst[q] == dst:
            after[c] = q
    return here, after


def groups_here_and_after(
    cell_second: I64, cell_dst: I64, inside: Mask, pair_second: I64, pair_dst: I64
) -> tuple[I64, I64]:
    """``groups_of_cells`` with ``ahead`` 0 and 1, in one pass over the cells."""
    here, after = _groups_here_and_after(
        cell_second, cell_dst, np.ascontiguousarray(inside), pair_second, pair_dst
    )
    return here, after


@numba.njit(cache=True)
def _pair_count(
    run_start: I64, run_cell: I64, rows: int, here: I64, after: I64, start: F64, end: F64
) -> int:  # pragma: no cover
    runs = len(run_start)
    total = 0
    for r in range(runs):
        c = run_cell[r]
        if here[c] < 0 and after[c] < 0:
            continue
        high = run_start[r + 1] if r + 1 < runs else rows
        for i in range(run_start[r], high):
            total += (here[c] >= 0) + (after[c] >= 0 and end[i] > np.floor(start[i]) + 1)
    return total


@numba.njit(cache=True)
def _source_pairs(
    run_start: I64,
    run_cell: I64,
    rows: int,
    here: I64,
    after: I64,
    start: F64,
    end: F64,
    src: I64,
    total: int,
    registers: NDArray[np.uint8],
    precision: int,
) -> tuple[I64, I64]:  # pragma: no cover
    """The pairs, or with ``precision`` > 0, none: each counted in ``registers`` instead."""
    runs = len(run_start)
    sketched = precision > 0
    size = 0 if sketched else total
    group = np.empty(size, dtype=np.int64)
    value = np.empty(size, dtype=np.int64)
    k = 0
    for r in range(runs):
        c = run_cell[r]
        h, a = here[c], after[c]
        if h < 0 and a < 0:
            continue
        high = run_start[r + 1] if r + 1 < runs else rows
        if sketched:  # a record's source hashed once for both its seconds
            for i in range(run_start[r], high):
                z = mixed(src[i])
                if h >= 0:
                    counted_hash(registers, z, h, precision)
                if a >= 0 and end[i] > np.floor(start[i]) + 1:
                    counted_hash(registers, z, a, precision)
            continue
        for i in range(run_start[r], high):
            if h >= 0:
                group[k] = h
                value[k] = src[i]
                k += 1
            if a >= 0 and end[i] > np.floor(start[i]) + 1:
                group[k] = a
                value[k] = src[i]
                k += 1
    return group, value


def pair_count(
    run_start: I64, run_cell: I64, rows: int, here: I64, after: I64, start: F64, end: F64
) -> int:
    """How many (group, source) pairs ``source_pairs`` would give."""
    total: int = _pair_count(run_start, run_cell, int(rows), here, after, start, end)
    return total


def source_pairs(
    run_start: I64,
    run_cell: I64,
    rows: int,
    here: I64,
    after: I64,
    flows_start: F64,
    flows_end: F64,
    src: I64,
    total: int,
    sketch: HyperLogLog | None = None,
) -> tuple[I64, I64]:
    """The ``total`` (``pair_count``) (group, source) pairs: one for each record in the group
    of its first second (``here``, per cell) and, when it reaches into it, of its second second
    (``after``); with a ``sketch`` (one HyperLogLog per group), none: each is counted in the
    sketch instead."""
    registers = np.zeros(0, dtype=np.uint8) if sketch is None else sketch.registers.reshape(-1)
    group, value = _source_pairs(
        run_start,
        run_cell,
        int(rows),
        here,
        after,
        flows_start,
        flows_end,
        src,
        total,
        registers,
        0 if sketch is None else sketch.precision,
    )
    return group, value


@numba.njit(cache=True)
def _distinct_pass(
    run_start: I64,
    run_cell: I64,
    rows: int,
    here: I64,
    after: I64,
    end: F64,
    src: I64,
    pair_second: I64,
    long_group: I64,
    long_src: I64,
    bits: int,
) -> I64:  # pragma: no cover
    counts = np.zeros(len(pair_second), dtype=np.int64)
    table = np.full((2, 1 << bits), _EMPTY, dtype=np.int64)
    used = np.empty((2, 1 << bits), dtype=np.int64)  # the filled slots, to empty them
    filled = np.zeros(2, dtype=np.int64)
    owner = np.full(2, _NO_SECOND, dtype=np.int64)  # the second each table holds
    mask = (1 << bits) - 1
    room = 1 << (bits - 1)
    runs, longs, k = len(run_start), len(long_group), 0
    r, i, high = 0, 0, 0
    h, a, second = np.int64(-1), np.int64(-1), np.int64(0)
    reach = 0.0
    while True:
        # The next (group, source) pair or two: the later seconds of long records join their
        # second's table before the walk leaves that second, so every pair of a second
        # passes while its table holds it.
        if i == high:  # the next run of a chosen cell
            while r < runs and here[run_cell[r]] < 0 and after[run_cell[r]] < 0:
                r += 1
            if r < runs:
                c = run_cell[r]
                h, a = here[c], after[c]
                second = pair_second[h] if h >= 0 else pair_second[a] - 1
                i, high = run_start[r], run_start[r + 1] if r + 1 < runs else rows
                reach = np.float64(second + 1)
                r += 1
            else:
                second = np.int64(_LAST_SECOND)
        if k < longs and pair_second[long_group[k]] <= second:
            first, value = long_group[k], np.int64(-1)
            s, v = pair_second[first], long_src[k]
            k += 1
        elif i < high:
            first = h
            value = a if a >= 0 and end[i] > reach else np.int64(-1)
            s, v = second, src[i]
            i += 1
        else:
            break
        for j in range(2):  # the pair's group in second s, then the one in s + 1
            g = first if j == 0 else value
            if g < 0:
                continue
            t = (s + j) & 1
            if owner[t] != s + j:  # an earlier second's table: done with, emptied
                for q in range(filled[t]):
                    table[t, used[t, q]] = _EMPTY
                filled[t] = 0
                owner[t] = s + j
            key = (g << _VALUE_BITS) | v
            at = _slot(key, bits)
            while table[t, at] != _EMPTY and table[t, at] != key:
                at = (at + 1) & mask
            new = table[t, at] == _EMPTY
            table[t, at] = key
            used[t, filled[t]] = at
            filled[t] += new
            counts[g] += new
            if filled[t] > room:
                raise IndexError("more (group, source) pairs in one second than its records")
    return counts


def distinct_per_pair(
    run_start: I64,
    run_cell: I64,
    rows: int,
    here: I64,
    after: I64,
    flows_end: F64,
    src: I64,
    pair_second: I64,
    pair_active: F64,
    long_group: I64,
    long_src: I64,
) -> I64:
    """The distinct sources of each group (``pair_second`` holds each group's second, groups
    ordered by it; ``pair_active`` its records active in that second, i.e. its pairs) over the
    pairs ``source_pairs`` gives and the (``long_group``, ``long_src``) pairs of the later
    seconds of long records, in one walk of the runs without the pairs.

    The records come sorted by start, so a record's pairs fall in the groups of its first
    second and the next: two hash tables of (group, source) keys (linear probing, as
    ``hash_groups.py``), one per parity of the second, each sized for the pairs of its busiest
    second and so in cache; a table is emptied when a later second takes it over."""
    if len(pair_second) == 0:
        return np.zeros(0, dtype=np.int64)
    opens = np.flatnonzero(np.diff(pair_second, prepend=pair_second[0] - 1))
    busiest = int(np.add.reduceat(pair_active, opens).max())
    bits = max(int(4 * busiest).bit_length(), 4)
    order = np.argsort(long_group, kind="stable")
    counts: I64 = _distinct_pass(
        run_start,
        run_cell,
        int(rows),
        here,
        after,
        flows_end,
        src,
        np.ascontiguousarray(pair_second, dtype=np.int64),
        np.ascontiguousarray(long_group[order], dtype=np.int64),
        np.ascontiguousarray(long_src[order], dtype=np.int64),
        bits,
    )
    return counts
