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

Networks of one length never overlap, so within a group a masked query finds at most one network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.correlation.keys import masks, pair_key
from cyberpeace.correlation.postings import Postings

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
EMPTY = np.zeros(0, dtype=np.int64)


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
        queries, found = [EMPTY], [EMPTY]
        for group in self.groups:
            chosen = np.flatnonzero(length > group.length if strict else length >= group.length)
            if len(chosen) == 0:
                continue
            net_high, net_low = high[chosen] & group.high_mask, low[chosen] & group.low_mask
            query, position = group.postings.lookup(pair_key(net_high, net_low, group.length))
            rows = group.rows[position]
            same = (self.high[rows] == net_high[query]) & (self.low[rows] == net_low[query])
            queries.append(chosen[query[same]])
            found.append(rows[same])
        return np.concatenate(queries), np.concatenate(found)

    def within(self, high: U64, low: U64, length: I64) -> tuple[I64, I64]:
        """``(query, row)`` pairs where network ``row`` lies strictly inside query prefix ``query``.

        One pair of ``searchsorted`` calls per query prefix: they are the few prefixes of one
        incident, not a batch of telemetry.
        """
        queries, found = [EMPTY], [EMPTY]
        for i in np.flatnonzero((length >= 0) & (length < 128)):
            high_mask, low_mask = masks(int(length[i]))
            left, right = self._range(
                high[i] & high_mask,
                low[i] & low_mask,
                high[i] | ~high_mask,
                low[i] | ~low_mask,
                int(length[i]),
            )
            rows = self.sorted_rows[left:right]
            rows = rows[self.length[rows] > length[i]]
            queries.append(np.full(len(rows), i, dtype=np.int64))
            found.append(rows)
        return np.concatenate(queries), np.concatenate(found)

    def _range(
        self,
        first_high: np.uint64,
        first_low: np.uint64,
        last_high: np.uint64,
        last_low: np.uint64,
        length: int,
    ) -> tuple[int, int]:
        """Positions in the sorted networks of those starting from first to last address."""
        left = int(np.searchsorted(self.sorted_high, first_high, "left"))
        right = int(np.searchsorted(self.sorted_high, last_high, "right"))
        if length <= 64:
            return left, right
        # One high word: the range lies in the run of networks sharing it, sorted by low word.
        run = self.sorted_low[left:right]
        start = left + int(np.searchsorted(run, first_low, "left"))
        end = left + int(np.searchsorted(run, last_low, "right"))
        return start, end
