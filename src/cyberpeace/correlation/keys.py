"""Index keys: a stable 64-bit hash of (kind, canonical value), and addresses as two words.

The hash is computed column-wise: values are padded with zero bytes to a multiple of eight,
viewed as little-endian 64-bit words, and folded word by word across the whole column, with the
length and the kind mixed in last (splitmix64's finaliser). It is part of the stored schema (the
``key`` column), so it must never change. A collision could at worst add a spurious match, never
lose one: two networks are also compared by their words, and for the other kinds equal kind and
key are taken as the same value (of ten million distinct values, the chance that any two share a
key is about n^2 / 2^65, one in 370,000), so the other incident's row is not read back.

Addresses and prefixes are 128-bit numbers held as a high and a low ``uint64`` word; IPv4 is
IPv4-mapped (RFC 4291 section 2.5.5.2) as in the Flow schema, so an IPv4 /24 is a /120.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MAPPED = 0xFFFF << 32
_BUCKETS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


def mix(values: U64) -> U64:
    """splitmix64's finaliser, element-wise (wrapping uint64 arithmetic)."""
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def hash_values(kind_codes: NDArray[np.integer], values: Sequence[str]) -> U64:
    """The key of each ``(kind, value)``; values must already be normalised."""
    encoded = np.array([v.encode("utf-8") for v in values], dtype=np.object_)
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    out = np.empty(len(encoded), dtype=np.uint64)
    low = -1
    for high in _BUCKETS:  # pad within a length class so one long URL costs no memory
        chosen = np.flatnonzero((lengths > low) & (lengths <= high))
        low = high
        if len(chosen) == 0:
            continue
        block = np.array(list(encoded[chosen]), dtype=f"S{high}")
        words = np.frombuffer(block.tobytes(), dtype="<u8").reshape(len(chosen), high // 8)
        out[chosen] = _fold(words, lengths[chosen])
    if (lengths > _BUCKETS[-1]).any():
        raise ValueError(f"indicator values are at most {_BUCKETS[-1]} bytes")
    return mix(out ^ mix(np.asarray(kind_codes, dtype=np.uint64) + _GOLDEN))


def _fold(words: NDArray[np.uint64], lengths: I64) -> U64:
    state = lengths.astype(np.uint64) * _GOLDEN
    for column in range(words.shape[1]):
        state = mix(state ^ words[:, column].astype(np.uint64))
    return state


def hash_text(kind_code: int, value: str) -> int:
    """The key of one value, as the signed 64-bit integer stored in the ``key`` column."""
    return int(as_signed(hash_values(np.array([kind_code]), [value]))[0])


def as_signed(keys: U64) -> I64:
    return keys.view(np.int64)


def as_unsigned(keys: NDArray[np.int64]) -> U64:
    return np.ascontiguousarray(keys, dtype=np.int64).view(np.uint64)


def network_words(text: str) -> tuple[int, int, int]:
    """``(high, low, prefix length)`` of a canonical address or prefix, IPv4 mapped into IPv6."""
    network = ipaddress.ip_network(text, strict=False)
    number = int(network.network_address)
    length = network.prefixlen
    if network.version == 4:
        number, length = _MAPPED | number, length + 96
    return number >> 64, number & 0xFFFFFFFFFFFFFFFF, length


def words_text(high: int, low: int, length: int) -> str:
    """The canonical text of ``network_words``' result."""
    number = (high << 64) | low
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    if high == 0 and (low >> 32) == 0xFFFF and length >= 96:
        address = ipaddress.IPv4Address(number & 0xFFFFFFFF)
        length -= 96
    else:
        address = ipaddress.IPv6Address(number)  # ip_address(0) would be IPv4's 0.0.0.0
    return str(address) if length == address.max_prefixlen else f"{address}/{length}"


def masks(length: int) -> tuple[np.uint64, np.uint64]:
    """The high and low words of the netmask of a /``length`` (0..128)."""
    bits = ((1 << 128) - 1) ^ ((1 << (128 - length)) - 1)
    return np.uint64(bits >> 64), np.uint64(bits & 0xFFFFFFFFFFFFFFFF)


def pair_key(high: U64, low: U64, length: NDArray[np.integer] | int) -> U64:
    """One word naming a network (its two words and its length), for exact lookups."""
    lengths = np.broadcast_to(np.asarray(length, dtype=np.uint64), high.shape)
    return mix(mix(high ^ (lengths * _GOLDEN)) ^ low)
