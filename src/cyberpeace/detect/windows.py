"""Windows: the batch measured per destination and second, and per source and scan window.

``per_destination`` gives, for every second and destination host that received traffic, its
packets/s, bits/s (as bytes), new flows/s and distinct sources, from the one-second slices of
``seconds.py``; ``slices_per_destination`` lets a detector sum its own per-record quantities over
the same groups. ``ports_per_host`` and ``hosts_per_port`` give, for every source and scan window,
how many distinct ports it touched on one host, and how many hosts of one network on one port;
``sessions_per_service`` how many records it sent to one port of one host.
All of it is sorting and reducing columns (``groups.py``), never a loop over records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE
from cyberpeace.detect.groups import group_by, sort_rows
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
    sources: I64  # distinct source addresses (when counted)


@dataclass(frozen=True)
class DestinationSlices:
    """The batch's one-second slices grouped by (second, destination), once per batch.

    A detector that looks at some records only passes them as ``select`` (one flag per record):
    the sums are weighted by it, so every detector shares the one sort of the slices, and groups
    without any selected record sum to zero (no threshold is zero, so they never fire).
    """

    index: I64  # the group of each slice
    flow: I64  # the record of each slice
    share: F64  # of the record's packets and bytes in the slice
    first: Mask  # the slice in which the record started
    second: I64  # of each group
    dst: I64

    def _sum(self, weights: F64 | Mask) -> F64:
        return np.bincount(self.index, weights, minlength=len(self.second)).astype(np.float64)

    def spread(self, per_record: F64, select: Mask | None = None) -> F64:
        """Per group, the sum of a per-record quantity spread over its seconds (packets)."""
        weights = per_record[self.flow] * self.share
        return self._sum(weights if select is None else weights * select[self.flow])

    def started(self, select: Mask | None = None) -> F64:
        """Per group, the (selected) records that started in the second."""
        return self._sum(self.first if select is None else self.first & select[self.flow])

    def active(self, select: Mask | None = None) -> F64:
        """Per group, the (selected) records active in the second."""
        return self._sum(np.ones(len(self.flow)) if select is None else select[self.flow])

    def distinct(
        self,
        per_record: NDArray[np.integer],
        select: Mask | None = None,
        groups: Mask | None = None,
    ) -> I64:
        """Per group, the distinct values of a per-record column among the selected records;
        only in the ``groups`` flagged (one flag per group), zero in the others."""
        rows = np.ones(len(self.flow), dtype=np.bool_) if select is None else select[self.flow]
        if groups is not None:
            rows &= groups[self.index]
        group, values = self.index[rows], per_record[self.flow[rows]]
        order = sort_rows(group, values)
        group, values = group[order], values[order]
        new = np.ones(len(order), dtype=np.bool_)
        new[1:] = (group[1:] != group[:-1]) | (values[1:] != values[:-1])
        return np.bincount(group[new], minlength=len(self.second)).astype(np.int64)


def slices_per_destination(batch: Batch) -> DestinationSlices:
    """The batch's one-second slices by second and destination host (sorted once per batch)."""
    cut, groups = batch.seconds, batch.destination_groups
    opening = groups.order[groups.starts]
    return DestinationSlices(
        index=groups.index.astype(np.int64),
        flow=cut.flow,
        share=cut.share,
        first=cut.first,
        second=cut.second[opening],
        dst=batch.flows.dst[cut.flow[opening]],
    )


def per_destination(
    batch: Batch, select: Mask | None = None, *, count_sources: bool = False
) -> DestinationSeconds:
    """One row per (second, destination) over the selected records (all when None); distinct
    sources only when ``count_sources`` (they cost a sort), else zeros."""
    slices = slices_per_destination(batch)
    sources = np.zeros(len(slices.second), dtype=np.int64)
    if count_sources:
        sources = slices.distinct(batch.flows.src, select)
    return DestinationSeconds(
        second=slices.second,
        dst=slices.dst,
        packets=slices.spread(batch.packets, select),
        bytes=slices.spread(batch.bytes, select),
        flows=slices.started(select),
        sources=sources,
    )


