"""Compiled passes behind ``cells.distinct_sources``: which chosen (second, destination) group
each cell's records count in, and the (group, source) pair of each record there, walked through
the cells' runs of records (``cells.py``) so that only the records of chosen cells are read.

Compiled by numba with ``cache=True`` (see ``hash_groups.py``); no Python loop per record.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.hyperloglog import HyperLogLog
from cyberpeace.detect.hyperloglog_kernel import counted

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]


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
        for i in range(run_start[r], high):
            if h >= 0:
                if sketched:
                    counted(registers, src[i], h, precision)
                else:
                    group[k] = h
                    value[k] = src[i]
                    k += 1
            if a >= 0 and end[i] > np.floor(start[i]) + 1:
                if sketched:
                    counted(registers, src[i], a, precision)
                else:
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
