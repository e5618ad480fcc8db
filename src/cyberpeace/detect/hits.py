"""Hits: the windows in which a detector's rules fired, one row per window and target.

A detector measures its numbers per window (one second for floods, ``scan_window_s`` for scans)
and keeps the rows where its rules hold: every required rule, and at least one of the others.
The engine turns consecutive hits on one target into one episode and one Detection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Rule:
    """A measured number reaching a threshold, e.g. ``pps >= 20000``."""

    metric: str  # a key of Hits.numbers
    threshold: float
    unit: str  # for people: "packets/s", "distinct ports"
    required: bool = False  # must hold in every hit, e.g. a minimum number of sources

    def holds(self, values: F64) -> NDArray[np.bool_]:
        reached: NDArray[np.bool_] = values >= self.threshold
        return reached


def fired(rules: tuple[Rule, ...], numbers: Mapping[str, F64], rows: int) -> NDArray[np.bool_]:
    """Rows where every required rule holds and, if there are others, at least one of them."""
    result = np.ones(rows, dtype=np.bool_)
    optional = np.zeros(rows, dtype=np.bool_)
    for rule in rules:
        if rule.required:
            result &= rule.holds(numbers[rule.metric])
        else:
            optional |= rule.holds(numbers[rule.metric])
    if any(not rule.required for rule in rules):
        result &= optional
    return result


@dataclass(frozen=True)
class Hits:
    """Above-threshold windows of one detector (parallel columns, one row per hit).

    ``target``/``prefix_len`` name the host or network hit; ``actor`` is the one source when
    the finding is about a single source (scans), else -1; ``port`` is the destination port
    the finding concerns (a sweep), else -1.
    """

    window_s: int
    rules: tuple[Rule, ...]
    window: I64  # start of the window, seconds since the epoch
    target: I64
    prefix_len: I64
    actor: I64
    port: I64
    numbers: Mapping[str, F64]

    def __len__(self) -> int:
        return len(self.window)

    @classmethod
    def where_fired(
        cls,
        window_s: int,
        rules: tuple[Rule, ...],
        columns: Mapping[str, NDArray[np.generic]],
        numbers: Mapping[str, F64],
    ) -> Hits:
        """The rows of measured windows where ``rules`` fire.

        ``columns`` holds ``window`` and ``target`` (address ids, ``addresses.py``) and optionally
        ``prefix_len`` (default: a host, 32 or 128), ``actor`` and ``port`` (default -1), each one
        value per measured window. An IPv6 network target is the id ``Addresses.network_of``
        gives.
        """
        rows = len(columns["window"])
        keep = fired(rules, numbers, rows)

        def column(name: str, default: int) -> I64:
            values = columns.get(name)
            if values is None:
                return np.full(int(keep.sum()), default, dtype=np.int64)
            return np.asarray(values, dtype=np.int64)[keep]

        target = column("target", 0)
        wide = target >= V6_BASE
        host_len = np.where(wide, 128, 32)
        given = columns.get("prefix_len")
        prefix_len = host_len if given is None else np.asarray(given, dtype=np.int64)[keep]
        if ((prefix_len < 0) | (prefix_len > host_len)).any():
            raise ValueError("a prefix length lies between 0 and 32 (IPv4) or 128 (IPv6)")
        # IPv4 ids are the addresses: mask them to the network; IPv6 ids come named already.
        v4_len = np.minimum(prefix_len, 32)
        host_bits = (np.int64(1) << (32 - v4_len)) - 1
        target = np.where(wide, target, target & ~host_bits & 0xFFFFFFFF)
        return cls(
            window_s,
            rules,
            column("window", 0),
            target,
            prefix_len,
            column("actor", -1),
            column("port", -1),
            {name: np.asarray(values, dtype=np.float64)[keep] for name, values in numbers.items()},
        )
