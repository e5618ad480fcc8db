"""What the collector counts: per exporter, per sink, and for the collector as a whole.

All counts are totals since the collector started (Prometheus counters); ``last_seen`` is UNIX
seconds of the newest datagram (0 before any), ``last_error`` the newest refusal's reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ExporterCounters:
    """One exporter (a source IP address)."""

    datagrams: int = 0  # received, decoded or not
    bytes: int = 0  # UDP payload octets received
    flows: int = 0  # flow records decoded
    malformed: int = 0  # datagrams, sets or records refused (see last_error)
    unknown_template: int = 0  # data sets dropped because their template never came in time
    templates: int = 0  # template records learnt, refreshed or withdrawn
    dropped_batches: int = 0  # decoded batches a slow sink had no room for (once per sink)
    dropped_flows: int = 0  # the flows in those batches
    dropped_datagrams: int = 0  # datagrams of bursts dropped before decoding (decoder behind)
    last_seen: float = 0.0
    last_error: str = ""


@dataclass
class SinkCounters:
    """One sink: what it was given, what it had no room for, how often it raised."""

    name: str
    batches: int = 0
    flows: int = 0
    dropped_batches: int = 0
    dropped_flows: int = 0
    errors: int = 0
    last_error: str = ""


@dataclass
class CollectorTotals:
    """The collector as a whole: losses that belong to no one exporter."""

    listeners: int = 0
    receive_buffer: int = 0  # smallest SO_RCVBUF granted to a listener, in octets
    kernel_drops: int = 0  # datagrams the kernel dropped: a full socket buffer (SO_MEMINFO)
    dropped_bursts: int = 0  # bursts of datagrams dropped before decoding (queue full)
    dropped_burst_datagrams: int = 0
    queued_bursts: int = 0  # bursts waiting for the decoder now
