"""Volumetric floods: too many packets, bits or new flows per second towards one host.

The per-host rate test of flow-based DDoS detectors such as FastNetMon: each one-second window
of traffic towards a destination fires when its packets/s, bits/s or new flows/s reach the
thresholds. It says nothing of how the flood is made; when a more specific flood detector
(reflection, SYN, ICMP or fragment flood) fires on the same target and time and its traffic
carries most of this one's, the engine keeps that detection only and notes the volumetric one
in its explanation (``engine.explained_away``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.cells import ALL_CLASSES
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import bit_rate, count
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.rows import sums_of
from cyberpeace.detect.screen import Floors
from cyberpeace.detect.thresholds import Thresholds

_PROTOCOLS = {1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 58: "ICMPv6"}


@register
class Volumetric:
    name = "volumetric"
    kind = "volumetric-flood"
    stage: Stage = "attack"
    version = 1
    prior = 0.5  # a flash crowd or a backup job can reach the same rates
    generic = True  # a more specific flood detector on the same traffic replaces it (engine)

    classes = ALL_CLASSES

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        table = batch.cells.totals(self.classes)
        rules = (
            Rule("pps", thresholds.volumetric_pps, "packets/s"),
            Rule("bps", thresholds.volumetric_bps, "bits/s"),
            Rule("fps", thresholds.volumetric_fps, "new flows/s"),
        )
        numbers = {"pps": table.packets, "bps": table.bytes * 8, "fps": table.started}
        columns = {"window": table.second, "target": table.dst}
        return Hits.where_fired(1, rules, columns, numbers)

    def floors(self, thresholds: Thresholds) -> Floors:
        return Floors(
            thresholds.volumetric_pps, thresholds.volumetric_bps, thresholds.volumetric_fps
        )

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        return np.ones(len(flows), dtype=np.bool_)

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        mix = protocol_mix(traffic)
        main = next(iter(mix), "traffic")
        summary = (
            f"{main} traffic towards the host peaked at {count(measures.peak_pps)} packets/s "
            f"({bit_rate(measures.peak_bps)}, {count(measures.peak_fps)} new flows/s) from "
            f"{count(measures.sources)} sources over {episode.windows} one-second windows."
        )
        return Explained(summary, {"protocols": mix})


def protocol_mix(traffic: Flows) -> dict[str, float]:
    """Each IP protocol's share of the bytes, largest first (read off the sums of a view
    that carries them, ``rows.py``)."""
    sums = sums_of(traffic)
    records: NDArray[np.int64]
    size: NDArray[Any]
    if sums is not None:
        records, size = sums.per_protocol()
    else:
        size = np.bincount(traffic.protocol, traffic.bytes.astype(np.float64), 256)
        records = np.bincount(traffic.protocol, minlength=256)
    seen = np.flatnonzero(records)
    total = float(size.sum()) or 1.0
    names = [_PROTOCOLS.get(int(p), f"protocol {int(p)}") for p in seen]
    ranked = sorted(zip(names, size[seen], strict=True), key=lambda item: -item[1])
    return {name: round(float(value) / total, 4) for name, value in ranked}
