"""Indicator hits: records to or from an address or network the mission holds as an indicator.

The store's indicators (shared intelligence, party reports, earlier incidents) that are IPv4 or
IPv6 addresses or networks become a watchlist. Every record of a batch is matched at both ends
by longest prefix (one table lookup per end, ``mission/prefixes.py``); the records that meet
an indicator are grouped by (indicator, the other end, direction) and each group becomes one
Detection of kind ``indicator-hit``, stage ``precursor``: traffic with a known bad address is a
warning, not yet an attack. The other end is the host the detection is about, so the mandate's
borders name its party and safe area, and the early warning (``store/early_warning.py``) tells
that party. The per-record work is vectorised; the loop is over groups, at most
``max_detections`` per batch (the loudest by bytes; the number left out is in each
explanation).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.detection import Detection, Source
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.quantities import count
from cyberpeace.mission import NO_MATCH, Borders, PrefixTable4, PrefixTable6

NAME, KIND, VERSION = "indicator-hit", "indicator-hit", 1
MAX_DETECTIONS = 200
DIRECTIONS = ("from the indicator", "to the indicator")


@dataclass(frozen=True)
class Indicator:
    """A watched address or network and where it came from."""

    value: str
    source: str
    tlp: str


class Watchlist:
    """Indicators that are addresses or networks, for a longest-prefix match of both ends."""

    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self.indicators: list[Indicator] = []
        v4: list[ipaddress.IPv4Network] = []
        v6: list[ipaddress.IPv6Network] = []
        v4_labels: list[int] = []
        v6_labels: list[int] = []
        for indicator in indicators:
            try:
                network = ipaddress.ip_network(indicator.value.strip(), strict=False)
            except ValueError:
                continue  # a domain, hash or URL: not for flows
            label = len(self.indicators)
            self.indicators.append(indicator)
            if isinstance(network, ipaddress.IPv4Network):
                v4.append(network)
                v4_labels.append(label)
            else:
                v6.append(network)
                v6_labels.append(label)
        self._v4 = PrefixTable4(v4, v4_labels) if v4 else None
        self._v6 = PrefixTable6(v6, v6_labels) if v6 else None

    def __len__(self) -> int:
        return len(self.indicators)

    def match(self, batch: Batch, ids: NDArray[np.int64]) -> NDArray[np.int32]:
        """The index of the indicator each address id lies in, or NO_MATCH."""
        empty = np.full(len(ids), NO_MATCH, dtype=np.int32)
        if not self.indicators:
            return empty
        v4 = self._v4.lookup if self._v4 is not None else _nothing
        v6 = self._v6.lookup if self._v6 is not None else _nothing
        return batch.addresses.look_up(ids, v4, v6)

    def observe(self, batch: Batch, borders: Borders | None = None) -> list[Detection]:
        """One detection per (indicator, other end, direction) met in the batch."""
        flows = batch.flows
        if not self.indicators or len(flows) == 0:
            return []
        at_src, at_dst = self.match(batch, flows.src), self.match(batch, flows.dst)
        hit = (at_src != NO_MATCH) | (at_dst != NO_MATCH)
        rows = np.flatnonzero(hit)
        if len(rows) == 0:
            return []
        from_indicator = at_src[rows] != NO_MATCH  # the source is the known one
        indicator = np.where(from_indicator, at_src[rows], at_dst[rows]).astype(np.int64)
        other = np.where(from_indicator, flows.dst[rows], flows.src[rows])
        keys = np.stack([indicator, (~from_indicator).astype(np.int64), other], axis=1)
        groups, group = np.unique(keys, axis=0, return_inverse=True)
        group = group.ravel()
        n = len(groups)
        packets = np.bincount(group, flows.packets[rows].astype(np.float64), n)
        octets = np.bincount(group, flows.bytes[rows].astype(np.float64), n)
        records = np.bincount(group, minlength=n)
        first = np.full(n, np.inf)
        last = np.full(n, -np.inf)
        np.minimum.at(first, group, flows.start[rows])
        np.maximum.at(last, group, flows.end[rows])
        loudest = np.argsort(-octets, kind="stable")[:MAX_DETECTIONS]
        left_out = n - len(loudest)
        party = _names(batch, borders, groups[loudest, 2], "party")
        area = _names(batch, borders, groups[loudest, 2], "safe_area")
        found = []
        for j, g in enumerate(loudest.tolist()):  # one step per group, not per record
            found.append(
                self._detection(
                    batch,
                    groups[g],
                    (float(packets[g]), float(octets[g]), int(records[g])),
                    (float(first[g]), float(last[g])),
                    (party[j], area[j]),
                    left_out,
                )
            )
        return found

    def _detection(
        self,
        batch: Batch,
        key: NDArray[np.int64],
        totals: tuple[float, float, int],
        span: tuple[float, float],
        place: tuple[str | None, str | None],
        left_out: int,
    ) -> Detection:
        indicator = self.indicators[int(key[0])]
        direction = DIRECTIONS[int(key[1])]
        host = batch.addresses.text(int(key[2]))
        packets, octets, records = totals
        start, end = span
        seconds = max(end - start, 1.0)
        summary = (
            f"{KIND} on {host}: {count(records)} records ({count(packets)} packets, "
            f"{count(octets)} bytes) {direction} {indicator.value} "
            f"(from {indicator.source}, {indicator.tlp})."
        )
        return Detection(
            detector=NAME,
            kind=KIND,
            target=host,
            party=place[0],
            safe_area=place[1],
            start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(max(end, start), UTC),
            severity="medium",
            confidence=0.7,  # an indicator can be stale or shared infrastructure
            magnitude={
                "packets": packets,
                "bytes": octets,
                "records": float(records),
                "mean_pps": round(packets / seconds, 1),
            },
            sources=[
                Source(address=indicator.value, share=1.0, packets=int(packets), bytes=int(octets))
            ],
            explanation={
                "summary": summary,
                "detector": NAME,
                "version": VERSION,
                "stage": "precursor",
                "indicator": {
                    "value": indicator.value,
                    "source": indicator.source,
                    "tlp": indicator.tlp,
                },
                "direction": direction,
                "pairs_left_out": left_out,
            },
        )


def _nothing(addresses: NDArray[np.generic]) -> NDArray[np.int32]:
    return np.full(len(addresses), NO_MATCH, dtype=np.int32)


def _names(
    batch: Batch, borders: Borders | None, ids: NDArray[np.int64], what: str
) -> list[str | None]:
    if borders is None:
        return [None] * len(ids)
    if what == "party":
        index, names = batch.addresses.party(borders, ids), borders.party_ids
    else:
        index, names = batch.addresses.safe_area(borders, ids), borders.safe_area_ids
    return [names[i] if i != NO_MATCH else None for i in index.tolist()]
