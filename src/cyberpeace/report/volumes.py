"""Traffic volumes behind detections: flows between parties, top sources, peak rates over time.

Each detection holds its top sources (address, party, packets, bytes, share); the report sums
those. Rates come from each detection's magnitude (``peak_pps``) over the span it was active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from cyberpeace.store.tables import DetectionRow

UNATTRIBUTED = "unattributed"  # sources in no party's territory


@dataclass(frozen=True)
class PartyFlow:
    source: str
    target: str
    bytes: int
    packets: int


@dataclass(frozen=True)
class SourceVolume:
    address: str
    party: str
    bytes: int
    packets: int


@dataclass(frozen=True)
class RateSeries:
    starts: list[datetime]  # the start of each bin
    seconds: float  # the width of a bin
    peak_pps: list[float]  # the highest peak packet rate of a detection active in the bin


def _source_rows(detections: Sequence[DetectionRow]) -> list[tuple[str, str, str, int, int]]:
    """(address, source party, target party, bytes, packets) for every recorded source."""
    return [
        (
            str(s.get("address", "?")),
            str(s.get("party") or UNATTRIBUTED),
            d.party_id or UNATTRIBUTED,
            int(s.get("bytes", 0)),
            int(s.get("packets", 0)),
        )
        for d in detections
        for s in d.sources
    ]


def party_flows(detections: Sequence[DetectionRow]) -> list[PartyFlow]:
    """Volume from each source party to each target party, largest first."""
    totals: dict[tuple[str, str], list[int]] = {}
    for _, source, target, size, packets in _source_rows(detections):
        total = totals.setdefault((source, target), [0, 0])
        total[0] += size
        total[1] += packets
    flows = [PartyFlow(s, t, b, p) for (s, t), (b, p) in totals.items()]
    return sorted(flows, key=lambda f: (-f.bytes, f.source, f.target))


def top_sources(detections: Sequence[DetectionRow], count: int) -> list[SourceVolume]:
    """The ``count`` source addresses that sent the most bytes, over all detections."""
    totals: dict[str, list[int]] = {}
    parties: dict[str, str] = {}
    for address, party, _, size, packets in _source_rows(detections):
        total = totals.setdefault(address, [0, 0])
        total[0] += size
        total[1] += packets
        parties[address] = party
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))[:count]
    return [SourceVolume(a, parties[a], b, p) for a, (b, p) in ranked]


def peak_rates(
    detections: Sequence[DetectionRow], start: datetime, end: datetime, bins: int
) -> RateSeries:
    """The highest ``peak_pps`` among detections overlapping each of ``bins`` equal bins."""
    t0, t1 = start.timestamp(), max(end.timestamp(), start.timestamp() + bins)
    width = (t1 - t0) / bins
    edges = t0 + width * np.arange(bins + 1)
    if detections:
        starts = np.array([d.start.timestamp() for d in detections])
        ends = np.array([d.end.timestamp() for d in detections])
        rates = np.array([float(d.magnitude.get("peak_pps", 0) or 0) for d in detections])
        # bins x detections: is the detection active in the bin? A zero-length detection counts
        # in the bin holding its start.
        active = (starts[None, :] < edges[1:, None]) & (
            np.maximum(ends, starts + 1e-6)[None, :] > edges[:-1, None]
        )
        peaks = np.where(active, rates[None, :], 0.0).max(axis=1)
    else:
        peaks = np.zeros(bins)
    moments = [datetime.fromtimestamp(float(e), UTC) for e in edges[:-1]]
    return RateSeries(moments, width, [float(p) for p in peaks])
