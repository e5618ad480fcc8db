"""Addresses and prefixes of one side of the index, for containment in both directions.

Every address or prefix is a 128-bit network (``keys.py``: IPv4 mapped into IPv6). Two
structures answer the two questions:

* which of our networks *contain* a given one: the networks are grouped by prefix length, each
  group's networks named by one word (``pair_key``) and sorted; a query is masked to each length
  present and looked up with ``searchsorted`` (at most 129 groups, each lookup vectorised over
  all queries);
* which of our networks lie *within* a given prefix: all networks sorted as 128-bit integers
  (high word, then low word); a prefix is the integer range from its first to its last address,
  found with ``searchsorted`` on the high words and, for prefixes longer than /64, on the low words
  of the run that shares the high word.

Networks of one length never overlap, so within a group a masked query finds at most one network
(carried by any number of rows; the ``_capped`` forms bound how many are returned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.correlation.keys import masks, pair_key
from cyberpeace.correlation.postings import Postings, expand

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
EMPTY = np.zeros(0, dtype=np.int64)
NO_LIMIT = 2**62
HIGH_MASKS = np.array([masks(n)[0] for n in range(129)], dtype=np.uint64)
LOW_MASKS = np.array([masks(n)[1] for n in range(129)], dtype=np.uint64)


@dataclass(frozen=True)
class Group:
    length: int
    postings: Postings  # pair keys of this group's networks -> positions in ``rows``
    rows: I64  # the side's rows in this group
    high_mask: np.uint64
    low_mask: np.uint64


@dataclass(frozen=True)
class AddressSpace:
    high: U64  # of every row of the side (rows that are no network are ignored)
    low: U64
    length: I64  # 0..128; -1 for rows that are no address or prefix
    groups: tuple[Group, ...]
    sorted_rows: I64  # the network rows, ascending as 128-bit integers
    sorted_high: U64
    sorted_low: U64

    @classmethod
    def build(cls, high: U64, low: U64, length: I64) -> AddressSpace:
        networks = np.flatnonzero(length >= 0).astype(np.int64)
        groups = []
        for size in np.unique(length[networks]):
            rows = networks[length[networks] == size]
            keys = pair_key(high[rows], low[rows], int(size))
            groups.append(Group(int(size), Postings.build(keys), rows, *masks(int(size))))
        order = networks[np.lexsort((low[networks], high[networks]))]
        return cls(high, low, length, tuple(groups), order, high[order], low[order])

    def containing(
        self, high: U64, low: U64, length: I64, *, strict: bool = True
    ) -> tuple[I64, I64]:
        """``(query, row)`` pairs where network ``row`` holds query network ``query``.

        ``strict`` leaves out the equal network (found by the exact index instead).
        """
        query, rows, _ = self.containing_capped(high, low, length, NO_LIMIT, strict=strict)
        return query, rows

    def containing_capped(
        self, high: U64, low: U64, length: I64, limit: int, *, strict: bool = True
    ) -> tuple[I64, I64, int]:
        """As ``containing``, with at most the newest ``limit`` rows per network met, and the
        number of rows left out."""
        queries, found, left_out = [EMPTY], [EMPTY], 0
        for group in self.groups:
            chosen = np.flatnonzero(length > group.length if strict else length >= group.length)
            if len(chosen) == 0:
                continue
            net_high, net_low = high[chosen] & group.high_mask, low[chosen] & group.low_mask
            keys = pair_key(net_high, net_low, group.length)
            query, position, cut = group.postings.lookup_capped(keys, limit)
            rows = group.rows[position]
            same = (self.high[rows] == net_high[query]) & (self.low[rows] == net_low[query])
            queries.append(chosen[query[same]])
            found.append(rows[same])
            left_out += cut
        return np.concatenate(queries), np.concatenate(found), left_out

    def within(self, high: U64, low: U64, length: I64) -> tuple[I64, I64]:
        """``(query, row)`` pairs where network ``row`` lies strictly inside prefix ``query``."""
        query, rows, _ = self.within_capped(high, low, length, NO_LIMIT)
        return query, rows

    def within_capped(self, high: U64, low: U64, length: I64, limit: int) -> tuple[I64, I64, int]:
        """As ``within``, with at most ``limit`` networks (the lowest) per query prefix, and the
        number of networks left out.

        All query prefixes are searched at once: a prefix is the range of 128-bit numbers from its
        first to its last address, found with ``searchsorted`` on the high words; for prefixes
        longer than /64 (one high word) then on the low words of the run sharing that high word,
        one vectorised search per distinct high word (all of IPv4 shares one).
        """
        chosen = np.flatnonzero((length >= 0) & (length < 128))
        if len(chosen) == 0 or len(self.sorted_rows) == 0:
            return EMPTY, EMPTY, 0
        size = length[chosen]
        high_mask, low_mask = HIGH_MASKS[size], LOW_MASKS[size]
        first_high, last_high = high[chosen] & high_mask, high[chosen] | ~high_mask
        left = np.searchsorted(self.sorted_high, first_high, "left").astype(np.int64)
        right = np.searchsorted(self.sorted_high, last_high, "right").astype(np.int64)
        long = np.flatnonzero(size > 64)
        if len(long):
            first_low = low[chosen[long]] & low_mask[long]
            last_low = low[chosen[long]] | ~low_mask[long]
            words = first_high[long]
            for word in np.unique(words):
                pick = np.flatnonzero(words == word)
                start, end = int(left[long[pick[0]]]), int(right[long[pick[0]]])
                run = self.sorted_low[start:end]
                left[long[pick]] = start + np.searchsorted(run, first_low[pick], "left")
                right[long[pick]] = start + np.searchsorted(run, last_low[pick], "right")
        cut = np.maximum(right - left - limit, 0)
        query, rows = expand(left, right - cut, self.sorted_rows)
        inside = self.length[rows] > size[query]
        return chosen[query[inside]], rows[inside], int(cut.sum())
