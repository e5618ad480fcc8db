"""UDP reflection/amplification: many reflectors answering, from amplifier ports, towards one host.

Each one-second window of UDP traffic from the source ports of ``data/amplifiers.yaml`` towards a
destination fires when it comes from at least ``reflection_sources`` distinct sources and reaches
``reflection_pps`` or ``reflection_bps``. The victim never asked: the attacker sent small
requests with the victim's address as their source (US-CERT alert TA14-017A).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.amplifiers import amplifiers
from cyberpeace.detect.cells import AMPLIFIER, distinct_sources
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hash_groups import distinct_per_group
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import bit_rate, count, listing
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.rows import sums_of
from cyberpeace.detect.screen import Floors
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.telemetry.protocols import UDP


@register
class Reflection:
    name = "reflection"
    kind = "udp-reflection"
    stage: Stage = "attack"
    version = 1
    prior = 0.7  # the port signature and the many sources make an innocent cause unlikely

    classes = (AMPLIFIER,)

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        table = batch.cells.totals(self.classes)
        pps, bps = table.packets, table.bytes * 8
        # Sources cost a sort: count them only where a rate already reached its threshold.
        loud = (pps >= thresholds.reflection_pps) | (bps >= thresholds.reflection_bps)
        sources = np.zeros(len(pps))
        sources[loud] = distinct_sources(batch.cells, batch.flows, table.where(loud), self.classes)
        rules = (
            Rule("sources", thresholds.reflection_sources, "distinct sources", required=True),
            Rule("pps", thresholds.reflection_pps, "packets/s"),
            Rule("bps", thresholds.reflection_bps, "bits/s"),
        )
        numbers = {
            "sources": sources,
            "pps": pps,
            "bps": bps,
        }
        columns = {"window": table.second, "target": table.dst}
        return Hits.where_fired(1, rules, columns, numbers)

    def floors(self, thresholds: Thresholds) -> Floors:
        return Floors(packets=thresholds.reflection_pps, bits=thresholds.reflection_bps)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        from_amplifier: NDArray[np.bool_] = (flows.protocol == UDP) & np.isin(
            flows.src_port, amplifiers().ports
        )
        return from_amplifier

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        services = amplifier_mix(traffic)
        named = [f"{port} ({s['protocol']})" for port, s in list(services.items())[:3]]
        ports = "port " if len(named) == 1 else "ports "
        summary = (
            f"UDP from source {ports}{listing(named)} towards the host peaked at "
            f"{count(measures.peak_pps)} packets/s ({bit_rate(measures.peak_bps)}) from "
            f"{count(measures.sources)} reflectors over {episode.windows} one-second windows."
        )
        return Explained(summary, {"amplifiers": services})


def amplifier_mix(traffic: Flows) -> dict[str, dict[str, object]]:
    """Per amplifier source port, largest share of bytes first: protocol, share, reflectors
    (read off the sums of a view that carries them, ``rows.py``, when every reflector sent
    from one port)."""
    table = amplifiers()
    sums = sums_of(traffic)
    one_port = sums.source_ports() if sums is not None else None
    if sums is not None and one_port is not None and (one_port >= 0).all():
        size = np.bincount(one_port, sums.bytes, 1 << 16)  # each reflector at one port
        reflectors = np.bincount(one_port, minlength=1 << 16)
    else:
        size = np.bincount(traffic.src_port, traffic.bytes.astype(np.float64), 1 << 16)
        reflectors = distinct_per_group(traffic.src_port.astype(np.int64), traffic.src, 1 << 16)
    ports = np.flatnonzero(reflectors)
    total = float(size.sum()) or 1.0
    mix: dict[str, dict[str, object]] = {}
    for i in ports[np.argsort(-size[ports], kind="stable")]:
        port = int(i)
        known = table.by_port.get(port)
        mix[str(port)] = {
            "protocol": table.name(port),
            "share": round(float(size[i]) / total, 4),
            "reflectors": int(reflectors[i]),
            "amplification_factor": known.baf if known else None,
        }
    return mix
