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
    count = np.maximum(np.ceil(end).astype(np.int64) - first_second, 1)
    n, total = len(start), int(count.sum())
    if total == n:  # every flow within one second: one slice each, all of it
        return Seconds(
            np.arange(n, dtype=np.int64), first_second, np.ones(n), np.ones(n, dtype=np.bool_)
        )
    opens = np.cumsum(count) - count  # where each flow's slices begin
    flow = np.repeat(np.arange(n, dtype=np.int64), count)
    second = np.repeat(first_second - opens, count) + np.arange(total, dtype=np.int64)
    first = np.zeros(total, dtype=np.bool_)
    first[opens] = True
    share = np.ones(total)
    # Only flows over several seconds need their share reckoned.
    spread = np.flatnonzero(np.repeat(count > 1, count))
    of, at = flow[spread], second[spread]
    overlap = np.minimum(end[of], at + 1.0) - np.maximum(start[of], at)
    share[spread] = np.clip(overlap, 0.0, None) / (end[of] - start[of])
    return Seconds(flow, second, share, first)
