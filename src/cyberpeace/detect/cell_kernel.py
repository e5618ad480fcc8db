"""The cells of a batch in one compiled pass over its records (``cells.py`` says what they hold).

The records come sorted by start, so a record adds only to the cells of its first second and
the one after (the later slices of the records over three seconds are cut beforehand, by
``later_slices_pass``, and grouped by second). The pass keeps two small open-addressing hash tables
(linear probing; Knuth, TAOCP vol. 3, section 6.4), one for the current second and one for the
next, keyed by (destination, class): they stay in cache however large the batch. When the
records move past a second, its cells (with the slices that fall in it) are sorted by key and
written out, so the cells come out in key order without a sort of the whole batch. A record of
the same key as the one before it (a flood's records arrive together) skips the look-up.

Compiled by numba with ``cache=True``: only the first run after an install or a change pays
the compile (a few seconds); later processes load the machine code from disk.
"""

from __future__ import annotations

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
_FAR = 1 << 62


@numba.njit(cache=True)
def survey(
    start: F64, end: F64, dst: I64, kind: U8
) -> tuple[int, int, I64, int]:  # pragma: no cover
    """In one pass over records sorted by start: the runs of equal key; how often the key of
    the second second changes among the records that reach into it (together, a bound on the
    cells besides the later slices); the rows of the records over three seconds or more; and
    the most records starting in one second."""
    n = len(start)
    long_rows = np.empty(n, dtype=np.int64)
    runs, spills, longs, busiest, run = 0, 0, 0, 0, 0
    previous = -1.0
    key_second, key_dst, key_kind = -1.0, np.int64(-1), np.int64(-1)
    spill_second, spill_dst, spill_kind = -1.0, np.int64(-1), np.int64(-1)
    for i in range(n):
        first = np.floor(start[i])
        run = run + 1 if first == previous else 1
        busiest = max(busiest, run)
        previous = first
        d, k = dst[i], np.int64(kind[i])
        if first != key_second or d != key_dst or k != key_kind:  # as cell_pass's keys
            runs += 1
            key_second, key_dst, key_kind = first, d, k
        if end[i] > first + 1:
            if first != spill_second or d != spill_dst or k != spill_kind:
                spills += 1
                spill_second, spill_dst, spill_kind = first, d, k
            if end[i] > first + 2:
                long_rows[longs] = i
                longs += 1
    return runs, spills, long_rows[:longs].copy(), busiest


@numba.njit(cache=True)
def later_slices_pass(
    start: F64,
    end: F64,
    dst: I64,
    kind: U8,
    packets: NDArray[np.uint64],
    size: NDArray[np.uint64],
    long_rows: I64,
    base: int,
) -> tuple[I64, F64, F64]:  # pragma: no cover
    """The third and later one-second slices (key, packets, bytes) of the records
    ``long_rows`` (ascending, over three seconds or more), grouped by second, seconds
    ascending, in row order within a second: a counting sort on the second, so no sort of
    the slices (a busy network's long sessions cut into millions). Each slice's share is its
    overlap with the second over the record's duration, as ``seconds.cut_into_seconds``
    reckons it."""
    n = len(long_rows)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    lowest = np.int64(np.floor(start[long_rows[0]])) + 2  # rows are sorted by start
    highest = lowest
    for r in range(n):
        highest = max(highest, np.int64(np.ceil(end[long_rows[r]])))
    opens = np.zeros(highest - lowest + 1, dtype=np.int64)
    for r in range(n):  # slices per second, then where each second's slices open
        i = long_rows[r]
        for t in range(np.int64(np.floor(start[i])) + 2, np.int64(np.ceil(end[i]))):
            opens[t - lowest + 1] += 1
    for t in range(len(opens) - 1):
        opens[t + 1] += opens[t]
    total = opens[-1]
    out_key = np.empty(total, dtype=np.int64)
    out_packets, out_bytes = np.empty(total), np.empty(total)
    for r in range(n):
        i = long_rows[r]
        s, e = start[i], end[i]
        low = (dst[i] << CLASS_BITS) | np.int64(kind[i])
        p, b = float(packets[i]), float(size[i])
        for t in range(np.int64(np.floor(s)) + 2, np.int64(np.ceil(e))):
            at = opens[t - lowest]
            opens[t - lowest] = at + 1
            share = max(min(e, t + 1.0) - max(s, float(t)), 0.0) / (e - s)
            out_key[at] = ((t - base) << SECOND_SHIFT) | low
            out_packets[at] = p * share
            out_bytes[at] = b * share
    return out_key, out_packets, out_bytes


