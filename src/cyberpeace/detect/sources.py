"""The sources behind an episode: the largest by bytes, with their share, port and party."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.detection import Source
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.groups import group_by
from cyberpeace.detect.hash_groups import rows_by_value, sums_by_group
from cyberpeace.detect.heavy_hitters import HeavyHitters
from cyberpeace.detect.rows import RowView, sums_of
from cyberpeace.mission import NO_MATCH, Borders

EXACT_UP_TO = 1 << 22
HEAVY_CAPACITY = 1_000


@dataclass(frozen=True)
class SourceTotals:
    """Packets and bytes per distinct source address of some traffic."""

    address: NDArray[np.int64]
    packets: NDArray[np.float64]
    bytes: NDArray[np.float64]
    # The traffic's rows grouped by source (``order[opens[i]:]`` up to the next opening holds
    # the rows of ``address[i]``), when the totals were summed from that traffic; else empty.
    order: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    opens: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    def __len__(self) -> int:
        return len(self.address)

    def rows_of(self, traffic: Flows, sources: NDArray[np.int64]) -> NDArray[np.intp]:
        """The rows of ``traffic`` (ascending) sent by ``sources``: read off the grouping kept
        from the sum when there is one (no pass over the traffic), else one ``np.isin``."""
        if len(self.opens) != len(self.address) or len(self.order) != len(traffic):
            return np.flatnonzero(np.isin(traffic.src, sources))
        at = np.searchsorted(self.address, sources)
        held = at < len(self.address)
        held[held] = self.address[at[held]] == sources[held]
        at = at[held]
        ends = np.append(self.opens[1:], len(self.order))
        parts = [self.order[self.opens[i] : ends[i]] for i in at.tolist()]
        rows: NDArray[np.intp] = np.sort(np.concatenate(parts)) if parts else self.order[:0]
        return rows


def source_totals(traffic: Flows, exact_up_to: int = EXACT_UP_TO) -> SourceTotals:
    """The traffic summed per source (one sort of the sources); beyond ``exact_up_to`` records,
    only the heaviest sources by bytes (``heavy_hitters.py``) summed exactly, so that memory
    stays bounded with millions of sources. A view carrying its sums (``rows.py``) has them
    read off."""
    sums = sums_of(traffic)
    if sums is not None:
        return SourceTotals(sums.address, sums.packets, sums.bytes)
    if len(traffic) > exact_up_to:
        summary = HeavyHitters(HEAVY_CAPACITY)
        summary.add(traffic.src, traffic.bytes)
        traffic = traffic.take(np.isin(traffic.src, summary.keys))
        groups = group_by(traffic.src)
        addresses = groups.key(traffic.src).astype(np.int64)
        return SourceTotals(addresses, groups.sum(traffic.packets), groups.sum(traffic.bytes))
    # One hashing pass groups the rows by source (``hash_groups.py``); the sums read them.
    addresses, order, opens, group = rows_by_value(traffic.src)
    packets = sums_by_group(traffic.packets, group, len(addresses))
    size = sums_by_group(traffic.bytes, group, len(addresses))
    return SourceTotals(addresses, packets, size, order, opens)


def sent_by(traffic: Flows, totals: SourceTotals, sources: NDArray[np.int64]) -> Flows:
    """The records of ``traffic`` sent by ``sources``, of the traffic's ``totals``."""
    sums = sums_of(traffic)
    if sums is None:
        return traffic.take(totals.rows_of(traffic, sources))
    return RowView(sums.flows, sums.rows_of(sources))


def top_order(totals: SourceTotals, limit: int) -> NDArray[np.intp]:
    """Which of ``totals`` are the ``limit`` largest: most bytes (else packets), then address."""
    weight = totals.bytes if totals.bytes.sum() > 0 else totals.packets
    order: NDArray[np.intp] = np.lexsort((totals.address, -weight))[:limit]
    return order


def top_sources(
    traffic: Flows, borders: Borders | None, limit: int, totals: SourceTotals | None = None
) -> list[Source]:
    """Up to ``limit`` sources, most bytes first (ties by address); share is of all bytes.
    ``totals`` are the traffic's ``source_totals``, when reckoned already."""
    if len(traffic) == 0:
        return []
    totals = totals or source_totals(traffic)
    addresses, packets, size = totals.address, totals.packets, totals.bytes
    weight, total = (size, float(size.sum())) if size.sum() > 0 else (packets, packets.sum())
    top = top_order(totals, limit)
    chosen = addresses[top]
    ports = main_source_ports(traffic, totals, top)
    table = traffic.addresses
    parties = table.party(borders, chosen) if borders else np.full(len(chosen), NO_MATCH)
    party_ids = borders.party_ids if borders else []
    return [
        Source(
            address=table.text(int(chosen[i])),
            share=min(1.0, round(float(weight[top[i]]) / float(total or 1.0), 4)),
            packets=round(float(packets[top[i]])),
            bytes=round(float(size[top[i]])),
            party=party_ids[parties[i]] if parties[i] != NO_MATCH else None,
            port=int(ports[i]),
        )
        for i in range(len(chosen))
    ]


def main_source_port(
    traffic: Flows, sources: NDArray[np.int64], rows: NDArray[np.intp] | None = None
) -> NDArray[np.int64]:
    """For each of ``sources``, the source port that carried most of its packets; ``rows`` are
    the rows of ``traffic`` the sources sent, when known."""
    mine = traffic.take(np.flatnonzero(np.isin(traffic.src, sources)) if rows is None else rows)
    groups = group_by(mine.src, mine.src_port)
    src, port = groups.key(mine.src), groups.key(mine.src_port)
    packets = groups.sum(mine.packets)
    order = np.lexsort((port, -packets, src))  # per source: most packets, then lowest port
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = src[order][1:] != src[order][:-1]
    best_src, best_port = src[order][first], port[order][first]
    return best_port[np.searchsorted(best_src, sources)].astype(np.int64)


def main_source_ports(
    traffic: Flows, totals: SourceTotals, chosen: NDArray[np.intp]
) -> NDArray[np.int64]:
    """``main_source_port`` of the ``chosen`` of ``totals`` (indices): read off the sums of a
    view that carries them (``rows.py``) for each source that sent from one port only, else
    reckoned from the records of the sources that sent from several."""
    sources = totals.address[chosen]
    sums = sums_of(traffic)
    if sums is None:
        return main_source_port(traffic, sources, totals.rows_of(traffic, sources))
    ports = sums.source_ports()[chosen]
    several = ports < 0
    if several.any():
        theirs = sent_by(traffic, totals, sources[several])
        ports[several] = main_source_port(theirs, sources[several])
    return ports
