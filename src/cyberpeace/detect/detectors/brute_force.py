"""Brute force: one source opening many short sessions to one login service of one host.

Counts short sessions: TCP records to a port of ``data/remote_access.yaml`` that carry ACK (the
handshake completed, so a login could be tried; unanswered SYNs are the scan detectors' business)
and hold at most ``brute_max_packets`` packets over at most ``brute_max_session_s`` seconds. A
window of ``brute_window_s`` seconds fires when one source opened ``brute_sessions`` of them to
one port of one host (password guessing, MITRE ATT&CK T1110.001 and T1110.003).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.cells import TCP_ACK
from cyberpeace.detect.detectors.short_sessions_kernel import short_session_rows
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import count, listing
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.remote_access import remote_access
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.detect.windows import sessions_per_service
from cyberpeace.telemetry.protocols import ACK, TCP


def short_rows(batch: Batch, thresholds: Thresholds) -> NDArray[np.int64]:
    """The rows of ``traffic`` (ascending), looked for among the records of the TCP-with-ACK
    traffic class (``cells.py``) only: the port and size tests then read few records."""
    flows = batch.flows
    rows: NDArray[np.int64] = short_session_rows(
        batch.classes,
        TCP_ACK,
        flows.dst_port,
        remote_access().marks,
        (flows.packets, flows.start, flows.end),
        (thresholds.brute_max_packets, thresholds.brute_max_session_s),
    )
    return rows


@register
class BruteForce:
    name = "brute-force"
    kind = "brute-force"
    stage: Stage = "attack"
    version = 1
    prior = 0.6  # a broken script retrying a login looks the same, and deserves a look too

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        window = thresholds.brute_window_s
        table = sessions_per_service(batch, short_rows(batch, thresholds), window)
        rule = Rule("sessions", thresholds.brute_sessions, "short sessions to one service")
        numbers = {
            "sessions": table.probes.astype(np.float64),
            "source_ports": table.distinct.astype(np.float64),
        }
        return Hits.where_fired(window, (rule,), table.hit_columns(), numbers)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        short: NDArray[np.bool_] = (
            (flows.protocol == TCP)
            & ((flows.tcp_flags & ACK) != 0)
            & (flows.packets <= thresholds.brute_max_packets)
            & (flows.end - flows.start <= thresholds.brute_max_session_s)
            & remote_access().marks[flows.dst_port]
        )
        return short

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        services = remote_access()
        named = [f"{port} ({services.name(port)})" for port in episode.ports]
        ports = "port " if len(named) == 1 else "ports "
        source = traffic.addresses.text(episode.actor or 0)
        seconds = measures.end - measures.start
        per_minute = len(traffic) / max(seconds / 60, episode.window_s / 60)
        summary = (
            f"{source} opened {count(len(traffic))} short TCP sessions to {ports}"
            f"{listing(named)} of the host in {seconds:.0f} seconds "
            f"(about {count(per_minute)} a minute)."
        )
        details = {
            "sessions": len(traffic),
            "services": {str(p): services.name(p) for p in episode.ports},
            "median_packets": float(np.median(traffic.packets)) if len(traffic) else 0.0,
        }
        return Explained(summary, details)