@dataclass(frozen=True)
class SourceWindows:
    """What one source touched in one scan window, per target host or per (network, port)."""

    window: I64  # window start, seconds since the epoch
    src: I64
    target: I64  # host address id, or network id for sweeps (``Addresses.network_of``)
    prefix_len: I64  # of the target: a host (32, 128) or the sweep's network
    port: I64  # the destination port of a sweep; -1 for ports-per-host rows
    distinct: I64  # distinct ports (per host), hosts (per network and port) or source ports
    probes: I64  # records counted

    def hit_columns(self) -> dict[str, I64]:
        """The columns a detector's Hits keep of each row: window, target, actor, port."""
        return {
            "window": self.window,
            "target": self.target,
            "prefix_len": self.prefix_len,
            "actor": self.src,
            "port": self.port,
        }


def _windows(batch: Batch, select: Mask | I64, window_s: int) -> tuple[I64, I64]:
    """The chosen rows (a flag per record, or row numbers ascending) and the scan window of
    each: only the columns a table needs are gathered, and only at those rows."""
    rows: I64 = (
        np.flatnonzero(select) if select.dtype == np.bool_ else select.astype(np.int64, copy=False)
    )
    second = np.floor(batch.flows.start[rows]).astype(np.int64)
    window: I64 = second - second % window_s
    return rows, window


def ports_per_host(batch: Batch, select: Mask | I64, window_s: int) -> SourceWindows:
    """Distinct destination ports per (window, source, destination host)."""
    rows, window = _windows(batch, select, window_s)
    src, dst = batch.flows.src[rows], batch.flows.dst[rows]
    groups = group_by(window, src, dst)
    target = groups.key(dst).astype(np.int64)
    return SourceWindows(
        window=groups.key(window).astype(np.int64),
        src=groups.key(src).astype(np.int64),
        target=target,
        prefix_len=batch.addresses.host_len(target),
        port=np.full(len(groups), -1, dtype=np.int64),
        distinct=groups.distinct(batch.flows.dst_port[rows]),
        probes=groups.size(),
    )


def hosts_per_port(
    batch: Batch, select: Mask | I64, window_s: int, prefix_len: int, prefix_len_v6: int = 64
) -> SourceWindows:
    """Distinct destination hosts per (window, source, destination port, network): IPv4
    networks of ``prefix_len``, IPv6 ones of ``prefix_len_v6``."""
    rows, window = _windows(batch, select, window_s)
    src, dst = batch.flows.src[rows], batch.flows.dst[rows]
    table = batch.addresses
    wide = dst >= V6_BASE
    network = table.network_of(dst, prefix_len)
    if wide.any():
        network[wide] = table.network_of(dst[wide], prefix_len_v6)
    port = batch.flows.dst_port[rows].astype(np.int64)
    groups = group_by(window, src, port, network)
    target = groups.key(network).astype(np.int64)
    return SourceWindows(
        window=groups.key(window).astype(np.int64),
        src=groups.key(src).astype(np.int64),
        target=target,
        prefix_len=np.where(target >= V6_BASE, prefix_len_v6, prefix_len).astype(np.int64),
        port=groups.key(port).astype(np.int64),
        distinct=groups.distinct(dst),
        probes=groups.size(),
    )


def sessions_per_service(batch: Batch, select: Mask | I64, window_s: int) -> SourceWindows:
    """Records per (window, source, destination host, destination port), with the distinct
    source ports they came from."""
    rows, window = _windows(batch, select, window_s)
    src, dst = batch.flows.src[rows], batch.flows.dst[rows]
    port = batch.flows.dst_port[rows].astype(np.int64)
    groups = group_by(window, src, dst, port)
    target = groups.key(dst).astype(np.int64)
    return SourceWindows(
        window=groups.key(window).astype(np.int64),
        src=groups.key(src).astype(np.int64),
        target=target,
        prefix_len=batch.addresses.host_len(target),
        port=groups.key(port).astype(np.int64),
        distinct=groups.distinct(batch.flows.src_port[rows]),
        probes=groups.size(),
    )
