"""Windows: the batch measured per destination and second, and per source and scan window.

``per_destination`` gives, for every second and destination host that received traffic, its
packets/s, bits/s (as bytes), new flows/s and distinct sources, from the one-second slices of
``seconds.py``. ``ports_per_host`` and ``hosts_per_port`` give, for every source and scan window,
how many distinct ports it touched on one host, and how many hosts of one network on one port.
All of it is sorting and reducing columns (``groups.py``), never a loop over records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.groups import group_by
from cyberpeace.detect.intake import Batch

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class DestinationSeconds:
    """Traffic towards each destination host in each second it received any."""

    second: I64
    dst: I64
    packets: F64  # packets in the second, i.e. packets/s
    bytes: F64
    flows: F64  # flows that started in the second
    sources: I64  # distinct source addresses


def per_destination(batch: Batch, select: Mask | None = None) -> DestinationSeconds:
    """One row per (second, destination) over the selected records (all when None)."""
    cut = batch.seconds
    keep = slice(None) if select is None else select[cut.flow]
    flow, second, share = cut.flow[keep], cut.second[keep], cut.share[keep]
    dst = batch.flows["dst"][flow].astype(np.int64)
    groups = group_by(second, dst)
    return DestinationSeconds(
        second=groups.key(second).astype(np.int64),
        dst=groups.key(dst).astype(np.int64),
        packets=groups.sum(batch.packets[flow] * share),
        bytes=groups.sum(batch.bytes[flow] * share),
        flows=groups.sum(cut.first[keep]),
        sources=groups.distinct(batch.flows["src"][flow]),
    )


@dataclass(frozen=True)
class SourceWindows:
    """What one source touched in one scan window, per target host or per (network, port)."""

    window: I64  # window start, seconds since the epoch
    src: I64
    target: I64  # host address, or network address for sweeps
    port: I64  # the destination port of a sweep; -1 for ports-per-host rows
    distinct: I64  # distinct ports (per host) or distinct hosts (per network and port)
    probes: I64


def _windows(batch: Batch, select: Mask, window_s: int) -> tuple[NDArray[np.void], I64]:
    flows = batch.flows[select]
    second = np.floor(flows["start"]).astype(np.int64)
    return flows, second - second % window_s


def ports_per_host(batch: Batch, select: Mask, window_s: int) -> SourceWindows:
    """Distinct destination ports per (window, source, destination host)."""
    flows, window = _windows(batch, select, window_s)
    src, dst = flows["src"].astype(np.int64), flows["dst"].astype(np.int64)
    groups = group_by(window, src, dst)
    return SourceWindows(
        window=groups.key(window).astype(np.int64),
        src=groups.key(src).astype(np.int64),
        target=groups.key(dst).astype(np.int64),
        port=np.full(len(groups), -1, dtype=np.int64),
        distinct=groups.distinct(flows["dport"]),
        probes=groups.size(),
    )


def hosts_per_port(batch: Batch, select: Mask, window_s: int, prefix_len: int) -> SourceWindows:
    """Distinct destination hosts per (window, source, destination port, /prefix_len network)."""
    flows, window = _windows(batch, select, window_s)
    src, dst = flows["src"].astype(np.int64), flows["dst"].astype(np.int64)
    network = dst & network_mask(prefix_len)
    port = flows["dport"].astype(np.int64)
    groups = group_by(window, src, port, network)
    return SourceWindows(
        window=groups.key(window).astype(np.int64),
        src=groups.key(src).astype(np.int64),
        target=groups.key(network).astype(np.int64),
        port=groups.key(port).astype(np.int64),
        distinct=groups.distinct(dst),
        probes=groups.size(),
    )


def network_mask(prefix_len: int) -> int:
    """The IPv4 netmask of a prefix length, as an integer (0 for /0)."""
    return ((1 << 32) - 1) ^ ((1 << (32 - prefix_len)) - 1)
