"""The size of an episode, measured on the records that make it up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.flows import Flows
from cyberpeace.detect.groups import count_distinct
from cyberpeace.detect.rows import sums_of
from cyberpeace.detect.seconds import cut_into_seconds


@dataclass(frozen=True)
class Measures:
    """Peak one-second rates and totals of an episode's traffic within its time span."""

    start: float  # the first record's start, clipped to the span
    end: float  # the last record's end, clipped to the span
    peak_pps: float
    peak_bps: float
    peak_fps: float
    packets: float
    bytes: float
    sources: int  # distinct source addresses
    hosts: int  # distinct destination addresses
    ports: int  # distinct destination ports
    peak_at: float = 0.0  # start of the second of the highest packet rate

    def as_magnitude(self, windows: int) -> dict[str, float]:
        return {
            "peak_pps": round(self.peak_pps, 1),
            "peak_bps": round(self.peak_bps, 1),
            "peak_fps": round(self.peak_fps, 1),
            "packets": round(self.packets),
            "bytes": round(self.bytes),
            "windows": windows,
            "sources": self.sources,
            "hosts": self.hosts,
            "ports": self.ports,
            "duration_s": round(self.end - self.start, 3),
        }


PerSecond = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def measure(
    traffic: Flows,
    first: int,
    after: int,
    per_second: PerSecond | None = None,
    sources: int | None = None,
) -> Measures:
    """Measure ``traffic`` over the whole seconds from ``first`` up to ``after``.

    ``per_second`` gives the packets, bytes and records started in each of those seconds when
    they are known already (from the cells, ``Cells.per_second``), ``sources`` the distinct
    sources; else they are reckoned from the records.
    """
    if len(traffic) == 0:
        return Measures(float(first), float(after), 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0)
    packets, size, started = per_second or _per_second(traffic, first, after)
    sums = sums_of(traffic)
    if sums is not None and per_second is not None:  # a view carrying its sums: read them
        return Measures(
            start=max(float(first), sums.start),
            end=min(float(after), sums.end),
            peak_pps=float(packets.max()),
            peak_bps=float(size.max()) * 8,
            peak_fps=float(started.max()),
            packets=float(packets.sum()),
            bytes=float(size.sum()),
            sources=len(sums.address) if sources is None else sources,
            hosts=1,  # a view with sums holds the records towards one host (``Batch.towards``)
            ports=sums.ports,
            peak_at=float(first + int(np.argmax(packets))),
        )
    return Measures(
        start=max(float(first), float(traffic.start.min())),
        end=min(float(after), float(traffic.end.max())),
        peak_pps=float(packets.max()),
        peak_bps=float(size.max()) * 8,
        peak_fps=float(started.max()),
        packets=float(packets.sum()),
        bytes=float(size.sum()),
        sources=count_distinct(traffic.src) if sources is None else sources,
        hosts=_hosts(traffic),
        ports=count_distinct(traffic.dst_port),
        peak_at=float(first + int(np.argmax(packets))),
    )


def _hosts(traffic: Flows) -> int:
    if traffic.dst.min() == traffic.dst.max():
        return 1
    return count_distinct(traffic.dst)


def _per_second(traffic: Flows, first: int, after: int) -> PerSecond:
    cut = cut_into_seconds(traffic.start, traffic.end)
    inside = (cut.second >= first) & (cut.second < after)
    slot = cut.second[inside] - first
    flow, share = cut.flow[inside], cut.share[inside]
    span = after - first
    packets = np.bincount(slot, traffic.packets[flow].astype(np.float64) * share, span)
    size = np.bincount(slot, traffic.bytes[flow].astype(np.float64) * share, span)
    started = np.bincount(slot[cut.first[inside]], minlength=span).astype(np.float64)
    return packets.astype(np.float64), size.astype(np.float64), started
