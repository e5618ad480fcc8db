"""Taking flows in: refuse impossible records (counted, logged), drop allow-listed sources, and
hold the rest as the batch the detectors read.

A record is impossible when no exporter could have produced it from real packets:

* its times are not finite, before 1970 or from 2106 on (IPFIX dateTimeSeconds and the NetFlow
  v5 header clock are 32-bit seconds since the epoch, RFC 7011 section 6.1.7);
* it ends before it starts;
* it lasts longer than ``Thresholds.max_flow_s`` (exporters cut records at their active timeout);
* it holds no packets;
* it holds fewer bytes than 20 per packet or more than 65,535 per packet (the shortest IPv4
  header and the largest IPv4 total length, RFC 791 section 3.1).

Each refused record is counted under the first reason that applies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.seconds import Seconds, cut_into_seconds
from cyberpeace.telemetry.flows import Flows, require_flows

log = logging.getLogger("cyberpeace.detect")

_EPOCH_END = float(1 << 32)


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

    def __len__(self) -> int:
        return len(self.flows)

    @cached_property
    def packets(self) -> NDArray[np.float64]:
        return self.flows["packets"].astype(np.float64)

    @cached_property
    def bytes(self) -> NDArray[np.float64]:
        return self.flows["bytes"].astype(np.float64)

    @cached_property
    def seconds(self) -> Seconds:
        return cut_into_seconds(self.flows["start"], self.flows["end"])

    @cached_property
    def longest(self) -> float:
        return float((self.flows["end"] - self.flows["start"]).max()) if len(self) else 0.0

    def active(self, first: float, after: float) -> Flows:
        """The records active at some time in [first, after)."""
        starts = self.flows["start"]
        low = int(np.searchsorted(starts, first - self.longest, side="left"))
        high = int(np.searchsorted(starts, after, side="left"))
        part = self.flows[low:high]
        return part[part["end"] >= first]


def impossible_reasons(flows: Flows, max_flow_s: float) -> dict[str, NDArray[np.bool_]]:
    """For each reason a record can be impossible, which records it applies to."""
    start, end = flows["start"], flows["end"]
    packets, size = flows["packets"].astype(np.float64), flows["bytes"].astype(np.float64)
    with np.errstate(all="ignore"):  # NaN and infinite times are what is being looked for
        return {
            "time outside the 32-bit epoch": ~(
                np.isfinite(start)
                & np.isfinite(end)
                & (start >= 0)
                & (end >= 0)
                & (start < _EPOCH_END)
                & (end < _EPOCH_END)
            ),
            "ends before it starts": end < start,
            "longer than the longest active timeout": (end - start) > max_flow_s,
            "no packets": packets == 0,
            "fewer than 20 bytes per packet": size < 20 * packets,
            "more than 65535 bytes per packet": size > 65_535 * packets,
        }


def take_in(flows: Flows, allow_list: AllowList, max_flow_s: float) -> tuple[Batch, FlowCounts]:
    """The batch to examine, and what was refused or dropped on the way in."""
    require_flows(flows)
    refused = np.zeros(len(flows), dtype=np.bool_)
    counts: dict[str, int] = {}
    for reason, applies in impossible_reasons(flows, max_flow_s).items():
        fresh = applies & ~refused
        if fresh.any():
            counts[reason] = int(fresh.sum())
            refused |= fresh
    if counts:
        log.warning("refused %d impossible flow records: %s", int(refused.sum()), counts)
    allowed = allow_list.holds_v4(flows["src"]) & ~refused
    kept = flows[~(refused | allowed)]
    kept = kept[np.argsort(kept["start"], kind="stable")]
    return Batch(kept), FlowCounts(len(flows), counts, int(allowed.sum()))
