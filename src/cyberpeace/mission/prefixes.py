"""Vectorised longest-prefix match over numpy arrays of addresses.

IPv4 uses a DIR-24-8 table (Gupta, Lin and McKeown, "Routing lookups in hardware at memory access
speeds", INFOCOM 1998): one entry per /24 holds the answer, or points to a 256-entry block for the
few /24s that longer prefixes split. A lookup is one or two array gathers, whatever the number of
prefixes. IPv6 uses binary search over the elementary ranges the prefixes cut the space into.

The 16M-entry tables are 64 MiB each, so a look-up per record in random order misses the caches.
``coverage_bits`` folds several tables into one bitmap of the /24s that any of them reaches
(2 MiB, which the second-level cache holds), a first cut that drops most addresses at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

NO_MATCH = -1
V6 = np.dtype("S16")  # an IPv6 address as 16 network-order bytes


def v4_array(addresses: Sequence[str]) -> NDArray[np.uint32]:
    """IPv4 addresses as host-order uint32 (for tests and small inputs)."""
    return np.array([int(ipaddress.IPv4Address(a)) for a in addresses], dtype=np.uint32)


def v6_array(addresses: Sequence[str]) -> NDArray[np.bytes_]:
    """IPv6 addresses as 16-byte network-order strings (for tests and small inputs)."""
    return np.array([ipaddress.IPv6Address(a).packed for a in addresses], dtype=V6)


class PrefixTable4:
    """Longest-prefix match of IPv4 addresses to integer labels."""

    def __init__(self, prefixes: Sequence[ipaddress.IPv4Network], labels: Sequence[int]) -> None:
        # 0 = no match, n > 0 = label n-1, n < 0 = block -n-1 of 256 entries.
        self._top = np.zeros(1 << 24, dtype=np.int32)
        blocks: list[NDArray[np.int32]] = []
        for net, label in sorted(zip(prefixes, labels, strict=True), key=lambda x: x[0].prefixlen):
            first, last = int(net.network_address), int(net.broadcast_address)
            if net.prefixlen <= 24:
                self._top[first >> 8 : (last >> 8) + 1] = label + 1
                continue
            slot = first >> 8
            if self._top[slot] >= 0:
                blocks.append(np.full(256, self._top[slot], dtype=np.int32))
                self._top[slot] = -len(blocks)
            blocks[-int(self._top[slot]) - 1][first & 255 : (last & 255) + 1] = label + 1
        self._blocks = np.stack(blocks) if blocks else np.zeros((1, 256), dtype=np.int32)

    @property
    def arrays(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """The table's two arrays, for compiled look-ups: one entry per /24 (0: no match,
        n > 0: label n - 1, n < 0: row -n - 1 of the second), and the rows of 256 entries of
        the /24s that longer prefixes split."""
        return self._top, self._blocks

    def lookup(self, addresses: NDArray[np.uint32]) -> NDArray[np.int32]:
        """Label of the longest matching prefix for each address, or NO_MATCH (-1)."""
        addresses = np.asarray(addresses, dtype=np.uint32)
        codes: NDArray[np.int32] = self._top[addresses >> 8]
        split = codes < 0
        if split.any():
            codes[split] = self._blocks[-codes[split] - 1, addresses[split] & 255]
        codes -= 1
        return codes


def coverage_bits(tables: Sequence[PrefixTable4]) -> NDArray[np.uint64]:
    """A bitmap over the /24s, the /24 ``k`` at bit ``k % 64`` of word ``k // 64``: set where
    any of ``tables`` holds at least one address of the /24. An address whose /24 is not set is
    held by none; one whose /24 is set may still be held by none, where a longer prefix
    splits its /24."""
    touched = np.zeros(1 << 24, dtype=np.bool_)
    for table in tables:
        touched |= table.arrays[0] != 0
    return np.packbits(touched, bitorder="little").view("<u8").astype(np.uint64, copy=False)


class PrefixTable6:
    """Longest-prefix match of IPv6 addresses (16-byte strings) to integer labels."""

    def __init__(self, prefixes: Sequence[ipaddress.IPv6Network], labels: Sequence[int]) -> None:
        cuts = {0}
        for net in prefixes:
            cuts.add(int(net.network_address))
            cuts.add(int(net.broadcast_address) + 1)
        cuts.discard(1 << 128)
        starts = sorted(cuts)
        index = {start: i for i, start in enumerate(starts)}
        painted = np.full(len(starts), NO_MATCH, dtype=np.int32)
        for net, label in sorted(zip(prefixes, labels, strict=True), key=lambda x: x[0].prefixlen):
            first = index[int(net.network_address)]
            after = index.get(int(net.broadcast_address) + 1, len(starts))
            painted[first:after] = label
        self._starts = np.array([s.to_bytes(16, "big") for s in starts], dtype=V6)
        self._labels = painted

    def lookup(self, addresses: NDArray[np.bytes_]) -> NDArray[np.int32]:
        """Label of the longest matching prefix for each address, or NO_MATCH (-1)."""
        addresses = np.asarray(addresses, dtype=V6)
        position = np.searchsorted(self._starts, addresses, side="right") - 1
        labels: NDArray[np.int32] = self._labels[position]
        return labels
