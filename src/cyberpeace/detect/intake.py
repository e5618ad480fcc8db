"""Taking flows in: refuse impossible records (counted, logged), drop allow-listed sources, and
hold the rest as the batch the detectors read.

A record is impossible when no exporter could have produced it from real packets:

* a column it needs is null;
* its times are before 1970 or from 2106 on (IPFIX dateTimeSeconds and the NetFlow v5 header
  clock are 32-bit seconds since the epoch, RFC 7011 section 6.1.7);
* it starts or ends more than ``Thresholds.max_clock_ahead_s`` after the time of intake (a flow
  is reported after it was seen; a clock that far ahead is wrong);
* it ends before it starts;
* it lasts longer than ``Thresholds.max_flow_s`` (exporters cut records at their active timeout);
* it holds no packets;
* it holds fewer bytes than 20 per packet (the shortest IPv4 header, RFC 791 section 3.1) or
  more than an IP packet can hold: 65,535 bytes for IPv4 (total length), 65,575 for IPv6 (the
  40-byte header and a 65,535-byte payload, RFC 8200 section 3; jumbograms, RFC 2675, are not
  believed from flow records);
* it carries more bits or packets than a link of ``Thresholds.max_link_bps`` could in its
  duration (durations under a millisecond count as one: exporters' clocks are no finer).

Each refused record is counted under the first reason that applies.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE, Addresses
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.cells import (
    Cells,
    amplifier_marks,
    cells_of,
    class_table,
    classify,
    of_classes,
)
from cyberpeace.detect.flows import Flows, raw_columns, read_flows
from cyberpeace.detect.groups import Groups, group_by
from cyberpeace.detect.intake_kernel import all_possible_pass, intake_pass
from cyberpeace.detect.rows import Gathered, RowView
from cyberpeace.detect.screen import Floors, loud_rows
from cyberpeace.detect.seconds import Seconds, cut_into_seconds
from cyberpeace.detect.sources import EXACT_UP_TO
from cyberpeace.detect.thresholds import Thresholds

log = logging.getLogger("cyberpeace.detect")

_EPOCH_END = float(1 << 32)
_SHORTEST_DURATION_S = 1e-3
_MIN_FRAME_BITS = 84 * 8  # the smallest Ethernet frame with preamble and gap (IEEE 802.3)
_HAIR = 1e-9


@dataclass(frozen=True)
class FlowCounts:
    """What became of the records handed to the engine."""

    received: int
    impossible: dict[str, int]  # reason -> records refused for it
    allow_listed: int

    @property
    def examined(self) -> int:
        return self.received - sum(self.impossible.values()) - self.allow_listed


class Batch:
    """The records the detectors examine: possible, not allow-listed, sorted by start."""

    def __init__(
        self,
        flows: Flows,
        classes: NDArray[np.uint8] | None = None,
        longest: float | None = None,
    ) -> None:
        self.flows = flows
        self._classes = classes
        if longest is not None:  # told by intake: no pass of its own
            self.__dict__["longest"] = longest
        self._runs: dict[int, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.uint8]]] = {}
        self._gathered: dict[tuple[int, float, float], Gathered] = {}
        self._loud: dict[Floors, Batch | None] = {}

    def __len__(self) -> int:
        return len(self.flows)

    @property
    def addresses(self) -> Addresses:
        return self.flows.addresses

    @cached_property
    def packets(self) -> NDArray[np.float64]:
        return self.flows.packets.astype(np.float64)

    @cached_property
    def bytes(self) -> NDArray[np.float64]:
        return self.flows.bytes.astype(np.float64)

    @cached_property
    def classes(self) -> NDArray[np.uint8]:
        """The traffic class of each record (``cells.py``), unless intake told them."""
        return classify(self.flows) if self._classes is None else self._classes

    @cached_property
    def cells(self) -> Cells:
        """The batch summed per (second, destination host, traffic class)."""
        return cells_of(self.flows, self.classes)

    def loud(self, floors: Floors) -> Batch:
        """The records towards destinations that might reach ``floors`` in some second, as a
        batch of its own (``screen.py``): every record of each such destination, so its cells
        are this batch's; this batch itself when screening would not pay."""
        if floors not in self._loud:  # None: screening would not pay (no cycle to self)
            rows = loud_rows(self.flows, floors, self.longest)
            screened = None if rows is None else RowView(self.flows, rows)
            self._loud[floors] = None if screened is None else Batch(screened, self.classes[rows])
        part = self._loud[floors]
        return self if part is None else part

    @cached_property
    def seconds(self) -> Seconds:
        return cut_into_seconds(self.flows.start, self.flows.end)

    @cached_property
    def destination_groups(self) -> Groups:
        """The one-second slices grouped by (second, destination host)."""
        cut = self.seconds
        return group_by(cut.second, self.flows.dst[cut.flow])

    @cached_property
    def longest(self) -> float:
        """The longest record's duration."""
        return float((self.flows.end - self.flows.start).max()) if len(self) else 0.0

    def towards(self, host: int, first: float, after: float, classes: tuple[int, ...]) -> Flows:
        """The records of traffic ``classes`` towards one host active at some time in
        [first, after), found through the cells rather than by reading every record: a view
        (``rows.py``) carrying their sums from one pass over the host's records of every class
        in the span, which the episodes of other detectors on the same host and span share.
        Beyond ``sources.EXACT_UP_TO`` records the view carries no sums (memory stays bounded:
        ``sources.source_totals`` then keeps the heavy sources only)."""
        starts = self.flows.start
        low = int(np.searchsorted(starts, first - self.longest, side="left"))
        high = int(np.searchsorted(starts, after, side="left"))
        run_first, run_end, run_kind = self._runs_to(host)
        since = max(int(np.searchsorted(run_first, low, side="right")) - 1, 0)
        runs = slice(since, int(np.searchsorted(run_first, high, side="left")))
        spans = np.minimum(run_end[runs], high) - np.maximum(run_first[runs], low)
        if int(np.maximum(spans, 0).sum()) > EXACT_UP_TO:
            rows = self.cells.rows_of(self.cells.dst == host)
            part = rows[np.searchsorted(rows, low) : np.searchsorted(rows, high)]
            keep = (self.flows.end[part] >= first) & of_classes(self.classes[part], classes)
            return RowView(self.flows, part[keep])
        key = (host, first, after)
        gathered = self._gathered.get(key)
        if gathered is None:
            mine = (run_first[runs], run_end[runs], run_kind[runs])
            gathered = Gathered.of(self.flows, mine, low, high, first)
            self._gathered[key] = gathered
        return gathered.part(self.flows, classes)

    def _runs_to(self, host: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.uint8]]:
        """The runs of records towards ``host`` (``Cells.run_start``: consecutive records of
        one cell): the first row, the row after the last and the class of each."""
        held = self._runs.get(host)
        if held is None:
            cells = self.cells
            mine = np.flatnonzero(cells.dst[cells.run_cell] == host)
            after = mine + 1
            ends = np.full(len(mine), cells.rows, dtype=np.int64)
            inside = after < len(cells.run_start)
            ends[inside] = cells.run_start[after[inside]]
            held = (cells.run_start[mine], ends, cells.kind[cells.run_cell[mine]])
            self._runs[host] = held
        return held

    def active(self, first: float, after: float) -> Flows:
        """The records active at some time in [first, after) (a view: ``rows.py``)."""
        starts = self.flows.start
        low = int(np.searchsorted(starts, first - self.longest, side="left"))
        high = int(np.searchsorted(starts, after, side="left"))
        part = RowView(self.flows, slice(low, high))
        return part.take(part.end >= first)


