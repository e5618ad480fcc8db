"""Cells: the batch's traffic summed per second, destination host and traffic class, in one pass.

Every flood detector reads these sums instead of the records. A record falls in one traffic
class (``classify``), and its packets and bytes are spread evenly over the seconds it spans
(``seconds.py``): most records span one or two seconds, so each record adds its first second's
share to the cell it started in and the rest to the same cell one second later; the few records
over three seconds or more are cut into slices of their own.

The pass (``cell_kernel.py``) is compiled: one key per record, ``(second << 36) |
(destination << 3) | class`` (address ids are below 2**33, ``addresses.py``), looked up in a
small hash table per second, so that the cells come out in key order without a sort of the
batch; neighbouring records of equal key (a flood's records arrive together) share one look-up
and form the runs that lead back from cells to records. Sums of packets and bytes equal those
of a plain per-slice sum up to float rounding (the order of the additions differs).

``rows_of`` goes back from chosen cells to the records that started in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.amplifiers import amplifiers
from cyberpeace.detect.cell_kernel import (
    cell_pass,
    classify_pass,
    later_slices_pass,
    survey,
    totals_pass,
)
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.groups import distinct
from cyberpeace.detect.hyperloglog import HyperLogLog
from cyberpeace.detect.pair_kernel import distinct_per_pair, groups_here_and_after, source_pairs
from cyberpeace.detect.seconds import cut_into_seconds
from cyberpeace.telemetry.protocols import ACK, ICMP, ICMPV6, SYN, TCP, UDP

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

# Traffic classes: what each flood detector counts is a union of them.
OTHER = 0  # any other protocol, and UDP not from an amplifier port
AMPLIFIER = 1  # UDP from an amplifier source port (data/amplifiers.yaml)
SYN_ONLY = 2  # TCP with SYN and without ACK: a handshake's first half (RFC 9293 section 3.5)
TCP_ACK = 3  # TCP that acknowledged something
TCP_OTHER = 4  # TCP with neither (FIN, NULL, RST-only probes)
ICMP_ANY = 5  # ICMP (RFC 792) and ICMPv6 (RFC 4443)
CLASS_NAMES = ("other", "amplifier", "syn-only", "tcp-ack", "tcp-other", "icmp")
TCP_CLASSES = (SYN_ONLY, TCP_ACK, TCP_OTHER)
ALL_CLASSES = tuple(range(len(CLASS_NAMES)))

_CLASS_BITS = 3
_DST_BITS = 33
_SECOND_SHIFT = _DST_BITS + _CLASS_BITS
_EPOCH_BITS = 25
EXACT_SOURCES_UP_TO = 1 << 23


@cache
def class_table() -> U8:
    """The class of each (protocol, from an amplifier port, TCP flags) as one 17-bit index."""
    table = np.full((256, 2, 256), OTHER, dtype=np.uint8)
    flags = np.arange(256)
    tcp = np.where((flags & ACK) != 0, TCP_ACK, np.where((flags & SYN) != 0, SYN_ONLY, TCP_OTHER))
    table[TCP, :, :] = tcp
    table[UDP, 1, :] = AMPLIFIER
    table[ICMP, :, :] = ICMP_ANY
    table[ICMPV6, :, :] = ICMP_ANY
    return table.reshape(-1)


@cache
def amplifier_marks() -> NDArray[np.uint16]:
    """Per source port, 1 << 8 for the amplifier ports (the class table's middle bit), else 0;
    as uint16, so the 128 KiB that intake reads at random (by ephemeral ports) stay in cache
    more often than twice that would."""
    marks = np.zeros(1 << 16, dtype=np.uint16)
    marks[amplifiers().ports] = 1 << 8
    return marks


def classify(flows: Flows) -> U8:
    """The traffic class of each record."""
    classes: U8 = classify_pass(
        flows.protocol, flows.src_port, flows.tcp_flags, amplifier_marks(), class_table()
    )
    return classes


@dataclass(frozen=True)
class Cells:
    """Traffic per (second, destination host, class) that saw any, sorted by that key."""

    second: I64
    dst: I64
    kind: U8  # the traffic class
    packets: F64  # spread over the seconds of each record
    bytes: F64
    started: F64  # records that started in the second
    active: F64  # records active in the second
    # Going back: runs of equal key in the batch (start row and cell of each).
    run_start: I64
    run_cell: I64
    rows: int  # records in the batch
    long_rows: I64  # the records over three seconds or more

    def per_second(
        self, host: int, classes: tuple[int, ...], first: int, after: int
    ) -> tuple[F64, F64, F64]:
        """Packets, bytes and records started in each second from ``first`` up to ``after``
        of the traffic of ``classes`` towards one host."""
        low, high = np.searchsorted(self.second, [first, after])
        mine = (self.dst[low:high] == host) & of_classes(self.kind[low:high], classes)
        slot = self.second[low:high][mine] - first
        span = max(after - first, 1)

        def summed(values: F64) -> F64:
            total: F64 = np.bincount(slot, values[low:high][mine], span).astype(np.float64)
            return total

        return summed(self.packets), summed(self.bytes), summed(self.started)

    def totals(
        self, classes: tuple[int, ...], within: tuple[int, ...] | None = None
    ) -> DestinationTotals:
        """Per (second, destination) holding a cell of a class in ``within`` (default
        ``classes``), the sums over its cells of a class in ``classes``."""
        if len(classes) == 1 and within in (None, classes):
            # One class: a (second, destination) holds at most one cell of it, in key order,
            # so the totals are those cells themselves (one mask, no pass summing).
            rows = np.flatnonzero(self.kind == classes[0])
            return DestinationTotals(
                self.second[rows],
                self.dst[rows],
                self.packets[rows],
                self.bytes[rows],
                self.started[rows],
                self.active[rows],
            )
        second, dst, sums = totals_pass(
            self.second,
            self.dst,
            self.kind,
            self.sums,
            _marks(within or classes),
            _marks(classes),
        )
        return DestinationTotals(second, dst, sums[0], sums[1], sums[2], sums[3])

    def __len__(self) -> int:
        return len(self.second)

    @cached_property
    def sums(self) -> F64:
        """Packets, bytes, started and active as the rows of one array (for the totals)."""
        return np.stack([self.packets, self.bytes, self.started, self.active])

    def rows_of(self, chosen: NDArray[np.bool_]) -> I64:
        """The records (batch rows, ascending) that started in the ``chosen`` cells."""
        return self.rows_and_cells(chosen)[0]

    def rows_and_cells(self, chosen: NDArray[np.bool_]) -> tuple[I64, I64]:
        """The records that started in the ``chosen`` cells (ascending), and the cell of each."""
        runs = np.flatnonzero(chosen[self.run_cell])
        if len(runs) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        ends = np.append(self.run_start[1:], self.rows)
        first, length = self.run_start[runs], ends[runs] - self.run_start[runs]
        opens = np.cumsum(length) - length
        rows: I64 = np.repeat(first - opens, length) + np.arange(int(length.sum()))
        return rows, np.repeat(self.run_cell[runs], length)


@dataclass(frozen=True)
class DestinationTotals:
    """Traffic of some classes per (second, destination host)."""

    second: I64
    dst: I64
    packets: F64  # packets in the second, i.e. packets/s
    bytes: F64
    started: F64  # records that started in the second: new flows/s
    active: F64  # records active in the second

    def where(self, rows: NDArray[np.bool_]) -> DestinationTotals:
        """The chosen rows."""
        return DestinationTotals(
            self.second[rows],
            self.dst[rows],
            self.packets[rows],
            self.bytes[rows],
            self.started[rows],
            self.active[rows],
        )


def _marks(classes: tuple[int, ...]) -> NDArray[np.bool_]:
    """One flag per traffic class: is it among ``classes``."""
    marks = np.zeros(1 << _CLASS_BITS, dtype=np.bool_)
    marks[list(classes)] = True
    return marks


def of_classes(kind: U8, classes: tuple[int, ...]) -> NDArray[np.bool_]:
    """Which of ``kind`` (traffic classes) are among ``classes``."""
    marks = np.zeros(1 << _CLASS_BITS, dtype=np.bool_)
    marks[list(classes)] = True
    inside: NDArray[np.bool_] = marks[kind]
    return inside


def distinct_sources(
    cells: Cells,
    flows: Flows,
    pairs: DestinationTotals,
    classes: tuple[int, ...],
    exact_up_to: int = EXACT_SOURCES_UP_TO,
) -> I64:
    """For each (second, destination) row of ``pairs``, the distinct sources of the records of
    ``classes`` active in that second (records over several seconds count in each).

    ``pairs`` are totals of ``classes`` (their active records are the (row, source) pairs).
    Exact (one walk of the cells' runs hashing the pairs of two seconds at a time,
    ``pair_kernel.py``) up to ``exact_up_to`` pairs; beyond, estimated by one HyperLogLog per
    row (``hyperloglog.py``, 1.6 % standard error, 4 KiB per row)."""
    if len(pairs.second) == 0:
        return np.zeros(0, dtype=np.int64)
    seconds = distinct(pairs.second)
    wanted = (np.searchsorted(seconds, pairs.second) << _DST_BITS) | pairs.dst
    inside = of_classes(cells.kind, classes)
    here, after = groups_here_and_after(cells.second, cells.dst, inside, pairs.second, pairs.dst)
    walk = (cells.run_start, cells.run_cell, cells.rows, here, after, flows.start, flows.end)
    longer = _long_keys(cells, flows, seconds, wanted, inside)
    # Each record is active in each second it spans, so the rows' active records are as many
    # as the (row, source) pairs of the walk and of the long records together.
    if int(pairs.active.sum()) > exact_up_to:
        # Bounded memory: one HyperLogLog per (second, destination), fed as the records are
        # walked, without the pairs.
        sketch = HyperLogLog(len(wanted))
        source_pairs(*walk, flows.src, 0, sketch)
        sketch.add(longer & ((1 << _DST_BITS) - 1), longer >> _DST_BITS)
        return np.round(sketch.estimate()).astype(np.int64)
    return distinct_per_pair(
        *walk[:5],
        flows.end,
        flows.src,
        pairs.second,
        pairs.active,
        longer >> _DST_BITS,
        longer & ((1 << _DST_BITS) - 1),
    )


def _pair_keys(seconds: I64, second: I64, dst: I64) -> I64:
    """(second, destination) pairs as the keys ``distinct_sources`` looks up, -1 for seconds
    not among ``seconds``."""
    at = np.minimum(np.searchsorted(seconds, second), len(seconds) - 1)
    keys: I64 = np.where(seconds[at] == second, (at << _DST_BITS) | dst, -1)
    return keys


def _look_up(wanted: I64, keys: I64) -> I64:
    """Where each of ``keys`` lies in the sorted ``wanted``, or -1."""
    at = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)
    found: I64 = np.where((wanted[at] == keys) & (keys >= 0), at, -1)
    return found


def _long_keys(
    cells: Cells, flows: Flows, seconds: I64, wanted: I64, inside: NDArray[np.bool_]
) -> I64:
    """Keys of the third and later seconds of records over three seconds or more."""
    rows = cells.long_rows
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    # Only records towards a destination of the rows can count: few, cut into seconds.
    hosts = distinct(wanted & ((1 << _DST_BITS) - 1))
    dst = flows.dst[rows]
    towards = hosts[np.minimum(np.searchsorted(hosts, dst), len(hosts) - 1)] == dst
    rows = rows[towards]
    run = np.searchsorted(cells.run_start, rows, side="right") - 1
    rows = rows[inside[cells.run_cell[run]]]
    cut = cut_into_seconds(flows.start[rows], flows.end[rows])
    row = rows[cut.flow]
    third = cut.second > np.floor(flows.start[row]).astype(np.int64) + 1
    row, second = row[third], cut.second[third]
    at = _look_up(wanted, _pair_keys(seconds, second, flows.dst[row]))
    keys: I64 = (at[at >= 0] << _DST_BITS) | flows.src[row][at >= 0]
    return keys


def cells_of(flows: Flows, classes: U8) -> Cells:
    """The cells of ``flows`` (possible records, sorted by start) of class ``classes``."""
    if len(flows) == 0:
        return _no_cells()
    if (int(np.floor(flows.start[-1])) - int(np.floor(flows.start[0]))) >> _EPOCH_BITS == 0:
        return _cells_of_span(flows, classes)  # sorted: the first and last tell the span
    second = np.floor(flows.start).astype(np.int64)
    epoch = (second - second[0]) >> _EPOCH_BITS
    # Records years apart (rare, and hostile input can do it): each span of 2**25 seconds on
    # its own, then cells of one key from neighbouring spans summed (records last a day at most).
    cuts = np.flatnonzero(np.diff(epoch)) + 1
    bounds = np.concatenate(([0], cuts, [len(flows)]))
    parts = [
        _cells_of_span(flows.take(slice(a, b)), classes[a:b])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]
    return _joined(parts, bounds[:-1])


def _cells_of_span(flows: Flows, classes: U8) -> Cells:
    """The cells of records less than 2**25 seconds apart, in one compiled pass
    (``cell_kernel.py``)."""
    n = len(flows)
    base = int(np.floor(flows.start[0]))
    runs, spills, long_rows, busiest = survey(flows.start, flows.end, flows.dst, classes)
    slices = _later_slices(flows, classes, base, long_rows)
    # Each run opens at most one cell, each change of the second second's key one more.
    room = runs + spills + len(slices[0])
    out_key, sums = np.empty(room, dtype=np.int64), np.empty((4, room))
    run_start, run_cell = np.empty(runs, dtype=np.int64), np.empty(runs, dtype=np.int64)
    cells, runs = cell_pass(
        flows.start,
        flows.end,
        flows.dst,
        classes,
        flows.packets,
        flows.bytes,
        base,
        slices,
        _table_bits(busiest, slices[0]),
        out_key,
        sums,
        run_start,
        run_cell,
    )
    cell_key, sums = out_key[:cells], sums[:, :cells]
    run_start, run_cell = run_start[:runs], run_cell[:runs]
    return Cells(
        second=(cell_key >> _SECOND_SHIFT) + base,
        dst=(cell_key >> _CLASS_BITS) & ((1 << _DST_BITS) - 1),
        kind=(cell_key & ((1 << _CLASS_BITS) - 1)).astype(np.uint8),
        packets=sums[0],
        bytes=sums[1],
        started=sums[2],
        active=sums[3],
        run_start=run_start,
        run_cell=run_cell,
        rows=n,
        long_rows=long_rows,
    )


def _table_bits(busiest: int, slice_key: I64) -> int:
    """Bits of the slots of ``cell_pass``'s tables: at least twice the cells one second can
    hold (its records, those of the second before, and the slices in it), given the most
    records starting in one second."""
    if len(slice_key):
        seconds = slice_key >> _SECOND_SHIFT
        cuts = np.flatnonzero(np.concatenate(([True], seconds[1:] != seconds[:-1], [True])))
        busiest_slices = int(np.diff(cuts).max())
    else:
        busiest_slices = 0
    return max(int(4 * (2 * busiest + busiest_slices)).bit_length(), 4)


def _later_slices(flows: Flows, classes: U8, base: int, long: I64) -> tuple[I64, F64, F64]:
    """The third and later one-second slices (key, packets, bytes) of the records ``long``
    (over three seconds or more), grouped by second (``cell_kernel.later_slices_pass``)."""
    return later_slices_pass(
        flows.start, flows.end, flows.dst, classes, flows.packets, flows.bytes, long, base
    )


def _group_index(n: int, opens: NDArray[np.intp]) -> I64:
    """For ``n`` sorted rows whose groups open at ``opens``, the group of each row."""
    flags = np.zeros(n, dtype=np.int64)
    flags[opens] = 1
    index: I64 = np.cumsum(flags) - 1
    return index


def _joined(parts: list[Cells], offsets: I64) -> Cells:
    """Cells of consecutive parts of a batch as one, cells of equal key summed."""
    second = np.concatenate([p.second for p in parts])
    dst = np.concatenate([p.dst for p in parts])
    kind = np.concatenate([p.kind for p in parts])
    order = np.lexsort((kind, dst, second))
    ordered = (second[order], dst[order], kind[order])
    new = np.ones(len(order), dtype=np.bool_)
    new[1:] = (np.diff(ordered[0]) != 0) | (np.diff(ordered[1]) != 0)
    new[1:] |= np.diff(ordered[2].astype(np.int64)) != 0
    opens = np.flatnonzero(new)
    where = np.empty(len(order), dtype=np.int64)
    where[order] = _group_index(len(order), opens)
    at = np.cumsum([0] + [len(p) for p in parts])
    run_cell = np.concatenate([where[a + p.run_cell] for a, p in zip(at, parts, strict=False)])
    run_start = np.concatenate([p.run_start + o for p, o in zip(parts, offsets, strict=True)])

    def summed(name: str) -> F64:
        values = np.concatenate([getattr(p, name) for p in parts])
        total: F64 = np.add.reduceat(values[order], opens)
        return total

    return Cells(
        second=ordered[0][opens],
        dst=ordered[1][opens],
        kind=ordered[2][opens],
        packets=summed("packets"),
        bytes=summed("bytes"),
        started=summed("started"),
        active=summed("active"),
        run_start=run_start,
        run_cell=run_cell,
        rows=sum(p.rows for p in parts),
        long_rows=np.concatenate([p.long_rows + o for p, o in zip(parts, offsets, strict=True)]),
    )


def _no_cells() -> Cells:
    i, f = np.zeros(0, dtype=np.int64), np.zeros(0)
    return Cells(i, i, np.zeros(0, dtype=np.uint8), f, f, f, f, i, i, 0, i)