@numba.njit(cache=True, inline="always")
def _added(
    low: int, keys: I64, ids: I64, bits: I64, counts: I64, cell_low: I64, t: int
) -> int:  # pragma: no cover
    """The local cell of ``low`` in second table ``t``, numbered anew when missing."""
    mask = (1 << bits[t]) - 1
    at = _slot(low, bits[t])
    while keys[t, at] != _EMPTY and keys[t, at] != low:
        at = (at + 1) & mask
    if keys[t, at] == low:
        return int(ids[t, at])
    cell = counts[t]
    keys[t, at] = low
    ids[t, at] = cell
    cell_low[t, cell] = low
    counts[t] = cell + 1
    return int(cell)


@numba.njit(cache=True)
def _sized(
    keys: I64, ids: I64, bits: I64, counts: I64, cell_low: I64, t: int, cells: int
) -> None:  # pragma: no cover
    """Table ``t`` with room for ``cells`` cells in all: the fewest slots that keep it at most
    half full, so that a quiet second's look-ups stay within a few cache lines."""
    wanted = 4
    while (1 << wanted) < 2 * cells:
        wanted += 1
    if wanted <= bits[t] and (counts[t] > 0 or wanted == bits[t]):
        return
    mask = (1 << bits[t]) - 1
    for j in range(counts[t]):  # empty the old slots, then insert again
        at = _slot(cell_low[t, j], bits[t])
        while keys[t, at] != cell_low[t, j]:
            at = (at + 1) & mask
        keys[t, at] = _EMPTY
    bits[t] = wanted
    mask = (1 << wanted) - 1
    for j in range(counts[t]):
        at = _slot(cell_low[t, j], wanted)
        while keys[t, at] != _EMPTY:
            at = (at + 1) & mask
        keys[t, at] = cell_low[t, j]
        ids[t, at] = j


_RADIX_BITS = 12
_RADIX = 1 << _RADIX_BITS
_LOW_BITS = 36  # a cell's key within its second: destination id (33 bits) and class (3)
_FEW = 2_048  # fewer cells than this in a second: a comparison sort costs less
_PLACE_BITS = 11  # a place below _FEW, packed under a value below 2**36


@numba.njit(cache=True)
def _key_order(
    values: I64, count: int, order: I64, spare: I64, counts: I64
) -> I64:  # pragma: no cover
    """The order of ``values[:count]`` (distinct, non-negative, below 2**36) from small to
    large: an LSD radix sort of three 12-bit digits (Knuth, TAOCP vol. 3, section 5.2.5),
    several times faster than a comparison sort for the thousands of cells of a busy
    network's second; ``order`` and ``spare`` are scratch of at least ``count``."""
    if count < _FEW:  # each value with its place in the low bits, sorted in place
        for i in range(count):
            order[i] = (values[i] << _PLACE_BITS) | i
        head = order[:count]
        head.sort()
        for i in range(count):
            order[i] &= (1 << _PLACE_BITS) - 1
        return head
    for i in range(count):
        order[i] = i
    shift = 0
    while shift < _LOW_BITS:
        counts[:] = 0
        for i in range(count):
            counts[((values[order[i]] >> shift) & (_RADIX - 1)) + 1] += 1
        for d in range(_RADIX):
            counts[d + 1] += counts[d]
        for i in range(count):
            j = order[i]
            d = (values[j] >> shift) & (_RADIX - 1)
            spare[counts[d]] = j
            counts[d] += 1
        order, spare = spare, order
        shift += _RADIX_BITS
    return order[:count]


