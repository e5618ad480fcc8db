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


@numba.njit(cache=True, inline="always")
def _v4_of(high: np.uint64, low: np.uint64) -> tuple[np.int64, bool]:  # pragma: no cover
    """The IPv4 value of one 16-byte address (two little-endian words), and whether the
    address is IPv4-mapped."""
    mapped = high == 0 and (low & np.uint64(0xFFFFFFFF)) == np.uint64(0xFFFF0000)
    word = low >> np.uint64(32)
    value = (
        ((word & np.uint64(0xFF)) << np.uint64(24))
        | ((word & np.uint64(0xFF00)) << np.uint64(8))
        | ((word >> np.uint64(8)) & np.uint64(0xFF00))
        | (word >> np.uint64(24))
    )
    return np.int64(value), mapped


@numba.njit(cache=True)
def intake_pass(
    start_us: NDArray[np.int64],
    end_us: NDArray[np.int64],
    src_words: U64,
    dst_words: U64,
    src_port: NDArray[np.uint16],
    dst_port: NDArray[np.uint16],
    protocol: NDArray[np.uint8],
    tcp_flags: NDArray[np.uint8],
    packets: U64,
    size: U64,
    src_as: NDArray[np.uint32],
    ttls: tuple[NDArray[np.uint8], NDArray[np.uint8]],
    allow_first: NDArray[np.int64],
    allow_last: NDArray[np.int64],
    limits: F64,
    amplifier_marks: NDArray[np.uint16],
    class_table: NDArray[np.uint8],
) -> tuple[
    int,
    int,
    bool,
    float,
    tuple[F64, F64, NDArray[np.int64], NDArray[np.int64]],
    tuple[NDArray[np.uint16], NDArray[np.uint16], NDArray[np.uint8], NDArray[np.uint8]],
    tuple[U64, U64, NDArray[np.uint32], NDArray[np.uint8]],
    tuple[NDArray[np.uint8], NDArray[np.uint8]],
]:  # pragma: no cover
    """Intake of a batch in one pass, for the usual case: every address IPv4-mapped and every
    record passing ``all_possible_pass``'s tests (``limits`` holds its limits in its order).

    Returns how many records are kept (-1 at the first record outside that case: the caller
    then takes the batch in column by column), how many sources the allow list's IPv4 ranges
    (``allow_first``/``allow_last``, sorted, disjoint) hold, whether the kept records are
    sorted by start, the longest kept record's duration, and the kept records' columns,
    packed at the front of arrays of the batch's length: start and end (float seconds, the
    microseconds times 1e-6), source and destination ids, ports, protocol, flags, packets,
    bytes, src_as, and the traffic class (``cells.classify``'s table lookup); then the TTL
    bounds (min, max) when ``ttls`` holds them for every record, else two empty arrays."""
    n = len(start_us)
    ahead, max_flow_s, epoch_end, low_pp, high_pp, shortest_s, frame_bits, link_bps = (
        limits[0],
        limits[1],
        limits[2],
        limits[3],
        limits[4],
        limits[5],
        limits[6],
        limits[7],
    )
    start = np.empty(n, dtype=np.float64)
    end = np.empty(n, dtype=np.float64)
    src = np.empty(n, dtype=np.int64)
    dst = np.empty(n, dtype=np.int64)
    o_sport = np.empty(n, dtype=np.uint16)
    o_dport = np.empty(n, dtype=np.uint16)
    o_proto = np.empty(n, dtype=np.uint8)
    o_flags = np.empty(n, dtype=np.uint8)
    o_packets = np.empty(n, dtype=np.uint64)
    o_bytes = np.empty(n, dtype=np.uint64)
    o_as = np.empty(n, dtype=np.uint32)
    o_class = np.empty(n, dtype=np.uint8)
    min_ttl, max_ttl = ttls
    with_ttl = len(min_ttl) == n and len(max_ttl) == n
    o_min_ttl = np.empty(n if with_ttl else 0, dtype=np.uint8)
    o_max_ttl = np.empty(n if with_ttl else 0, dtype=np.uint8)
    ranges = len(allow_first)
    kept, allowed = 0, 0
    ordered = True
    previous = -np.inf
    longest = 0.0
    for i in range(n):
        s, e = float(start_us[i]) * 1e-6, float(end_us[i]) * 1e-6
        if s < 0 or e < 0 or s >= epoch_end or e >= epoch_end or s > ahead or e > ahead:
            kept = -1
            break
        duration = e - s
        if duration < 0 or duration > max_flow_s:
            kept = -1
            break
        p, b = float(packets[i]), float(size[i])
        if p == 0 or b < low_pp * p or b > high_pp * p:
            kept = -1
            break
        duration = max(duration, shortest_s)
        if b * 8 > link_bps * duration or p * frame_bits > link_bps * duration:
            kept = -1
            break
        source, mapped = _v4_of(src_words[2 * i], src_words[2 * i + 1])
        target, mapped_too = _v4_of(dst_words[2 * i], dst_words[2 * i + 1])
        if not (mapped and mapped_too):
            kept = -1
            break
        if ranges:
            if ranges <= 4:  # a comparison or two per range beat a search
                held = False
                for r in range(ranges):  # one unsigned comparison a range, no branch
                    span = np.uint64(allow_last[r] - allow_first[r])
                    held |= bool(np.uint64(source - allow_first[r]) <= span)
            else:
                at = np.searchsorted(allow_first, source, side="right") - 1
                held = bool(at >= 0 and source <= allow_last[at])
            if held:
                allowed += 1
                continue
        if s < previous:
            ordered = False
        previous = s
        longest = max(longest, e - s)
        if with_ttl:  # stored first: after the others, the pass took 30 ms more on 10 M records
            o_min_ttl[kept], o_max_ttl[kept] = min_ttl[i], max_ttl[i]
        start[kept], end[kept], src[kept], dst[kept] = s, e, source, target
        o_sport[kept], o_dport[kept] = src_port[i], dst_port[i]
        o_proto[kept], o_flags[kept] = protocol[i], tcp_flags[i]
        o_packets[kept], o_bytes[kept], o_as[kept] = packets[i], size[i], src_as[i]
        mark = np.uint32(amplifier_marks[src_port[i]])
        index = (np.uint32(protocol[i]) << 9) | mark | tcp_flags[i]
        o_class[kept] = class_table[index]
        kept += 1
    return (
        kept,
        allowed,
        ordered,
        longest,
        (start, end, src, dst),
        (o_sport, o_dport, o_proto, o_flags),
        (o_packets, o_bytes, o_as, o_class),
        (o_min_ttl, o_max_ttl),
    )
