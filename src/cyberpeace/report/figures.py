"""The figures of a report, drawn from the detections it holds: the party map and two charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cyberpeace.report.charts import BarChart, column_chart, row_chart
from cyberpeace.report.party_map import PartyMap, party_map, volume_text
from cyberpeace.report.policy import policy
from cyberpeace.report.volumes import party_flows, peak_rates, top_sources
from cyberpeace.store.tables import DetectionRow


@dataclass(frozen=True)
class Figures:
    party_map: PartyMap
    rate_chart: BarChart
    source_chart: BarChart


def rate_text(pps: float) -> str:
    """412000 -> '412k pps'."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if pps >= size:
            return f"{pps / size:.3g}{unit} pps"
    return f"{pps:.0f} pps"


def figures(
    detections: Sequence[DetectionRow], start: datetime, end: datetime, names: Mapping[str, str]
) -> Figures:
    limits = policy().limits
    rates = peak_rates(detections, start, end, limits.rate_bins)
    fmt = "%H:%M" if rates.seconds * limits.rate_bins <= 86_400 else "%m-%d %H:%M"
    rate_chart = column_chart(
        "Peak packet rate of the attacks over time",
        [f"{moment:{fmt}}" for moment in rates.starts],
        rates.peak_pps,
        [rate_text(v) for v in rates.peak_pps],
    )
    sources = top_sources(detections, limits.top_sources)
    source_chart = row_chart(
        "Top sources by volume",
        [f"{s.address} ({s.party})" for s in sources],
        [float(s.bytes) for s in sources],
        [volume_text(s.bytes) for s in sources],
    )
    return Figures(party_map(party_flows(detections), names), rate_chart, source_chart)
