"""One compiled pass over the records towards a host during an episode: everything the
episode's description needs, summed per source and traffic class, without copying a column.

``gather_pass`` reads each candidate row once (the batch's rows towards the host, ascending,
from the cells) and keeps those still active at ``first``. Each kept row is looked up, by its
(source, traffic class), in an open-addressing hash table (linear probing, as in
``hash_groups.py``) whose entries sum packets and bytes and note the source port (or that there
were several); it marks its destination port and adds its bytes to its IP protocol, per class.
Keeping the classes apart lets every detector whose traffic is a union of classes
(``cells.py``) read its own episode off the one pass: the volumetric and the reflection
episodes of one flood share it. Every entry holds at least one record (an entry is made by a
record); the counts are summed as uint64, exactly. The table holds one entry per distinct key,
so it stays small when few sources send much, and grows (doubling) to at most one entry per
record.

``select_rows`` picks, in order, the kept rows whose entry is flagged.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.hash_groups import _slot

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]
CLASS_SLOTS = 8  # traffic classes fit in 3 bits (``cells.py``)
_EMPTY = -1
_MANY = -2  # an entry whose records came from several source ports
# A slot holds its key (36 bits: a source id below 2**33, ``addresses.py``, and the class) above
# its entry's number, so a probe reads one word; the entries stay below 2**_ENTRY_BITS.
_ENTRY_BITS = 27
_ENTRY_MASK = (1 << _ENTRY_BITS) - 1
_LOAD_BITS = 2  # the table grows at a quarter full: fewer second probes, each mispredicted


@numba.njit(cache=True)
def _rehashed(keys: I64, count: int, bits: int) -> I64:  # pragma: no cover
    """A table of 2**bits slots holding ``keys[:count]`` with their numbers (-1: empty)."""
    mask = (1 << bits) - 1
    table = np.full(1 << bits, _EMPTY, dtype=np.int64)
    for j in range(count):
        at = _slot(keys[j], bits)
        while table[at] != _EMPTY:
            at = (at + 1) & mask
        table[at] = (keys[j] << _ENTRY_BITS) | j
    return table


@numba.njit(cache=True)
def _grown(
    keys: I64, sums: U64, port: NDArray[np.int32], count: int
) -> tuple[I64, U64, NDArray[np.int32]]:  # pragma: no cover
    """Room for twice as many entries, the first ``count`` kept."""
    more_keys = np.empty(2 * len(keys), dtype=np.int64)
    more_keys[:count] = keys[:count]
    more_sums = np.zeros(2 * len(sums), dtype=np.uint64)
    more_sums[: 2 * count] = sums[: 2 * count]
    more_port = np.full(2 * len(port), _EMPTY, dtype=np.int32)
    more_port[:count] = port[:count]
    return more_keys, more_sums, more_port


@numba.njit(cache=True)
def _summed_from(
    j: int,
    r: int,
    i: int,
    run_first: I64,
    run_end: I64,
    run_kind: NDArray[np.uint8],
    low: int,
    high: int,
    first: float,
    src: I64,
    packets: U64,
    size: U64,
    start: F64,
    end: F64,
    dst_port: NDArray[np.uint16],
    protocol: NDArray[np.uint8],
    src_port: NDArray[np.uint16],
    codes: NDArray[np.int32],
    table: I64,
    bits: int,
    entry_key: I64,
    sums: U64,
    entry_port: NDArray[np.int32],
    k: int,
    records: I64,
    first_start: F64,
    last_end: F64,
    ports: NDArray[np.uint8],
    protocols: U64,
) -> tuple[int, int, int, int]:  # pragma: no cover
    """Sum the rows from row ``r`` of run ``j`` on (the ``i``-th candidate), up to ``high``,
    until the end or the table is a quarter full; return where it stopped (run, row, candidate)
    and the count of entries so far. (The arrays stay bound for the whole loop: growing them
    is the caller's business.)"""
    mask = (1 << bits) - 1
    limit = 1 << (bits - _LOAD_BITS)
    while j < len(run_first):
        stop = min(run_end[j], high)
        c = np.int64(run_kind[j])
        # What every row of the run adds to its class is summed in locals, stored at its end.
        count, latest = 0, last_end[c]
        proto, proto_count, proto_bytes = -1, 0, np.uint64(0)
        full = False
        while r < stop:
            e = end[r]
            if e < first:
                codes[i] = -1
                i += 1
                r += 1
                continue
            key = (src[r] << 3) | c
            at = _slot(key, bits)
            held = table[at]
            while held != _EMPTY and (held >> _ENTRY_BITS) != key:
                at = (at + 1) & mask
                held = table[at]
            if held == _EMPTY:
                g = k
                entry_key[k] = key
                table[at] = (key << _ENTRY_BITS) | k
                k += 1
            else:
                g = held & _ENTRY_MASK
            port = np.int32(src_port[r])
            if entry_port[g] != port:
                entry_port[g] = port if entry_port[g] == _EMPTY else _MANY
            b = size[r]
            sums[2 * g] += packets[r]
            sums[2 * g + 1] += b
            if count == 0 and records[c] == 0:  # the batch is sorted by start: least first
                first_start[c] = start[r]
            count += 1
            latest = max(latest, e)
            ports[dst_port[r]] |= np.uint8(1 << c)
            p = int(protocol[r])
            if p != proto:
                if proto_count:
                    at = (proto * CLASS_SLOTS + c) * 2
                    protocols[at] += np.uint64(proto_count)
                    protocols[at + 1] += proto_bytes
                proto, proto_count, proto_bytes = p, 0, np.uint64(0)
            proto_count += 1
            proto_bytes += b
            codes[i] = g
            i += 1
            r += 1
            if k >= limit:
                full = True
                break
        records[c] += count
        last_end[c] = latest
        if proto_count:
            at = (proto * CLASS_SLOTS + c) * 2
            protocols[at] += np.uint64(proto_count)
            protocols[at + 1] += proto_bytes
        if full:
            return j, r, i, k
        j += 1
        if j < len(run_first):
            r = max(run_first[j], low)
    return j, r, i, k


@numba.njit(cache=True)
def gather_pass(
    run_first: I64,
    run_end: I64,
    run_kind: NDArray[np.uint8],
    low: int,
    high: int,
    first: float,
    src: I64,
    packets: U64,
    size: U64,
    start: F64,
    end: F64,
    dst_port: NDArray[np.uint16],
    protocol: NDArray[np.uint8],
    src_port: NDArray[np.uint16],
) -> tuple[
    NDArray[np.int32], I64, U64, NDArray[np.int32], I64, F64, F64, NDArray[np.uint8], U64
]:  # pragma: no cover
    """Over the rows from ``low`` up to ``high`` of the runs (consecutive rows of one class
    each, ascending), returns for each of them its entry (-1: not active at ``first``); the key of
    each entry, ``source << 3 | class`` (in order of first appearance); their packets and bytes
    (``[2 * entry]``, ``[2 * entry + 1]``); the source port of each entry's records (-2 when
    they came from several); per class the records, the
    start of its first row and the latest end; the classes (bits) seen at each destination
    port; and per (protocol * 8 + class) the records and the bytes."""
    candidates = 0
    for j in range(len(run_first)):
        candidates += max(0, min(run_end[j], high) - max(run_first[j], low))
    if candidates > _ENTRY_MASK:
        raise ValueError("more rows than a gather's entries can number")
    codes = np.empty(candidates, dtype=np.int32)
    bits = 10
    table = np.full(1 << bits, _EMPTY, dtype=np.int64)
    entry_key = np.empty(1 << (bits - _LOAD_BITS), dtype=np.int64)
    sums = np.zeros(2 * len(entry_key), dtype=np.uint64)
    entry_port = np.full(len(entry_key), _EMPTY, dtype=np.int32)
    records = np.zeros(CLASS_SLOTS, dtype=np.int64)
    first_start = np.full(CLASS_SLOTS, np.inf)
    last_end = np.full(CLASS_SLOTS, -np.inf)
    ports = np.zeros(1 << 16, dtype=np.uint8)
    protocols = np.zeros(256 * CLASS_SLOTS * 2, dtype=np.uint64)
    j, i, k = 0, 0, 0
    r = max(run_first[0], low) if len(run_first) else 0
    while j < len(run_first):
        j, r, i, k = _summed_from(
            j,
            r,
            i,
            run_first,
            run_end,
            run_kind,
            low,
            high,
            first,
            src,
            packets,
            size,
            start,
            end,
            dst_port,
            protocol,
            src_port,
            codes,
            table,
            bits,
            entry_key,
            sums,
            entry_port,
            k,
            records,
            first_start,
            last_end,
            ports,
            protocols,
        )
        if k << _LOAD_BITS >= (1 << bits):
            bits += 1
            entry_key, sums, entry_port = _grown(entry_key, sums, entry_port, k)
            table = _rehashed(entry_key, k, bits)
    return (
        codes,
        entry_key[:k].copy(),
        sums[: 2 * k].copy(),
        entry_port[:k].copy(),
        records,
        first_start,
        last_end,
        ports,
        protocols,
    )


@numba.njit(cache=True)
def select_rows(
    run_first: I64,
    run_end: I64,
    low: int,
    high: int,
    codes: NDArray[np.int32],
    flagged: NDArray[np.bool_],
) -> I64:  # pragma: no cover
    """The rows from ``low`` up to ``high`` of the runs (in order) whose entry is flagged
    (-1: none)."""
    picked = np.empty(len(codes), dtype=np.int64)
    m = 0
    i = 0
    for j in range(len(run_first)):
        for r in range(max(run_first[j], low), min(run_end[j], high)):
            code = codes[i]
            i += 1
            if code >= 0 and flagged[code]:
                picked[m] = r
                m += 1
    return picked[:m]
