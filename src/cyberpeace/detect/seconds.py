"""Flows cut at second boundaries, so that rates per one-second window are exact.

A flow record says how many packets and bytes passed between its start and end, not when; the
packets are spread evenly over its duration (the usual assumption of flow-based rate meters),
and each second a flow overlaps receives its share. A flow within one second keeps all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Seconds:
    """One slice per flow per second it was active."""

    flow: NDArray[np.int64]  # index of the flow in its batch
    second: NDArray[np.int64]  # the second, as whole seconds since the epoch
    share: NDArray[np.float64]  # of the flow's packets and bytes that fell in that second
    first: NDArray[np.bool_]  # the slice in which the flow started


def cut_into_seconds(start: NDArray[np.float64], end: NDArray[np.float64]) -> Seconds:
    """Slices of flows that start at ``start`` and end at ``end`` (finite, end >= start)."""
    first_second = np.floor(start).astype(np.int64)
    last_second = np.maximum(np.ceil(end).astype(np.int64) - 1, first_second)
    count = last_second - first_second + 1
    flow = np.repeat(np.arange(len(start), dtype=np.int64), count)
    opens = np.cumsum(count) - count  # where each flow's slices begin
    offset = np.arange(len(flow), dtype=np.int64) - np.repeat(opens, count)
    second = first_second[flow] + offset
    duration = (end - start)[flow]
    overlap = np.minimum(end[flow], second + 1.0) - np.maximum(start[flow], second)
    single = count[flow] == 1
    safe = np.where(single, 1.0, duration)
    share = np.where(single, 1.0, np.clip(overlap, 0.0, None) / safe)
    return Seconds(flow, second, share, offset == 0)
