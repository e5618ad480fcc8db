"""The screen: the records towards destinations that might reach a flood threshold, found
before the cells are built.

On an ordinary network nearly every (second, destination) holds a few records and no flood:
summing them all into cells (``cells.py``) is most of the work of detection, and none of those
cells can fire. The flood detectors fire only when some second's packets, bits or new flows
towards one host reach a threshold, so each says its ``floors`` (the least rates at which it
can fire) and the screen bounds, for every second, those three quantities over a bucket of
destinations: each record adds to its bucket, in every second it spans, the largest share of
its packets and bytes one second can receive (all of them within a second, else a second's
worth of its rate; ``seconds.py`` spreads them so), and one new flow to the second it started
in. A bucket's bound is at least the traffic of each of its destinations in each second, so a
destination whose bucket stays below every floor in every second cannot fire: its records are
left out of the cells, and the flood detectors see the rest, every record of every other
destination, so their detections and the figures in them are those of the whole batch.

The buckets (Fibonacci hashing of the destination id) are sized to the batch: about one for
every 32 to 64 records a second. Each record adds to one second's row of the ring at a bucket of
its own, so the row (24 bytes a bucket) is best kept in the first-level cache: on 17,000 records
a second of ordinary traffic, 1,024 buckets screen in two thirds of the time 4,096 take, and
leave 2.6% of the records instead of 1.4%, which the cells then sum at little cost. The sums are
kept for as many seconds as the longest record spans, a ring that moves on with the records
(sorted by start), at most 2**20 (second, bucket) sums (24 MiB; records an hour long leave 256
buckets). Screening does not pay when most records are towards loud buckets (a batch that is
mostly attack): the pass stops as soon as it sees so, ``loud_rows`` says so, and the detectors
take the whole batch. It also stops when, an eighth of the batch in, more than nine in ten of
the records so far are towards loud buckets: a guess that the rest is like its start, which
costs at worst the screen's saving, never a detection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.flows import Flows
from cyberpeace.detect.screen_kernel import longest_and_sorted, rows_towards, screen_pass

_MOST_SUMS = 1 << 20  # (second, bucket) sums of one screen
_FEWEST_BITS = 6  # fewer buckets than this: most of them would be loud anyway
_MOST_BITS = 16
_WORTH = 0.5  # screening pays while the loud records are at most this share of the batch
# Past 1/_EARLY of the batch, a share of loud records above _EARLY_SHARE so far ends the screen.
_EARLY = 8
_EARLY_SHARE = 0.9
# Sums of floats in another order than the cells' own: a bound this close counts as reached.
_ROUNDING = 1e-6


@dataclass(frozen=True)
class Floors:
    """The least packets/s, bits/s and new flows/s per destination host at which a detector
    can fire (infinite: never on that quantity alone)."""

    packets: float = math.inf
    bits: float = math.inf
    started: float = math.inf

    def lower(self, other: Floors) -> Floors:
        """The floors below which neither this nor ``other`` fires."""
        return Floors(
            min(self.packets, other.packets),
            min(self.bits, other.bits),
            min(self.started, other.started),
        )


def loud_rows(
    flows: Flows, floors: Floors, longest: float | None = None
) -> NDArray[np.int64] | None:
    """The rows (ascending) of the records towards destinations that might reach ``floors``
    in some second, or None when screening does not pay (see the module's text). ``flows``
    are possible records (finite times, none ending before it starts) sorted by start; None
    for records in another order. ``longest``, the longest record's duration, says the
    caller knows it and that the records are sorted (a ``Batch`` is): no pass to check."""
    n = len(flows)
    if n == 0:
        return None
    if longest is None:
        longest, ordered = longest_and_sorted(flows.start, flows.end)
        if not ordered:
            return None
    ring_bits = (math.ceil(longest) + 2).bit_length()  # rows > the seconds a record spans
    seconds = math.ceil(float(flows.start[-1]) - float(flows.start[0])) + 1
    bits = min(
        _MOST_SUMS.bit_length() - 1 - ring_bits,
        max((n // seconds).bit_length() - 5, _FEWEST_BITS),
        _MOST_BITS,
    )
    if bits < _FEWEST_BITS:
        return None
    shy = 1.0 - _ROUNDING
    limits = np.array([floors.packets * shy, floors.bits / 8 * shy, floors.started])
    most = int(n * _WORTH)
    loud, worth = screen_pass(
        flows.start,
        flows.end,
        flows.dst,
        flows.packets,
        flows.bytes,
        ring_bits,
        bits,
        limits,
        most,
        n // _EARLY,
        _EARLY_SHARE,
    )
    if not worth:
        return None
    rows: NDArray[np.int64] = rows_towards(flows.dst, loud, bits, most)
    return None if len(rows) > most else rows