def impossible_reasons(
    flows: Flows, missing: NDArray[np.bool_], thresholds: Thresholds, now: float
) -> dict[str, NDArray[np.bool_]]:
    """For each reason a record can be impossible, which records it applies to."""
    start, end = flows.start, flows.end
    packets, size = flows.packets.astype(np.float64), flows.bytes.astype(np.float64)
    duration = np.maximum(end - start, _SHORTEST_DURATION_S)
    largest = np.where(flows.src >= V6_BASE, 65_575.0, 65_535.0)
    ahead = now + thresholds.max_clock_ahead_s
    link = thresholds.max_link_bps
    return {
        "missing values": missing,
        "time outside the 32-bit epoch": (start < 0)
        | (end < 0)
        | (start >= _EPOCH_END)
        | (end >= _EPOCH_END),
        "in the future": (start > ahead) | (end > ahead),
        "ends before it starts": end < start,
        "longer than the longest active timeout": (end - start) > thresholds.max_flow_s,
        "no packets": packets == 0,
        "fewer than 20 bytes per packet": size < 20 * packets,
        "more bytes per packet than IP allows": size > largest * packets,
        "faster than any link": (size * 8 > link * duration)
        | (packets * _MIN_FRAME_BITS > link * duration),
    }


def all_possible(
    flows: Flows, missing: NDArray[np.bool_], thresholds: Thresholds, now: float
) -> bool:
    """True when no record is impossible (the usual case), told by one compiled pass that
    stops at the first record near or beyond a limit (``intake_kernel.py``), at a fraction of
    the cost of ``impossible_reasons``' one mask per reason. False is not a verdict: the masks
    then say which records are impossible."""
    if len(flows) == 0:
        return True
    if missing.any():
        return False
    possible: bool = all_possible_pass(
        flows.start, flows.end, flows.packets, flows.bytes, *_limits(thresholds, now).tolist()
    )
    return possible


