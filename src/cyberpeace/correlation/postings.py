"""Postings: for each distinct key, the rows that carry it (compressed sparse rows).

Keys are sorted once; the rows of key ``k`` are ``rows[starts[i]:starts[i + 1]]`` where
``keys[i] == k``. A lookup of many keys is two ``searchsorted`` calls and one gather, with no
Python loop over keys or rows.
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
    rows: I64  # row positions, grouped by key

    @classmethod
    def build(cls, keys: U64) -> Postings:
        """The postings of ``keys[i]`` for every position ``i``."""
        order = np.argsort(keys).astype(np.int64)  # the order of rows within a key is free
        ordered = keys[order]
        if len(ordered) == 0:
            return cls(ordered, np.zeros(1, dtype=np.int64), order)
        opens = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        starts = np.r_[opens, len(ordered)].astype(np.int64)
        return cls(ordered[opens], starts, order)

    def counts(self, keys: U64) -> I64:
        """How many rows carry each of ``keys``."""
        left, right = self._spans(keys)
        return right - left

    def lookup(self, keys: U64) -> tuple[I64, I64]:
        """``(query, row)`` pairs: row ``row`` carries ``keys[query]``."""
        left, right = self._spans(keys)
        return expand(left, right, self.rows)

    def _spans(self, keys: U64) -> tuple[I64, I64]:
        if len(self.keys) == 0:
            empty = np.zeros(len(keys), dtype=np.int64)
            return empty, empty
        position = np.searchsorted(self.keys, keys).astype(np.int64)
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