@numba.njit(cache=True)
def cell_pass(
    start: F64,
    end: F64,
    dst: I64,
    kind: U8,
    packets: NDArray[np.uint64],
    size: NDArray[np.uint64],
    base: int,
    slices: tuple[I64, F64, F64],
    bits: int,
    out_key: I64,
    out_sums: F64,
    run_start: I64,
    run_cell: I64,
) -> tuple[int, int]:  # pragma: no cover
    """Write the cells in key order (key, and rows of sums: packets, bytes, records started
    and records active) to ``out_*``, and the runs of equal key in record order (start row, cell)
    to ``run_*``; return how many of each.

    ``slices`` are the key, packets and bytes of the third and later one-second slices of the
    records over three seconds, grouped by second in ascending order (each is active in its
    second and started in none). Each second's table has up to ``2**bits`` slots, at least
    twice the cells one second can hold. ``out_*`` hold as many cells as there can be:
    records, their second seconds and slices."""
    slice_key, slice_packets, slice_bytes = slices
    n = len(start)
    n_slices = len(slice_key)
    room = 1 << (bits - 1)
    keys = np.full((2, 1 << bits), _EMPTY, dtype=np.int64)
    ids = np.empty((2, 1 << bits), dtype=np.int64)
    cell_low = np.empty((2, room), dtype=np.int64)
    sums = np.zeros((2, room, 4), dtype=np.float64)
    counts = np.zeros(2, dtype=np.int64)
    final = np.empty(room, dtype=np.int64)
    sort_order = np.empty(room, dtype=np.int64)  # scratch of the per-second sort
    sort_spare = np.empty(room, dtype=np.int64)
    digit_counts = np.zeros(_RADIX + 1, dtype=np.int64)
    link = np.full((2, room), -1, dtype=np.int64)  # each cell's cell one second on
    table_bits = np.full(2, 4, dtype=np.int64)
    a = 0  # which table holds the current second; the other holds the next
    cells, runs, run_low, at_slice = 0, 0, 0, 0
    last_key, last_cell = _EMPTY, -1
    spill_key, spill_cell = _EMPTY, -1
    current = np.int64(np.floor(start[0])) - base if n else np.int64(0)
    i = 0
    prepare = True
    while True:
        if prepare:  # a new current second: size both tables for what it and the next hold
            prepare = False
            j = i
            while j < n and np.int64(np.floor(start[j])) - base == current:
                j += 1
            k = at_slice
            while k < n_slices and (slice_key[k] >> SECOND_SHIFT) == current:
                k += 1
            _sized(keys, ids, table_bits, counts, cell_low, a, counts[a] + (j - i) + (k - at_slice))
            _sized(keys, ids, table_bits, counts, cell_low, 1 - a, j - i)
        second = np.int64(np.floor(start[i])) - base if i < n else np.int64(_FAR)
        if second == current:
            s, e = start[i], end[i]
            first = np.floor(s)
            low = (dst[i] << CLASS_BITS) | np.int64(kind[i])
            key = (second << SECOND_SHIFT) | low
            if key == last_key:
                cell = last_cell
            else:
                cell = (
                    spill_cell
                    if key == spill_key
                    else _added(low, keys, ids, table_bits, counts, cell_low, a)
                )
                if runs == len(run_start):
                    raise IndexError("more runs than the survey counted")
                run_start[runs] = i
                run_cell[runs] = cell
                runs += 1
                last_key, last_cell = key, cell
            p, b = float(packets[i]), float(size[i])
            if e <= first + 1:  # within its first second: no division
                first_p, first_b = p, b
            else:
                share = (first + 1 - s) / (e - s)
                first_p, first_b = p * share, b * share
            sums[a, cell, 0] += first_p
            sums[a, cell, 1] += first_b
            sums[a, cell, 2] += 1.0
            sums[a, cell, 3] += 1.0
            if e > first + 1:
                later = key + (1 << SECOND_SHIFT)
                if later != spill_key:
                    spill_cell = link[a, cell]  # the cell one second on, once looked up
                    if spill_cell < 0:
                        spill_cell = _added(low, keys, ids, table_bits, counts, cell_low, 1 - a)
                        link[a, cell] = spill_cell
                    spill_key = later
                if e <= first + 2:
                    sums[1 - a, spill_cell, 0] += p - first_p
                    sums[1 - a, spill_cell, 1] += b - first_b
                else:  # the second of three or more slices
                    share = (min(e, first + 2) - (first + 1)) / (e - s)
                    sums[1 - a, spill_cell, 0] += p * share
                    sums[1 - a, spill_cell, 1] += b * share
                sums[1 - a, spill_cell, 3] += 1.0
            i += 1
            continue
        if second < current:
            raise ValueError("records must be sorted by start")
        # The records moved past the current second: its slices join it, then out it goes.
        while at_slice < n_slices and (slice_key[at_slice] >> SECOND_SHIFT) == current:
            low = slice_key[at_slice] & ((1 << SECOND_SHIFT) - 1)
            cell = _added(low, keys, ids, table_bits, counts, cell_low, a)
            sums[a, cell, 0] += slice_packets[at_slice]
            sums[a, cell, 1] += slice_bytes[at_slice]
            sums[a, cell, 3] += 1.0
            at_slice += 1
        count = counts[a]
        if cells + count > len(out_key):
            raise IndexError("more cells than the survey allowed for")
        order = _key_order(cell_low[a], count, sort_order, sort_spare, digit_counts)
        mask = (1 << table_bits[a]) - 1
        for r in range(count):
            j = order[r]
            out_key[cells + r] = (current << SECOND_SHIFT) | cell_low[a, j]
            for c in range(4):
                out_sums[c, cells + r] = sums[a, j, c]
                sums[a, j, c] = 0.0
            final[j] = cells + r
            link[a, j] = -1
            at = _slot(cell_low[a, j], table_bits[a])  # empty the slot for the second after next
            while keys[a, at] != cell_low[a, j]:
                at = (at + 1) & mask
            keys[a, at] = _EMPTY
        for r in range(run_low, runs):
            run_cell[r] = final[run_cell[r]]
        run_low = runs
        cells += count
        counts[a] = 0
        a = 1 - a  # the next second's table becomes the current one
        current += 1
        prepare = True
        if counts[a] == 0:  # nothing pending: go straight to the next record or slice
            ahead = np.int64(slice_key[at_slice] >> SECOND_SHIFT if at_slice < n_slices else _FAR)
            current = max(current, min(second, ahead))
            if current == _FAR:
                break
    return cells, runs


