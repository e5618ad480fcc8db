"""The sources behind an episode: the largest by bytes, with their share, port and party."""

from __future__ import annotations

import ipaddress

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.detection import Source
from cyberpeace.detect.groups import group_by
from cyberpeace.mission import NO_MATCH, Borders
from cyberpeace.telemetry.flows import Flows


def top_sources(traffic: Flows, borders: Borders | None, limit: int) -> list[Source]:
    """Up to ``limit`` sources, most bytes first (ties by address); share is of all bytes."""
    if len(traffic) == 0:
        return []
    groups = group_by(traffic["src"])
    addresses = groups.key(traffic["src"]).astype(np.uint32)
    packets, size = groups.sum(traffic["packets"]), groups.sum(traffic["bytes"])
    weight, total = (size, float(size.sum())) if size.sum() > 0 else (packets, packets.sum())
    top = np.lexsort((addresses, -weight))[:limit]
    chosen = addresses[top]
    ports = main_source_port(traffic, chosen)
    parties = borders.party_v4(chosen) if borders else np.full(len(chosen), NO_MATCH)
    party_ids = borders.party_ids if borders else []
    return [
        Source(
            address=str(ipaddress.IPv4Address(int(chosen[i]))),
            share=min(1.0, round(float(weight[top[i]]) / float(total or 1.0), 4)),
            packets=round(float(packets[top[i]])),
            bytes=round(float(size[top[i]])),
            party=party_ids[parties[i]] if parties[i] != NO_MATCH else None,
            port=int(ports[i]),
        )
        for i in range(len(chosen))
    ]


def main_source_port(traffic: Flows, sources: NDArray[np.uint32]) -> NDArray[np.int64]:
    """For each of ``sources``, the source port that carried most of its packets."""
    mine = traffic[np.isin(traffic["src"], sources)]
    groups = group_by(mine["src"], mine["sport"])
    src, port = groups.key(mine["src"]), groups.key(mine["sport"])
    packets = groups.sum(mine["packets"])
    order = np.lexsort((port, -packets, src))  # per source: most packets, then lowest port
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = src[order][1:] != src[order][:-1]
    best_src, best_port = src[order][first], port[order][first]
    return best_port[np.searchsorted(best_src, sources)].astype(np.int64)
