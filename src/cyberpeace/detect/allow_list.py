"""The mandate's allow list: sources whose traffic no detector counts (e.g. the mission's own
scanners), as sorted address ranges for a vectorised membership test, IPv4 and IPv6."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE, Addresses
from cyberpeace.mission import NO_MATCH, PrefixTable6

_FEW = 4


class AllowList:
    """Membership of addresses in a set of prefixes."""

    def __init__(self, prefixes: Iterable[str] = ()) -> None:
        networks = [ipaddress.ip_network(p, strict=False) for p in prefixes]
        self.prefixes = [str(n) for n in networks]
        ranges = sorted(
            (int(n.network_address), int(n.broadcast_address))
            for n in networks
            if isinstance(n, ipaddress.IPv4Network)
        )
        merged: list[list[int]] = []
        for first, last in ranges:
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._firsts = np.array([r[0] for r in merged], dtype=np.int64)
        self._lasts = np.array([r[1] for r in merged], dtype=np.int64)
        v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
        self._v6 = PrefixTable6(v6, [0] * len(v6)) if v6 else None

    def __len__(self) -> int:
        return len(self.prefixes)

    @property
    def v4_ranges(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The IPv4 prefixes as sorted, disjoint ranges: first and last address of each."""
        return self._firsts, self._lasts

    def holds_v4(self, addresses: NDArray[np.uint32] | NDArray[np.int64]) -> NDArray[np.bool_]:
        """True where an address (host-order integer) lies in an allow-listed IPv4 prefix."""
        addresses = np.asarray(addresses, dtype=np.int64)
        if len(self._firsts) == 0:
            return np.zeros(len(addresses), dtype=np.bool_)
        if len(self._firsts) <= _FEW:  # a subtraction and a comparison per range beat a search
            found = np.zeros(len(addresses), dtype=np.bool_)
            for first, last in zip(self._firsts.tolist(), self._lasts.tolist(), strict=True):
                offset = (addresses - first).view(np.uint64)
                found |= offset <= np.uint64(last - first)
            return found
        at = np.searchsorted(self._firsts, addresses, side="right") - 1
        inside: NDArray[np.bool_] = (at >= 0) & (addresses <= self._lasts[np.maximum(at, 0)])
        return inside

    def holds(self, table: Addresses, ids: NDArray[np.int64]) -> NDArray[np.bool_]:
        """True where an address id (``addresses.py``) lies in an allow-listed prefix."""
        if not self.prefixes:
            return np.zeros(len(ids), dtype=np.bool_)
        wide = ids >= V6_BASE
        inside = self.holds_v4(ids)  # IPv6 ids lie above every IPv4 range
        if self._v6 is not None and wide.any():
            inside[wide] = self._v6.lookup(table.packed(ids[wide])) != NO_MATCH
        return inside
