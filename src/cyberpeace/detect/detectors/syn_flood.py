"""TCP SYN floods: connection requests towards one host that never become connections.

Each one-second window of TCP traffic towards a destination fires when its SYN-only records
(SYN set and never an ACK: the client's half of a handshake that did not complete, RFC 9293
section 3.5) reach ``syn_flood_pps`` packets/s or ``syn_flood_fps`` records/s, and make up at
least ``syn_flood_share`` of the host's TCP records active in that second. A busy server takes
as many SYNs, but its clients go on to acknowledge, so their records carry ACK and the share
stays low. The flood fills the host's backlog of half-open connections (RFC 4987 section 3).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.cells import SYN_ONLY, TCP_CLASSES
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import count
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.screen import Floors
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.telemetry.protocols import ACK, SYN, TCP


def syn_only(flows: Flows) -> NDArray[np.bool_]:
    """TCP records with SYN and without ACK."""
    found: NDArray[np.bool_] = (flows.protocol == TCP) & ((flows.tcp_flags & (SYN | ACK)) == SYN)
    return found


@register
class SynFlood:
    name = "syn-flood"
    kind = "syn-flood"
    stage: Stage = "attack"
    version = 1
    prior = 0.7  # the share of handshakes left open rules out a merely busy server

    classes = TCP_CLASSES

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        half_open = batch.cells.totals((SYN_ONLY,), within=TCP_CLASSES)
        rules = (
            Rule("syn_share", thresholds.syn_flood_share, "of the host's TCP flows", required=True),
            Rule("syn_pps", thresholds.syn_flood_pps, "SYN packets/s"),
            Rule("syn_fps", thresholds.syn_flood_fps, "SYN-only flows/s"),
        )
        share = np.zeros(len(half_open.second))
        # The share needs all TCP records too: only worth summing when a rate reached its
        # threshold somewhere (the share alone never fires, ``hits.fired``).
        if (rules[1].holds(half_open.packets) | rules[2].holds(half_open.started)).any():
            tcp = batch.cells.totals(TCP_CLASSES)  # the same rows: the same ``within``
            share = half_open.active / np.maximum(tcp.active, 1.0)
        numbers = {
            "syn_share": share,
            "syn_pps": half_open.packets,
            "syn_fps": half_open.started,
        }
        columns = {"window": half_open.second, "target": half_open.dst}
        return Hits.where_fired(1, rules, columns, numbers)

    def floors(self, thresholds: Thresholds) -> Floors:
        return Floors(packets=thresholds.syn_flood_pps, started=thresholds.syn_flood_fps)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        tcp: NDArray[np.bool_] = flows.protocol == TCP
        return tcp

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        half_open = syn_only(traffic)
        completed = int(((traffic.tcp_flags & ACK) != 0).sum())
        share = float(half_open.mean()) if len(traffic) else 0.0
        summary = (
            f"SYN-only TCP records towards the host peaked at {count(measures.peak_fps)} new "
            f"flows/s ({count(measures.peak_pps)} packets/s) from {count(measures.sources)} "
            f"sources over {episode.windows} one-second windows; {share:.0%} of its TCP records "
            f"never saw an ACK ({count(completed)} did)."
        )
        details = {
            "syn_only_flows": int(half_open.sum()),
            "flows_with_ack": completed,
            "syn_only_share": round(share, 4),
        }
        return Explained(summary, details)
