"""Postings: for each distinct key, the rows that carry it (compressed sparse rows).

Keys are sorted once (stably, so the rows of one key stay in row order, oldest first); the rows
of key ``k`` are ``rows[starts[i]:starts[i + 1]]`` where ``keys[i] == k``. A lookup of many keys
is one ``searchsorted`` of the keys in ascending order (neighbouring searches then share cache
lines) and one gather, with no Python loop over keys or rows.

A key carried by very many rows (a big provider's ASN, a popular TLS client) can be looked up
with a ``limit``: only its newest ``limit`` rows are returned, and the number left out is
reported, so a lookup's cost is bounded by the limit, not by the commonest value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Postings:
    keys: U64  # distinct keys, ascending
    starts: I64  # len(keys) + 1 offsets into rows
    rows: I64  # row positions, grouped by key, ascending within a key

    @classmethod
    def build(cls, keys: U64) -> Postings:
        """The postings of ``keys[i]`` for every position ``i``."""
        order = np.argsort(keys, kind="stable").astype(np.int64)
        ordered = keys[order]
        if len(ordered) == 0:
            return cls(ordered, np.zeros(1, dtype=np.int64), order)
        opens = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        starts = np.r_[opens, len(ordered)].astype(np.int64)
        return cls(ordered[opens], starts, order)

    def carriers(self) -> I64:
        """For every row position, how many rows carry its key (its document frequency)."""
        sizes = np.diff(self.starts)
        out = np.empty(len(self.rows), dtype=np.int64)
        out[self.rows] = np.repeat(sizes, sizes)
        return out

    def counts(self, keys: U64) -> I64:
        """How many rows carry each of ``keys``."""
        left, right = self._spans(keys)
        return right - left

    def lookup(self, keys: U64) -> tuple[I64, I64]:
        """``(query, row)`` pairs: row ``row`` carries ``keys[query]``."""
        left, right = self._spans(keys)
        return expand(left, right, self.rows)

    def lookup_capped(self, keys: U64, limit: int) -> tuple[I64, I64, int]:
        """As ``lookup``, with at most the newest ``limit`` rows per key; and how many were left."""
        left, right = self._spans(keys)
        cut = np.maximum(right - left - limit, 0)
        query, rows = expand(left + cut, right, self.rows)
        return query, rows, int(cut.sum())

    def _spans(self, keys: U64) -> tuple[I64, I64]:
        if len(self.keys) == 0 or len(keys) == 0:
            empty = np.zeros(len(keys), dtype=np.int64)
            return empty, empty
        order = np.argsort(keys)
        position = np.empty(len(keys), dtype=np.int64)
        position[order] = np.searchsorted(self.keys, keys[order])
        inside = np.minimum(position, len(self.keys) - 1)
        found = (position < len(self.keys)) & (self.keys[inside] == keys)
        left = np.where(found, self.starts[inside], 0)
        right = np.where(found, self.starts[inside + 1], 0)
        return left.astype(np.int64), right.astype(np.int64)


def expand(left: I64, right: I64, values: I64) -> tuple[I64, I64]:
    """For spans ``[left[i], right[i])`` of ``values``: the pairs ``(i, values[j])``."""
    sizes = right - left
    total = int(sizes.sum())
    query = np.repeat(np.arange(len(left), dtype=np.int64), sizes)
    if total == 0:
        return query, np.zeros(0, dtype=np.int64)
    # Position j of span i is left[i] + (j - offset of span i in the output).
    offsets = np.cumsum(sizes) - sizes
    within = np.arange(total, dtype=np.int64) - np.repeat(offsets, sizes)
    return query, values[np.repeat(left, sizes) + within]
