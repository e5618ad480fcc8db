"""Fragment floods: too many IP fragments per second towards one host.

A fragment after the first carries no transport header (RFC 791 section 3.2, RFC 8200 section
4.5), so flow meters key it with ports 0 (``telemetry/flow_meter.py``; exporters do the same):
TCP and UDP records with both ports 0 are later fragments (port 0 is reserved and never used,
RFC 6335 section 6, so a "port 0" flood counts too). Each one-second window of them towards a
destination fires when it reaches ``fragment_pps`` packets/s or ``fragment_bps`` bits/s. The
receiver holds every incomplete datagram until it times out (Linux: ipfrag_time 30 s, within at
most ipfrag_high_thresh, 4 MiB, of reassembly memory), so a stream of fragments that never
complete exhausts it; ordinary fragmented traffic (large EDNS answers, RFC 6891 section 6.2.5)
stays at tens per second to one host.

The cells (``cells.py``) keep no class of fragments, so this detector sums its own records,
which are few outside an attack: one cut into seconds and one grouping of those records only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.detectors.volumetric import protocol_mix
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.groups import group_by
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import bit_rate, count
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.seconds import cut_into_seconds
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.telemetry.protocols import TCP, UDP


def later_fragments(flows: Flows) -> NDArray[np.bool_]:
    """TCP and UDP records with both ports 0: fragments after the first."""
    found: NDArray[np.bool_] = (
        ((flows.protocol == UDP) | (flows.protocol == TCP))
        & (flows.src_port == 0)
        & (flows.dst_port == 0)
    )
    return found


def fragment_rows(flows: Flows) -> NDArray[np.int64]:
    """The rows of ``later_fragments`` (ascending): destination port 0 first, which leaves
    few records to test further."""
    rows = np.flatnonzero(flows.dst_port == 0)
    protocol = flows.protocol[rows]
    found: NDArray[np.int64] = rows[
        ((protocol == UDP) | (protocol == TCP)) & (flows.src_port[rows] == 0)
    ]
    return found


@register
class FragmentFlood:
    name = "fragment-flood"
    kind = "fragment-flood"
    stage: Stage = "attack"
    version = 1
    prior = 0.6  # a tunnel with a too-large MTU fragments everything, but rarely this fast

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        fragments = batch.flows.take(fragment_rows(batch.flows))
        cut = cut_into_seconds(fragments.start, fragments.end)
        groups = group_by(cut.second, fragments.dst[cut.flow])
        packets = groups.sum(fragments.packets[cut.flow] * cut.share)
        size = groups.sum(fragments.bytes[cut.flow] * cut.share)
        rules = (
            Rule("pps", thresholds.fragment_pps, "fragment packets/s"),
            Rule("bps", thresholds.fragment_bps, "fragment bits/s"),
        )
        numbers = {"pps": packets, "bps": size * 8}
        columns = {"window": groups.key(cut.second), "target": groups.key(fragments.dst[cut.flow])}
        return Hits.where_fired(1, rules, columns, numbers)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        return later_fragments(flows)

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        mix = protocol_mix(traffic)
        main = next(iter(mix), "IP")
        mean = measures.bytes / measures.packets if measures.packets else 0.0
        summary = (
            f"{main} fragments after the first towards the host peaked at "
            f"{count(measures.peak_pps)} packets/s ({bit_rate(measures.peak_bps)}) from "
            f"{count(measures.sources)} sources over {episode.windows} one-second windows "
            f"(about {count(mean)} bytes a fragment)."
        )
        return Explained(summary, {"protocols": mix, "mean_fragment_bytes": round(mean, 1)})
