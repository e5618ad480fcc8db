"""Compiled passes behind ``cells.distinct_sources``: which chosen (second, destination) group
each cell's records count in, and the (group, source) pair of each record there, walked through
the cells' runs of records (``cells.py``) so that only the records of chosen cells are read.

Compiled by numba with ``cache=True`` (see ``hash_groups.py``); no Python loop per record.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

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
def _source_pairs(
    run_start: I64, run_cell: I64, rows: int, here: I64, after: I64, start: F64, end: F64, src: I64
) -> tuple[I64, I64]:  # pragma: no cover
    runs = len(run_start)
    total = 0
    for r in range(runs):  # count first, then fill: no array grows
        c = run_cell[r]
        if here[c] < 0 and after[c] < 0:
            continue
        high = run_start[r + 1] if r + 1 < runs else rows
        for i in range(run_start[r], high):
            total += (here[c] >= 0) + (after[c] >= 0 and end[i] > np.floor(start[i]) + 1)
    group = np.empty(total, dtype=np.int64)
    value = np.empty(total, dtype=np.int64)
    k = 0
    for r in range(runs):
        c = run_cell[r]
        h, a = here[c], after[c]
        if h < 0 and a < 0:
            continue
        high = run_start[r + 1] if r + 1 < runs else rows
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


def source_pairs(
    run_start: I64,
    run_cell: I64,
    rows: int,
    here: I64,
    after: I64,
    flows_start: F64,
    flows_end: F64,
    src: I64,
) -> tuple[I64, I64]:
    """The (group, source) pair of each record in the group of its first second (``here``,
    per cell) and, when it reaches into it, of its second second (``after``)."""
    group, value = _source_pairs(
        run_start, run_cell, int(rows), here, after, flows_start, flows_end, src
    )
    return group, value
