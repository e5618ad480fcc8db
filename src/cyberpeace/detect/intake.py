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

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE, Addresses
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.cells import Cells, cells_of, classify, of_classes
from cyberpeace.detect.flows import Flows, read_flows
from cyberpeace.detect.groups import Groups, group_by
from cyberpeace.detect.intake_kernel import all_possible_pass
from cyberpeace.detect.seconds import Seconds, cut_into_seconds
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

    def __init__(self, flows: Flows) -> None:
        self.flows = flows
        self._rows_to: dict[int, NDArray[np.int64]] = {}

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
        """The traffic class of each record (``cells.py``)."""
        return classify(self.flows)

    @cached_property
    def cells(self) -> Cells:
        """The batch summed per (second, destination host, traffic class)."""
        return cells_of(self.flows, self.classes)

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
        return float((self.flows.end - self.flows.start).max()) if len(self) else 0.0

    def towards(self, host: int, first: float, after: float, classes: tuple[int, ...]) -> Flows:
        """The records of traffic ``classes`` towards one host active at some time in
        [first, after), found through the cells rather than by reading every record."""
        rows = self._rows_to.get(host)
        if rows is None:
            rows = self._rows_to[host] = self.cells.rows_of(self.cells.dst == host)
        starts = self.flows.start
        low = int(np.searchsorted(starts, first - self.longest, side="left"))
        high = int(np.searchsorted(starts, after, side="left"))
        part = rows[np.searchsorted(rows, low) : np.searchsorted(rows, high)]
        keep = (self.flows.end[part] >= first) & of_classes(self.classes[part], classes)
        return self.flows.take(part[keep])

    def active(self, first: float, after: float) -> Flows:
        """The records active at some time in [first, after)."""
        starts = self.flows.start
        low = int(np.searchsorted(starts, first - self.longest, side="left"))
        high = int(np.searchsorted(starts, after, side="left"))
        part = self.flows.take(slice(low, high))
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
        flows.start,
        flows.end,
        flows.packets,
        flows.bytes,
        now + thresholds.max_clock_ahead_s,
        thresholds.max_flow_s,
        _EPOCH_END,
        20 * (1 + _HAIR),  # quotients round: within a hair of a limit, let the masks decide
        65_535 * (1 - _HAIR),
        _SHORTEST_DURATION_S,
        _MIN_FRAME_BITS,
        thresholds.max_link_bps * (1 - _HAIR),
    )
    return possible


def take_in(
    flows: pa.Table | pa.RecordBatch,
    allow_list: AllowList,
    thresholds: Thresholds,
    now: float | None = None,
) -> tuple[Batch, FlowCounts]:
    """The batch to examine, and what was refused or dropped on the way in.

    ``now`` (seconds since the epoch, default the clock) is when the records are taken in.
    """
    columns, missing = read_flows(flows)
    now = time.time() if now is None else now
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
