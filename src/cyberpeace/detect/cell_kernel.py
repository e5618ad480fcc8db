"""The cells of a batch in one compiled pass over its records (``cells.py`` says what they hold).

Each record's key, ``(second << 36) | (destination << 3) | class`` with the second counted from
the batch's first, is looked up in an open-addressing hash table (linear probing; Knuth, TAOCP
vol. 3, section 6.4) that numbers the cells in the order they are first met; a record of the
same key as the one before it (a flood's records arrive together) skips the look-up. The same
pass adds its first second's share of packets and bytes to its cell, the rest to the cell one
second on when it spans two seconds, and cuts records over three seconds into a slice per
second. The cells are then put in key order (one sort of the cells, not of the records).

Compiled by numba with ``cache=True``: only the first run after an install or a change pays the
compile (about two seconds); later processes load the machine code from disk.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.hash_groups import _slot

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

CLASS_BITS = 3
SECOND_SHIFT = 36
_EMPTY = -1


@numba.njit(cache=True)
def _cell_of(key: int, keys: I64, bits: int) -> tuple[int, bool]:  # pragma: no cover - compiled
    """The slot of ``key`` and whether it is new (then the caller numbers it)."""
    mask = (1 << bits) - 1
    at = _slot(key, bits)
    while keys[at] != _EMPTY and keys[at] != key:
        at = (at + 1) & mask
    return at, keys[at] == _EMPTY


@numba.njit(cache=True)
def _grown(keys: I64, ids: I64, bits: int) -> tuple[I64, I64]:  # pragma: no cover - compiled
    wider = bits + 1
    mask = (1 << wider) - 1
    new_keys = np.full(1 << wider, _EMPTY, dtype=np.int64)
    new_ids = np.empty(1 << wider, dtype=np.int64)
    for j in range(len(keys)):
        key = keys[j]
        if key == _EMPTY:
            continue
        at = _slot(key, wider)
        while new_keys[at] != _EMPTY:
            at = (at + 1) & mask
        new_keys[at] = key
        new_ids[at] = ids[j]
    return new_keys, new_ids


@numba.njit(cache=True)
def cell_pass(
    start: F64,
    end: F64,
    dst: I64,
    kind: U8,
    packets: NDArray[np.uint64],
    size: NDArray[np.uint64],
    base: int,
) -> tuple[I64, F64, F64, F64, F64, I64, I64, I64]:  # pragma: no cover - compiled
    """Cells in the order first met: key, packets, bytes, records started, records active;
    and the runs (start row, cell) and the rows of records over three seconds or more."""
    n = len(start)
    bits = 10
    keys = np.full(1 << bits, _EMPTY, dtype=np.int64)
    ids = np.empty(1 << bits, dtype=np.int64)
    room = 1024
    cell_key = np.empty(room, dtype=np.int64)
    sums = np.zeros((room, 4), dtype=np.float64)  # packets, bytes, started, active
    run_start = np.empty(n, dtype=np.int64)
    run_cell = np.empty(n, dtype=np.int64)
    long_rows = np.empty(n, dtype=np.int64)
    cells, runs, longs = 0, 0, 0
    last_key, last_cell = _EMPTY, -1
    spill_key, spill_cell = _EMPTY, -1
    for i in range(n):
        s, e = start[i], end[i]
        first = np.floor(s)
        second = np.int64(first) - base
        low = (dst[i] << CLASS_BITS) | np.int64(kind[i])
        p, b = float(packets[i]), float(size[i])
        for step in range(3):  # 0: the first second; 1: the second; 2: later slices
            if step == 0:
                key = (second << SECOND_SHIFT) | low
            elif step == 1:
                if not e > first + 1:
                    break
                key = ((second + 1) << SECOND_SHIFT) | low
            else:
                if not e > first + 2:
                    break
                long_rows[longs] = i
                longs += 1
                key = _EMPTY  # the slices look their cells up below
            if key == last_key:
                cell = last_cell
            elif key == spill_key:
                cell = spill_cell
            elif key != _EMPTY:
                at, fresh = _cell_of(key, keys, bits)
                if fresh:
                    if cells == room:
                        room *= 2
                        wider_key = np.empty(room, dtype=np.int64)
                        wider_key[:cells] = cell_key[:cells]
                        cell_key = wider_key
                        wider = np.zeros((room, 4), dtype=np.float64)
                        wider[:cells] = sums[:cells]
                        sums = wider
                    keys[at] = key
                    ids[at] = cells
                    cell_key[cells] = key
                    cell = cells
                    cells += 1
                    if 2 * cells > (1 << bits):
                        keys, ids = _grown(keys, ids, bits)
                        bits += 1
                else:
                    cell = ids[at]
            if step == 0:
                if key != last_key:
                    run_start[runs] = i
                    run_cell[runs] = cell
                    runs += 1
                    last_key, last_cell = key, cell
                with_share = (first + 1 - s) / (e - s) if e != s else 1.0
                share = min(with_share, 1.0)
                sums[cell, 0] += p * share
                sums[cell, 1] += b * share
                sums[cell, 2] += 1.0
                sums[cell, 3] += 1.0
                first_p, first_b = p * share, b * share
            elif step == 1:
                spill_key, spill_cell = key, cell
                if e <= first + 2:
                    sums[cell, 0] += p - first_p
                    sums[cell, 1] += b - first_b
                sums[cell, 3] += 1.0
            else:
                span = e - s
                last = max(math.ceil(e) - first, 1.0)
                k = 1.0
                while k < last:
                    at_second = first + k
                    overlap = min(e, at_second + 1.0) - max(s, at_second)
                    share = max(overlap, 0.0) / span
                    slice_key = ((second + np.int64(k)) << SECOND_SHIFT) | low
                    at, fresh = _cell_of(slice_key, keys, bits)
                    if fresh:
                        if cells == room:
                            room *= 2
                            wider_key = np.empty(room, dtype=np.int64)
                            wider_key[:cells] = cell_key[:cells]
                            cell_key = wider_key
                            wider = np.zeros((room, 4), dtype=np.float64)
                            wider[:cells] = sums[:cells]
                            sums = wider
                        keys[at] = slice_key
                        ids[at] = cells
                        cell_key[cells] = slice_key
                        cell = cells
                        cells += 1
                        if 2 * cells > (1 << bits):
                            keys, ids = _grown(keys, ids, bits)
                            bits += 1
                    else:
                        cell = ids[at]
                    sums[cell, 0] += p * share
                    sums[cell, 1] += b * share
                    if k != 1.0:
                        sums[cell, 3] += 1.0
                    k += 1.0
    return (
        cell_key[:cells],
        sums[:cells, 0].copy(),
        sums[:cells, 1].copy(),
        sums[:cells, 2].copy(),
        sums[:cells, 3].copy(),
        run_start[:runs].copy(),
        run_cell[:runs].copy(),
        long_rows[:longs].copy(),
    )
