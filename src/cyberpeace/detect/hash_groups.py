"""Grouping by hashing instead of sorting: compiled single passes over integer columns.

Sorting millions of keys to count distinct values or to group rows costs tens of nanoseconds a
key; an open-addressing hash table (linear probing, Knuth, TAOCP vol. 3, section 6.4, algorithm
L) sized to the distinct keys stays in cache and costs a few. The loops are compiled by numba
(``cache=True``: the machine code is kept on disk, so only the first run after an install or a
change pays the compile, about a second per kernel); there is no Python loop per record. numba
looks only at the file of the kernel it caches: after editing a helper that kernels of other
files inline (``_slot`` here, ``hyperloglog_kernel.counted``), delete ``__pycache__/*.nb[ci]``
in ``detect/``, or the old machine code keeps running.

``numbered`` numbers the distinct values in the order first seen (``np.unique`` without the
sort); ``distinct_per_group`` counts the distinct values within each group; ``rows_by_value`` groups
rows on equal values (ascending), keeping row order within each group, as a stable sort would.
Values are non-negative integers below 2**62 (address ids, packed pairs).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
_EMPTY = -1
_MIN_SLOTS = 16


@numba.njit(cache=True, inline="always")
def _slot(value: int, bits: int) -> np.int64:
    """Fibonacci hashing (Knuth, TAOCP vol. 3, section 6.4): the top ``bits`` of the value
    times 2**64 / phi."""
    mixed = np.uint64(value) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64(mixed >> np.uint64(64 - bits))


@numba.njit(cache=True)
def _distinct_per_group(group: I64, value: I64, groups: int) -> I64:  # pragma: no cover
    n = len(group)
    bounds = np.zeros(groups + 1, dtype=np.int64)
    for i in range(n):
        bounds[group[i] + 1] += 1
    largest = 0
    for g in range(groups):
        largest = max(largest, bounds[g + 1])
        bounds[g + 1] += bounds[g]
    fill = bounds[:-1].copy()
    bucketed = np.empty(n, dtype=np.int64)
    for i in range(n):
        g = group[i]
        bucketed[fill[g]] = value[i]
        fill[g] += 1
    bits = 4
    while (1 << bits) < 2 * largest:
        bits += 1
    table = np.empty(1 << bits, dtype=np.int64)
    counts = np.zeros(groups, dtype=np.int64)
    for g in range(groups):
        low, high = bounds[g], bounds[g + 1]
        if high - low < 2:
            counts[g] = high - low
            continue
        own = 4
        while (1 << own) < 2 * (high - low):
            own += 1
        mask = (1 << own) - 1
        table[: mask + 1] = _EMPTY
        found = 0
        for i in range(low, high):
            v = bucketed[i]
            at = _slot(v, own)
            while table[at] != _EMPTY and table[at] != v:
                at = (at + 1) & mask
            if table[at] == _EMPTY:
                table[at] = v
                found += 1
        counts[g] = found
    return counts


def distinct_per_group(group: I64, value: I64, groups: int) -> I64:
    """For each group in ``range(groups)``, how many distinct ``value`` its rows hold."""
    if len(group) == 0:
        return np.zeros(groups, dtype=np.int64)
    counts: I64 = _distinct_per_group(
        np.ascontiguousarray(group, dtype=np.int64),
        np.ascontiguousarray(value, dtype=np.int64),
        int(groups),
    )
    return counts


@numba.njit(cache=True)
def _numbered(
    values: I64, i: int, table: I64, bits: int, seen: I64, row_id: I64, k: int
) -> tuple[int, int]:  # pragma: no cover
    """Number the distinct values from row ``i`` on, in a table of (value, number) slot pairs,
    until the end or the table is half full; return where it stopped and the count so far.
    (The arrays stay bound for the whole loop: a table that grows is the caller's business.)"""
    n = len(values)
    mask = (1 << bits) - 1
    limit = 1 << (bits - 1)
    while i < n:
        v = values[i]
        at = _slot(v, bits)
        while table[2 * at] != _EMPTY and table[2 * at] != v:
            at = (at + 1) & mask
        if table[2 * at] == v:
            row_id[i] = table[2 * at + 1]
        else:
            table[2 * at] = v
            table[2 * at + 1] = k
            seen[k] = v
            row_id[i] = k
            k += 1
            if k >= limit:
                return i + 1, k
        i += 1
    return i, k


@numba.njit(cache=True)
def _numbered_all(values: I64) -> tuple[I64, I64]:  # pragma: no cover
    """The distinct values in the order first seen, and the number (index into them) of each
    row; the table doubles whenever it is half full."""
    n = len(values)
    seen = np.empty(n, dtype=np.int64)
    row_id = np.empty(n, dtype=np.int64)
    bits = 6
    table = np.full(2 << bits, _EMPTY, dtype=np.int64)
    i, k = _numbered(values, 0, table, bits, seen, row_id, 0)
    while i < n:  # half full: double the table, insert again, go on
        bits += 1
        mask = (1 << bits) - 1
        table = np.full(2 << bits, _EMPTY, dtype=np.int64)
        for j in range(k):
            at = _slot(seen[j], bits)
            while table[2 * at] != _EMPTY:
                at = (at + 1) & mask
            table[2 * at] = seen[j]
            table[2 * at + 1] = j
        i, k = _numbered(values, i, table, bits, seen, row_id, k)
    return seen[:k], row_id


def numbered(values: NDArray[np.integer]) -> tuple[I64, I64]:
    """The distinct ``values`` in the order first seen, and the index into them of each row:
    ``np.unique(values, return_inverse=True)`` without its sort, the distinct ones unsorted."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    distinct, number = _numbered_all(np.ascontiguousarray(values, dtype=np.int64))
    return distinct.copy(), number


@numba.njit(cache=True)
def _rows_by_value(values: I64) -> tuple[I64, I64, I64, I64]:  # pragma: no cover
    n = len(values)
    distinct, row_id = _numbered_all(values)
    k = len(distinct)
    ranked = np.argsort(distinct)
    rank = np.empty(k, dtype=np.int64)
    for r in range(k):
        rank[ranked[r]] = r
    opens = np.zeros(k + 1, dtype=np.int64)
    for i in range(n):
        opens[rank[row_id[i]] + 1] += 1
    for r in range(k):
        opens[r + 1] += opens[r]
    fill = opens[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = rank[row_id[i]]
        row_id[i] = r
        order[fill[r]] = i
        fill[r] += 1
    return distinct[ranked], order, opens[:-1], row_id


def rows_by_value(
    values: NDArray[np.integer],
) -> tuple[I64, NDArray[np.intp], NDArray[np.intp], I64]:
    """The distinct ``values`` ascending; an order of the rows grouping them by value (rows
    ascending within each group); where each value's rows open in that order; and the group
    (index into the distinct values) of each row."""
    if len(values) == 0:
        none = np.zeros(0, dtype=np.intp)
        return np.zeros(0, dtype=np.int64), none, none, np.zeros(0, dtype=np.int64)
    distinct, order, opens, group = _rows_by_value(np.ascontiguousarray(values, dtype=np.int64))
    return distinct, order.astype(np.intp, copy=False), opens.astype(np.intp, copy=False), group


@numba.njit(cache=True)
def _sums_by_group(
    values: NDArray[np.uint64], group: I64, groups: int
) -> NDArray[np.float64]:  # pragma: no cover
    totals = np.zeros(groups, dtype=np.uint64)
    for i in range(len(group)):
        totals[group[i]] += values[i]
    return totals.astype(np.float64)


def sums_by_group(values: NDArray[np.uint64], group: I64, groups: int) -> NDArray[np.float64]:
    """Per group, the sum of an unsigned count column (exact up to 2**64, then one rounding to
    float), read in row order."""
    sums: NDArray[np.float64] = _sums_by_group(
        np.ascontiguousarray(values, dtype=np.uint64), group, int(groups)
    )
    return sums