@numba.njit(cache=True)
def totals_pass(
    second: I64,
    dst: I64,
    kind: U8,
    sums: F64,
    within: NDArray[np.bool_],
    counted: NDArray[np.bool_],
) -> tuple[I64, I64, F64]:  # pragma: no cover
    """Per (second, destination) holding a cell of a class ``within`` (cells sorted by key),
    the sums (rows: packets, bytes, started, active, as in ``sums``) over its cells of a class
    ``counted``."""
    n = len(second)
    rows, last = 0, -1
    for c in range(n):  # count the rows first: the output is allocated once, exactly
        if within[kind[c]]:
            if last < 0 or second[c] != second[last] or dst[c] != dst[last]:
                rows += 1
            last = c
    out_second = np.empty(rows, dtype=np.int64)
    out_dst = np.empty(rows, dtype=np.int64)
    out = np.zeros((4, rows), dtype=np.float64)
    row = -1
    for c in range(n):
        if not within[kind[c]]:
            continue
        if row < 0 or second[c] != out_second[row] or dst[c] != out_dst[row]:
            row += 1
            out_second[row] = second[c]
            out_dst[row] = dst[c]
        if counted[kind[c]]:
            out[0, row] += sums[0, c]
            out[1, row] += sums[1, c]
            out[2, row] += sums[2, c]
            out[3, row] += sums[3, c]
    return out_second, out_dst, out


@numba.njit(cache=True)
def classify_pass(
    protocol: U8,
    src_port: NDArray[np.uint16],
    tcp_flags: U8,
    amplifier_marks: NDArray[np.uint16],
    table: U8,
) -> U8:  # pragma: no cover
    """The class of each record: ``table`` at (protocol << 9) | amplifier mark | flags."""
    n = len(protocol)
    out = np.empty(n, dtype=np.uint8)
    for i in range(n):
        mark = np.uint32(amplifier_marks[src_port[i]])
        index = (np.uint32(protocol[i]) << 9) | mark | tcp_flags[i]
        out[i] = table[index]
    return out
