"""ICMP floods: too many ICMP or ICMPv6 packets or bits per second towards one host.

Each one-second window of ICMP (protocol 1, RFC 792) and ICMPv6 (protocol 58, RFC 4443)
traffic towards a destination fires when it reaches ``icmp_flood_pps`` packets/s or
``icmp_flood_bps`` bits/s. Ordinary ICMP is sparse: echo requests from monitors, and error
messages that senders rate-limit (RFC 4443 section 2.4 (f)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.cells import ICMP_ANY
from cyberpeace.detect.detectors.volumetric import protocol_mix
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import bit_rate, count
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.screen import Floors
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.telemetry.protocols import ICMP, ICMPV6


@register
class IcmpFlood:
    name = "icmp-flood"
    kind = "icmp-flood"
    stage: Stage = "attack"
    version = 1
    prior = 0.6  # a misconfigured monitor can ping hard, but rarely this hard

    classes = (ICMP_ANY,)

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        table = batch.cells.totals(self.classes)
        rules = (
            Rule("pps", thresholds.icmp_flood_pps, "ICMP packets/s"),
            Rule("bps", thresholds.icmp_flood_bps, "ICMP bits/s"),
        )
        numbers = {"pps": table.packets, "bps": table.bytes * 8}
        columns = {"window": table.second, "target": table.dst}
        return Hits.where_fired(1, rules, columns, numbers)

    def floors(self, thresholds: Thresholds) -> Floors:
        return Floors(packets=thresholds.icmp_flood_pps, bits=thresholds.icmp_flood_bps)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        icmp: NDArray[np.bool_] = (flows.protocol == ICMP) | (flows.protocol == ICMPV6)
        return icmp

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        mix = protocol_mix(traffic)
        main = next(iter(mix), "ICMP")
        summary = (
            f"{main} towards the host peaked at {count(measures.peak_pps)} packets/s "
            f"({bit_rate(measures.peak_bps)}) from {count(measures.sources)} sources over "
            f"{episode.windows} one-second windows."
        )
        return Explained(summary, {"protocols": mix})
