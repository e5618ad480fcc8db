"""The compiled passes of the screen (``screen.py`` says what it bounds and why).

``screen_pass`` spreads each record's packets and bytes over the seconds it spans, at the
largest share any one of those seconds can receive, into (second, bucket of destinations)
sums: two additions per quantity and record into difference rows (the record's rate added at
its first second and taken off after its last), and one running sum down the seconds, so a
record of any length costs the same. The rows are a ring as long as the longest record, so
the sums stay in cache however long the batch. ``rows_towards`` then keeps the records whose
destination falls in a bucket that reached a floor.

Compiled by numba with ``cache=True``, like the other kernels.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.hash_groups import _slot

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]


@numba.njit(cache=True)
def longest_and_sorted(start: F64, end: F64) -> tuple[float, bool]:  # pragma: no cover
    """The longest record's duration, and whether the records are sorted by start."""
    longest, ordered = 0.0, True
    for i in range(len(start)):
        longest = max(longest, end[i] - start[i])
        if i and start[i] < start[i - 1]:
            ordered = False
    return longest, ordered


@numba.njit(cache=True)
def screen_pass(
    start: F64,
    end: F64,
    dst: I64,
    packets: U64,
    size: U64,
    ring_bits: int,
    bits: int,
    floors: F64,
    most: int,
    early: int,
    early_share: float,
) -> tuple[NDArray[np.bool_], bool]:  # pragma: no cover
    """Which buckets (``bits`` of Fibonacci hashing of the destination) reach, in some second,
    one of ``floors`` (packets, bytes and records started per second), for records sorted by
    start that span fewer than 2**``ring_bits`` - 2 seconds each; and False as soon as the
    records towards loud buckets are more than ``most`` (the buckets then found so far), or
    more than ``early_share`` of the records read once ``early`` have been read: a batch that
    is mostly attack from its start is told within its first records.

    The difference rows are a ring of 2**``ring_bits`` seconds: once the records move past a
    second, nothing more falls in it, so it is summed into the running totals, checked and
    cleared for a later second. The records towards each bucket are counted there too, from
    the records each second started, so the loop over records touches the ring alone."""
    width, rows = 1 << bits, 1 << ring_bits
    wrap = rows - 1
    # Per (second, bucket): the rise of packets/s and bytes/s, and the records started; side
    # by side, so that a record's additions to one second share a cache line.
    rise = np.zeros((rows, width, 3))
    held_packets, held_bytes = np.zeros(width), np.zeros(width)
    loud = np.zeros(width, dtype=np.bool_)
    seen = np.zeros(width)  # records started towards each bucket in the seconds summed
    loud_records = 0.0
    base = np.floor(start[0]) if len(start) else 0.0
    done = 0  # the seconds before this one (from base) are summed and checked
    for i in range(len(start) + 1):
        first = int(np.floor(start[i]) - base) if i < len(start) else done + rows
        if first > done:
            # Only the ring's seconds can hold anything: any later ones before ``first`` are
            # empty and leave the running totals as they are.
            for second in range(done, min(first, done + rows)):
                r = second & wrap
                for at in range(width):
                    started = rise[r, at, 2]
                    held_packets[at] += rise[r, at, 0]
                    held_bytes[at] += rise[r, at, 1]
                    seen[at] += started
                    if loud[at]:
                        loud_records += started
                    elif (
                        held_packets[at] >= floors[0]
                        or held_bytes[at] >= floors[1]
                        or started >= floors[2]
                    ):
                        loud[at] = True
                        loud_records += seen[at]
                rise[r] = 0.0
            if loud_records > most or (i >= early and loud_records > early_share * i):
                return loud, False
            done = first
        if i == len(start):
            break
        last = max(int(np.ceil(end[i]) - base) - 1, first)
        duration = end[i] - start[i]
        # A second receives overlap / duration of the record, and overlaps at most one second
        # and at most the whole duration (``seconds.py``). One division for every record, not a
        # branch: a fifth of ordinary records are longer than a second, unpredictably (92 ms
        # against 64 ms on 10 M records).
        share = 1.0 / max(duration, 1.0)
        bucket = _slot(dst[i], bits)
        p, b = float(packets[i]) * share, float(size[i]) * share
        here, after = first & wrap, (last + 1) & wrap
        rise[here, bucket, 0] += p
        rise[here, bucket, 1] += b
        rise[here, bucket, 2] += 1.0
        rise[after, bucket, 0] -= p
        rise[after, bucket, 1] -= b
    return loud, loud_records <= most


@numba.njit(cache=True)
def rows_towards(
    dst: I64, loud: NDArray[np.bool_], bits: int, most: int
) -> I64:  # pragma: no cover
    """The rows whose destination's bucket is ``loud``, ascending; stops (returning the rows
    found so far) once more than ``most`` are found."""
    rows = np.empty(min(len(dst), most + 1), dtype=np.int64)
    found = 0
    for i in range(len(dst)):
        if loud[_slot(dst[i], bits)]:
            rows[found] = i
            found += 1
            if found > most:
                break
    return rows[:found].copy()
