"""The sources behind an episode: the largest by bytes, with their share, port and party."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.detection import Source
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.groups import group_by
from cyberpeace.mission import NO_MATCH, Borders


def top_sources(traffic: Flows, borders: Borders | None, limit: int) -> list[Source]:
    """Up to ``limit`` sources, most bytes first (ties by address); share is of all bytes."""
    if len(traffic) == 0:
        return []
    groups = group_by(traffic.src)
    addresses = groups.key(traffic.src).astype(np.int64)
    packets, size = groups.sum(traffic.packets), groups.sum(traffic.bytes)
    weight, total = (size, float(size.sum())) if size.sum() > 0 else (packets, packets.sum())
    top = np.lexsort((addresses, -weight))[:limit]
    chosen = addresses[top]
    ports = main_source_port(traffic, chosen)
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


def main_source_port(traffic: Flows, sources: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each of ``sources``, the source port that carried most of its packets."""
    mine = traffic.take(np.isin(traffic.src, sources))
    groups = group_by(mine.src, mine.src_port)
    src, port = groups.key(mine.src), groups.key(mine.src_port)
    packets = groups.sum(mine.packets)
    order = np.lexsort((port, -packets, src))  # per source: most packets, then lowest port
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = src[order][1:] != src[order][:-1]
    best_src, best_port = src[order][first], port[order][first]
    return best_port[np.searchsorted(best_src, sources)].astype(np.int64)
