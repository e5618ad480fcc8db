"""The mandate's allow list: sources whose traffic no detector counts (e.g. the mission's own
scanners), as sorted address ranges for a vectorised membership test."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray


class AllowList:
    """Membership of IPv4 addresses in a set of prefixes (IPv6 prefixes are kept, not yet used:
    flow batches are IPv4 only for now)."""

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

    def __len__(self) -> int:
        return len(self.prefixes)

    def holds_v4(self, addresses: NDArray[np.uint32]) -> NDArray[np.bool_]:
        """True where an address lies in an allow-listed IPv4 prefix."""
        addresses = np.asarray(addresses, dtype=np.int64)
        if len(self._firsts) == 0:
            return np.zeros(len(addresses), dtype=np.bool_)
        at = np.searchsorted(self._firsts, addresses, side="right") - 1
        inside: NDArray[np.bool_] = (at >= 0) & (addresses <= self._lasts[np.maximum(at, 0)])
        return inside
