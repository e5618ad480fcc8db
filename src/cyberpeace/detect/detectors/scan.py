"""Scans: one source probing many ports of a host (vertical) or one port on many hosts
(horizontal), per scan window.

Only probes count: TCP records of at most ``probe_max_packets`` packets that never acknowledge
anything (SYN, FIN, NULL and Xmas probes; every segment of a real connection after the first SYN
carries ACK, RFC 9293 section 3.10.7), or that open and reset a connection without data (SYN,
ACK and RST without PSH: a connect() scan). Clients that complete connections are not counted,
so a busy client or a crawler does not look like a scanner, and neither do a host's answers to a
scan (they carry ACK). UDP scans are not detected yet: a resolver asking many servers on port 53
looks the same in flow records.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.cells import SYN_ONLY, TCP_ACK, TCP_OTHER
from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.groups import distinct
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.quantities import count, listing
from cyberpeace.detect.registry import Explained, Stage, register
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.detect.windows import SourceWindows, hosts_per_port, ports_per_host
from cyberpeace.telemetry.protocols import ACK, PSH, RST, SYN, TCP


def probes(flows: Flows, max_packets: int) -> NDArray[np.bool_]:
    """Records that look like scan probes (see the module docstring)."""
    flags = flows.tcp_flags
    small = (flows.protocol == TCP) & (flows.packets <= max_packets)
    unacknowledged = (flags & ACK) == 0
    connect_probe = (flags & (SYN | ACK | RST | PSH)) == (SYN | ACK | RST)
    found: NDArray[np.bool_] = small & (unacknowledged | connect_probe)
    return found


def _probe_rows(batch: Batch, thresholds: Thresholds) -> NDArray[np.int64]:
    """The rows of ``probes`` (ascending), told by the records' traffic classes (``cells.py``:
    TCP without ACK is SYN-only or other TCP; a connect() probe is TCP with ACK) before their
    packets are read."""
    kind, flags = batch.classes, batch.flows.tcp_flags
    unacknowledged = (kind == SYN_ONLY) | (kind == TCP_OTHER)
    connect_probe = (kind == TCP_ACK) & ((flags & (SYN | ACK | RST | PSH)) == (SYN | ACK | RST))
    rows = np.flatnonzero(unacknowledged | connect_probe)
    small: NDArray[np.int64] = rows[batch.flows.packets[rows] <= thresholds.probe_max_packets]
    return small


def _hits(table: SourceWindows, rule: Rule, window_s: int) -> Hits:
    numbers = {
        rule.metric: table.distinct.astype(np.float64),
        "probes": table.probes.astype(np.float64),
    }
    return Hits.where_fired(window_s, (rule,), table.hit_columns(), numbers)


def _span(measures: Measures) -> str:
    seconds = measures.end - measures.start
    return f"{seconds / 60:.1f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds"


def _source(episode: Episode, traffic: Flows) -> str:
    return traffic.addresses.text(episode.actor or 0)


@register
class VerticalScan:
    name = "vertical-scan"
    kind = "port-scan"
    stage: Stage = "precursor"
    version = 1
    prior = 0.8

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        table = ports_per_host(batch, _probe_rows(batch, thresholds), thresholds.scan_window_s)
        rule = Rule("ports", thresholds.vertical_ports, "distinct ports on one host")
        return _hits(table, rule, thresholds.scan_window_s)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        return probes(flows, thresholds.probe_max_packets)

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        ports = distinct(traffic.dst_port)
        summary = (
            f"{_source(episode, traffic)} probed {count(len(ports))} TCP ports of the host "
            f"in {_span(measures)} ({count(measures.packets)} probe packets)."
        )
        low, high = (int(ports.min()), int(ports.max())) if len(ports) else (0, 0)
        return Explained(summary, {"ports_probed": len(ports), "port_range": [low, high]})


@register
class HorizontalScan:
    name = "horizontal-scan"
    kind = "host-sweep"
    stage: Stage = "precursor"
    version = 1
    prior = 0.8

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        select = _probe_rows(batch, thresholds)
        plen = thresholds.sweep_prefix_len
        plen6 = thresholds.sweep_prefix_len_v6
        window = thresholds.scan_window_s
        table = hosts_per_port(batch, select, window, plen, plen6)
        unit = f"distinct hosts of one /{plen} (IPv6: /{plen6})"
        return _hits(table, Rule("hosts", thresholds.horizontal_hosts, unit), window)

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        return probes(flows, thresholds.probe_max_packets)

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        listed = [str(p) for p in episode.ports]
        ports = f"port {listed[0]}" if len(listed) == 1 else "ports " + listing(listed)
        summary = (
            f"{_source(episode, traffic)} probed {count(measures.hosts)} hosts of the network "
            f"on TCP "
            f"{ports} in {_span(measures)} ({count(measures.packets)} probe packets)."
        )
        return Explained(summary, {"hosts_probed": measures.hosts, "ports": list(episode.ports)})