def _limits(thresholds: Thresholds, now: float) -> NDArray[np.float64]:
    """The limits of ``all_possible_pass``, in its order."""
    return np.array(
        [
            now + thresholds.max_clock_ahead_s,
            thresholds.max_flow_s,
            _EPOCH_END,
            20 * (1 + _HAIR),  # quotients round: within a hair of a limit, let the masks decide
            65_535 * (1 - _HAIR),
            _SHORTEST_DURATION_S,
            _MIN_FRAME_BITS,
            thresholds.max_link_bps * (1 - _HAIR),
        ]
    )


def _taken_in_one_pass(
    raw: dict[str, NDArray[Any]], allow_list: AllowList, thresholds: Thresholds, now: float
) -> tuple[Batch, FlowCounts] | None:
    """``take_in`` in one compiled pass (``intake_kernel.intake_pass``) for the usual batch:
    IPv4 only, no record impossible or near a limit. None for any other batch."""
    n = len(raw["start"])
    if n == 0:
        return None
    first, last = allow_list.v4_ranges
    kept, allowed, ordered, longest, times, small, counts, ttls = intake_pass(
        raw["start"],
        raw["end"],
        raw["src_addr"],
        raw["dst_addr"],
        raw["src_port"],
        raw["dst_port"],
        raw["protocol"],
        raw["tcp_flags"],
        raw["packets"],
        raw["bytes"],
        raw["src_as"],
        (raw["min_ttl"], raw["max_ttl"]),
        first,
        last,
        _limits(thresholds, now),
        amplifier_marks(),
        class_table(),
    )
    if kept < 0:
        return None
    # The columns are packed at the front of arrays of the batch's length: keep views when
    # little was dropped, copies when the rest would hold much memory for nothing.
    trimmed: list[NDArray[Any]] = [column[:kept] for column in (*times, *small, *counts, *ttls)]
    if kept < n // 2:
        trimmed = [column.copy() for column in trimmed]
    start, end, src, dst, src_port, dst_port, protocol, tcp_flags, packets, size, src_as, kind = (
        trimmed[:12]
    )
    min_ttl, max_ttl = trimmed[12:]  # empty when the batch carries none: Flows fills zeros
    columns = Flows(
        addresses=Addresses(np.zeros(0, np.uint64), np.zeros(0, np.uint64)),
        start=start,
        end=end,
        src=src,
        dst=dst,
        src_port=src_port,
        dst_port=dst_port,
        protocol=protocol,
        tcp_flags=tcp_flags,
        packets=packets,
        bytes=size,
        src_as=src_as,
        min_ttl=min_ttl,
        max_ttl=max_ttl,
    )
    if not ordered:
        order = np.argsort(columns.start, kind="stable")
        columns, kind = columns.take(order), kind[order]
    return Batch(columns, kind, longest), FlowCounts(n, {}, allowed)


def take_in(
    flows: pa.Table | pa.RecordBatch,
    allow_list: AllowList,
    thresholds: Thresholds,
    now: float | None = None,
) -> tuple[Batch, FlowCounts]:
    """The batch to examine, and what was refused or dropped on the way in.

    ``now`` (seconds since the epoch, default the clock) is when the records are taken in.
    """
    now = time.time() if now is None else now
    raw = raw_columns(flows)
    if raw is not None:
        taken = _taken_in_one_pass(raw, allow_list, thresholds, now)
        if taken is not None:
            return taken
    return taken_in_by_columns(flows, allow_list, thresholds, now)


def taken_in_by_columns(
    flows: pa.Table | pa.RecordBatch, allow_list: AllowList, thresholds: Thresholds, now: float
) -> tuple[Batch, FlowCounts]:
    """``take_in`` one whole-column step at a time: any batch (IPv6, impossible records)."""
    columns, missing = read_flows(flows)
    refused = np.zeros(len(columns), dtype=np.bool_)
    counts: dict[str, int] = {}
    possible = all_possible(columns, missing, thresholds, now)
    reasons = {} if possible else impossible_reasons(columns, missing, thresholds, now)
    for reason, applies in reasons.items():
        fresh = applies & ~refused
        if fresh.any():
            counts[reason] = int(fresh.sum())
            refused |= fresh
    if counts:
        log.warning("refused %d impossible flow records: %s", int(refused.sum()), counts)
    allowed = allow_list.holds(columns.addresses, columns.src)
    if counts:
        allowed &= ~refused
    dropped = refused | allowed
    kept = columns.take(~dropped) if dropped.any() else columns
    if len(kept) > 1 and (kept.start[1:] < kept.start[:-1]).any():
        kept = kept.take(np.argsort(kept.start, kind="stable"))
    return Batch(kept), FlowCounts(len(columns), counts, int(allowed.sum()))
