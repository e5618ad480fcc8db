"""Ranking the incidents an incident's values meet.

Each shared value adds its kind's weight (``data/kinds.yaml``), times the containment factor
when the values only contain one another, divided by ``log2(1 + n)`` where ``n`` is how many rows
of the index carry the other incident's value: a value that a thousand incidents share (a big
cloud provider's ASN) says little about any two of them. A value counts once per pair of values,
however many roles it has in the other incident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.correlation.index import SAME, Columns, Matches, Side
from cyberpeace.correlation.indicator_kinds import kinds

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Ranked:
    """Members met, best first, with each one's score and its matches (positions in ``matches``)."""

    members: I64
    scores: F64
    matches: Matches
    starts: I64  # matches of members[i] are order[starts[i]:starts[i + 1]]
    order: I64

    def matches_of(self, i: int) -> I64:
        return self.order[self.starts[i] : self.starts[i + 1]]


def rank(side: Side, own: Columns, matches: Matches) -> Ranked:
    columns = side.columns
    member = columns.member[matches.row]
    # One match per (member, our value, their value): roles do not count twice.
    ours, theirs = own.key[matches.query], columns.key[matches.row]
    order = np.lexsort((theirs, ours, member))
    new_run = np.ones(len(order), dtype=np.bool_)
    if len(order) > 1:
        a, b = order[1:], order[:-1]
        new_run[1:] = (member[a] != member[b]) | (ours[a] != ours[b]) | (theirs[a] != theirs[b])
    first = order[new_run]
    matches = Matches(
        matches.query[first], matches.row[first], matches.relation[first], matches.omitted
    )
    member = member[first]
    weights = np.array([kinds().weights[name] for name in kinds().names], dtype=np.float64)
    weight = weights[columns.kind[matches.row]]
    weight = np.where(matches.relation == SAME, weight, weight * kinds().containment_factor)
    carriers = side.carriers[matches.row].astype(np.float64)
    weight /= np.log2(1.0 + np.maximum(carriers, 1.0))
    members, inverse = np.unique(member, return_inverse=True)
    scores = np.bincount(inverse, weights=weight, minlength=len(members))
    best = np.lexsort((members, -scores))  # highest score first, then lowest id
    position = np.empty(len(members), dtype=np.int64)
    position[best] = np.arange(len(members))
    order = np.argsort(position[inverse], kind="stable").astype(np.int64)
    sizes = np.bincount(position[inverse], minlength=len(members))
    starts = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    best_scores = np.asarray(scores[best], dtype=np.float64)
    return Ranked(members[best].astype(np.int64), best_scores, matches, starts, order)
