"""Compiled single passes of intake: whether every record of a batch is possible, and the ids
of 16-byte addresses (``addresses.py``), each read once, without whole-column temporaries.

Compiled by numba with ``cache=True`` (see ``hash_groups.py``); no Python loop per record.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]


@numba.njit(cache=True)
def all_possible_pass(
    start: F64,
    end: F64,
    packets: U64,
    size: U64,
    ahead: float,
    max_flow_s: float,
    epoch_end: float,
    low_per_packet: float,
    high_per_packet: float,
    shortest_s: float,
    frame_bits: float,
    link_bps: float,
) -> bool:  # pragma: no cover
    """True when every record passes ``intake.all_possible``'s tests; stops at the first
    that fails. The limits carry a hair of margin, so products stand in for the quotients:
    where rounding could tell them apart, both fail and the exact masks decide."""
    for i in range(len(start)):
        s, e = start[i], end[i]
        if s < 0 or e < 0 or s >= epoch_end or e >= epoch_end or s > ahead or e > ahead:
            return False
        duration = e - s
        if duration < 0 or duration > max_flow_s:
            return False
        p, b = float(packets[i]), float(size[i])
        if p == 0 or b < low_per_packet * p or b > high_per_packet * p:
            return False
        duration = max(duration, shortest_s)
        if b * 8 > link_bps * duration or p * frame_bits > link_bps * duration:
            return False
    return True


@numba.njit(cache=True)
def _v4_ids(native: U64) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:  # pragma: no cover
    n = len(native) // 2
    ids = np.empty(n, dtype=np.int64)
    wide = np.empty(n, dtype=np.bool_)
    for i in range(n):
        high, low = native[2 * i], native[2 * i + 1]
        # Little-endian words: bytes 8-11 (00 00 ff ff) are the low half of the second word,
        # bytes 12-15 (the IPv4 address, network order) its high half.
        wide[i] = not (high == 0 and (low & np.uint64(0xFFFFFFFF)) == np.uint64(0xFFFF0000))
        word = low >> np.uint64(32)
        value = (
            ((word & np.uint64(0xFF)) << np.uint64(24))
            | ((word & np.uint64(0xFF00)) << np.uint64(8))
            | ((word >> np.uint64(8)) & np.uint64(0xFF00))
            | (word >> np.uint64(24))
        )
        ids[i] = np.int64(value)
    return ids, wide


def v4_ids(native: U64) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """For 16-byte addresses read as pairs of native-order words (little-endian machines): the
    IPv4 value in bytes 12-15 of each, and whether it is not IPv4-mapped (RFC 4291 section
    2.5.5.2), i.e. an IPv6 address."""
    ids, wide = _v4_ids(native)
    return ids, wide
