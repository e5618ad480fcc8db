"""Heavy hitters: the largest sources by bytes in fixed memory, fed a column at a time.

A Misra-Gries summary of ``capacity`` counters (J. Misra, D. Gries, "Finding repeated
elements", Science of Computer Programming 2, 1982), in the mergeable form of P. Agarwal et al.,
"Mergeable summaries", PODS 2012, section 3: it is the space-saving algorithm (A. Metwally,
D. Agrawal, A. El Abbadi, ICDT 2005) seen from the other side, and merges without a loop over
items. Each chunk of a column is summed per key exactly (a sort), added to the counters, and the
summary cut back to ``capacity`` keys by subtracting the (capacity+1)-th largest count from all.
So every kept count is at most the true total, and at most ``total / (capacity + 1)`` below it;
any key holding more than that share of the total is kept.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.groups import group_by

CHUNK = 1 << 20  # the most records summed exactly at once: memory stays bounded


class HeavyHitters:
    """The keys of largest weight in a stream of (key, weight) columns."""

    def __init__(self, capacity: int = 1_000) -> None:
        if capacity < 1:
            raise ValueError("a summary holds at least one counter")
        self.capacity = capacity
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.float64)
        self.total = 0.0

    @property
    def error_bound(self) -> float:
        """How far below its true weight a kept count may lie."""
        return self.total / (self.capacity + 1)

    def add(self, keys: NDArray[np.integer], weights: NDArray[np.number] | None = None) -> None:
        """Add ``weights`` (default 1 each) to ``keys``, a chunk of at most ``CHUNK`` at a time."""
        for at in range(0, len(keys), CHUNK):  # chunks, so that exact sums stay bounded
            part = np.asarray(keys[at : at + CHUNK], dtype=np.int64)
            weight = np.ones(len(part)) if weights is None else np.asarray(weights[at : at + CHUNK])
            self._merge(part, weight.astype(np.float64))

    def _merge(self, keys: NDArray[np.int64], weights: NDArray[np.float64]) -> None:
        self.total += float(weights.sum())
        every = np.concatenate([self.keys, keys])
        groups = group_by(every)
        counts = groups.sum(np.concatenate([self.counts, weights]))
        keys = groups.key(every).astype(np.int64)
        if len(keys) > self.capacity:
            cut = np.partition(counts, len(counts) - self.capacity - 1)[-self.capacity - 1]
            counts = counts - cut
            keep = counts > 0
            keys, counts = keys[keep], counts[keep]
        self.keys, self.counts = keys, counts

    def top(self, limit: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Up to ``limit`` keys, largest count first (ties by key), with their counts."""
        order = np.lexsort((self.keys, -self.counts))[:limit]
        return self.keys[order], self.counts[order]
