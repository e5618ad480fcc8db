"""The addresses of a batch, each named by one int64 id, so detectors group on integers.

An IPv4 address (stored IPv4-mapped in the Flow schema, RFC 4291 section 2.5.5.2) is its own
id: its 32-bit value, so that masking an id gives its network. Every other address is an IPv6
address and gets ``V6_BASE`` plus its rank among the batch's distinct IPv6 addresses (a
dictionary encoding), so the ids of one batch sort as the addresses do within each family. The
network of an IPv6 id is named by the id of its lowest address in the batch; ``text`` masks it
when it prints a network.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.intake_kernel import v4_ids
from cyberpeace.mission import NO_MATCH, Borders

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
V6_BASE = 1 << 32
_V4_MARK = np.uint64(0xFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)
# Bytes 8-15 of an IPv4-mapped address, as a native-order word: 00 00 ff ff, then the address.
_PREFIX_MASK = np.frombuffer(b"\xff" * 4 + bytes(4), dtype=np.uint64)[0]
_PREFIX_WORD = np.frombuffer(bytes(2) + b"\xff\xff" + bytes(4), dtype=np.uint64)[0]
Lookup4 = Callable[[NDArray[np.uint32]], NDArray[np.int32]]
Lookup6 = Callable[[NDArray[np.bytes_]], NDArray[np.int32]]


def _words(addresses: NDArray[np.bytes_]) -> tuple[U64, U64]:
    """The high and low 64 bits of 16-byte network-order addresses, as host-order integers."""
    raw = np.frombuffer(np.ascontiguousarray(addresses, dtype="S16"), dtype=">u8")
    pairs = raw.reshape(-1, 2)
    return pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)


def _mask64(bits: int) -> np.uint64:
    """The top ``bits`` (0..64) of a 64-bit word set."""
    return np.uint64(((1 << 64) - 1) ^ ((1 << (64 - bits)) - 1))


class Addresses:
    """The distinct IPv6 addresses of a batch, sorted; IPv4 needs no table."""

    def __init__(self, v6_high: U64, v6_low: U64) -> None:
        self._high, self._low = v6_high, v6_low
        self._networks: dict[int, I64] = {}

    @classmethod
    def encode(cls, *columns: NDArray[np.bytes_]) -> tuple[Addresses, list[I64]]:
        """The address table of ``columns`` (16-byte addresses) and each column as ids."""
        ids: list[I64] = []
        wide: list[NDArray[np.bool_]] = []
        for column in columns:
            raw = np.ascontiguousarray(column, dtype="S16")
            if sys.byteorder == "little":  # one compiled pass (``intake_kernel.py``)
                v4, not_mapped = v4_ids(np.frombuffer(raw, dtype=np.uint64))
                ids.append(v4)
                wide.append(not_mapped)
                continue
            # Native-order words only test the mapped prefix (bytes 0-11: ten zeros, ff ff).
            native = np.frombuffer(raw, dtype=np.uint64).reshape(-1, 2)
            mapped = (native[:, 0] == 0) & ((native[:, 1] & _PREFIX_MASK) == _PREFIX_WORD)
            v4 = np.frombuffer(raw, dtype=">u4").reshape(-1, 4)[:, 3].astype(np.int64)
            ids.append(v4)
            wide.append(~mapped)
        count = sum(int(w.sum()) for w in wide)
        if count == 0:
            return cls(np.zeros(0, np.uint64), np.zeros(0, np.uint64)), ids
        words = [_words(column[w]) for column, w in zip(columns, wide, strict=True)]
        high6 = np.concatenate([high for high, _ in words])
        low6 = np.concatenate([low for _, low in words])
        order = np.lexsort((low6, high6))
        high6, low6 = high6[order], low6[order]
        new = np.ones(len(order), dtype=np.bool_)
        new[1:] = (high6[1:] != high6[:-1]) | (low6[1:] != low6[:-1])
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.cumsum(new) - 1
        at = 0
        for named, w in zip(ids, wide, strict=True):
            n = int(w.sum())
            named[w] = V6_BASE + rank[at : at + n]
            at += n
        return cls(high6[new], low6[new]), ids

    def __len__(self) -> int:
        return len(self._high)

    def packed(self, ids: I64) -> NDArray[np.bytes_]:
        """The ids as 16-byte addresses (IPv4 ones IPv4-mapped)."""
        ids = np.asarray(ids, dtype=np.int64)
        v6 = ids >= V6_BASE
        high = np.zeros(len(ids), dtype=np.uint64)
        low = (ids & 0xFFFFFFFF).astype(np.uint64) | (_V4_MARK << np.uint64(32))
        high[v6], low[v6] = self._high[ids[v6] - V6_BASE], self._low[ids[v6] - V6_BASE]
        out: NDArray[np.bytes_] = np.stack([high, low], axis=1).astype(">u8").view("S16").ravel()
        return out

    def text(self, id_: int, prefix_len: int | None = None) -> str:
        """An address (``prefix_len`` None or the full length) or the network holding it."""
        if id_ < V6_BASE:
            full, address = 32, int(id_)
            network: ipaddress.IPv4Network | ipaddress.IPv6Network = ipaddress.IPv4Network(
                (address, min(32 if prefix_len is None else prefix_len, 32)), strict=False
            )
        else:
            full = 128
            value = (int(self._high[id_ - V6_BASE]) << 64) | int(self._low[id_ - V6_BASE])
            length = 128 if prefix_len is None else prefix_len
            network = ipaddress.IPv6Network((value, length), strict=False)
        if network.prefixlen == full:
            return str(network.network_address)
        return str(network)

    def network_of(self, ids: I64, prefix_len: int) -> I64:
        """The id naming the /prefix_len network of each id (IPv4 ids cut at /32 at most)."""
        v4_len = min(prefix_len, 32)
        mask = ((1 << 32) - 1) ^ ((1 << (32 - v4_len)) - 1)
        out: I64 = np.where(ids < V6_BASE, ids & mask, ids)
        if prefix_len < 128 and len(self):
            v6 = ids >= V6_BASE
            out[v6] = V6_BASE + self._first_of_network(prefix_len)[ids[v6] - V6_BASE]
        return out

    def _first_of_network(self, prefix_len: int) -> I64:
        """For each IPv6 address of the table, the rank of the lowest one in its network."""
        cached = self._networks.get(prefix_len)
        if cached is not None:
            return cached
        high = self._high & _mask64(min(prefix_len, 64))
        low = self._low & _mask64(max(prefix_len - 64, 0))
        new = np.ones(len(high), dtype=np.bool_)
        new[1:] = (high[1:] != high[:-1]) | (low[1:] != low[:-1])
        first = np.maximum.accumulate(np.where(new, np.arange(len(high)), 0)).astype(np.int64)
        self._networks[prefix_len] = first
        return first

    def host_len(self, ids: I64) -> I64:
        """32 for IPv4 ids, 128 for IPv6 ones."""
        lengths: I64 = np.where(np.asarray(ids) < V6_BASE, 32, 128).astype(np.int64)
        return lengths

    def party(self, borders: Borders, ids: I64) -> NDArray[np.int32]:
        """Index into ``borders.party_ids`` of each id, or NO_MATCH."""
        return self.look_up(ids, borders.party_v4, borders.party_v6)

    def safe_area(self, borders: Borders, ids: I64) -> NDArray[np.int32]:
        """Index into ``borders.safe_area_ids`` of each id, or NO_MATCH."""
        return self.look_up(ids, borders.safe_area_v4, borders.safe_area_v6)

    def look_up(self, ids: I64, v4: Lookup4, v6: Lookup6) -> NDArray[np.int32]:
        """Each id's label from an IPv4 and an IPv6 prefix table's lookup, or NO_MATCH."""
        ids = np.asarray(ids, dtype=np.int64)
        found = np.full(len(ids), NO_MATCH, dtype=np.int32)
        wide = ids >= V6_BASE
        found[~wide] = v4(ids[~wide].astype(np.uint32))
        if wide.any():
            found[wide] = v6(self.packed(ids[wide]))
        return found
