"""Crypto-PAn: prefix-preserving anonymisation of IPv4 and IPv6 addresses, a column at a time.

The scheme of Xu, Fan, Ammar and Moon ("Prefix-Preserving IP Address Anonymization:
Measurement-based Security Evaluation and a New Cryptography-based Scheme", ICNP 2002,
section 4): with a 32-byte key, AES-128 under the first 16 bytes is the pseudorandom function,
and the pad is that AES applied to the last 16 bytes. Bit ``i`` of an address is flipped by the
first output bit of AES over a block made of the address's first ``i`` bits followed by the pad's
remaining bits. Two addresses sharing a k-bit prefix thus share a k-bit prefix afterwards.
IPv4 addresses take the block's first 32 bits, IPv6 all 128, as in the original code and
the common IPv6 extension of it.

Vectorised: for each bit position one AES-ECB call encrypts the blocks of every address at once,
and numpy builds the blocks and gathers the bits; there is no Python loop per address. Repeated
addresses (as in flow records) are encrypted once.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numpy.typing import NDArray

KEY_BYTES = 32
CHUNK = 1 << 20  # addresses per batch of AES calls, to bound the memory of the blocks


class CryptoPAn:
    """Anonymise addresses under one 32-byte key (16 for AES-128, 16 for the pad)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a Crypto-PAn key is {KEY_BYTES} bytes, not {len(key)}")
        self._cipher = Cipher(algorithms.AES(key[:16]), modes.ECB())  # noqa: S305 - the PRF of the scheme
        encryptor = self._cipher.encryptor()
        self._pad = encryptor.update(key[16:]) + encryptor.finalize()

    def anonymise_v4(self, addresses: NDArray[np.uint32]) -> NDArray[np.uint32]:
        """IPv4 addresses as host-order integers, anonymised."""
        values = np.asarray(addresses, dtype=np.uint32)
        unique, inverse = np.unique(values, return_inverse=True)
        out = np.empty_like(unique)
        for first in range(0, len(unique), CHUNK):
            part = unique[first : first + CHUNK]
            out[first : first + CHUNK] = part ^ self._flips_v4(part)
        return out[inverse.reshape(-1)]

    def anonymise_v6(self, addresses: NDArray[np.bytes_]) -> NDArray[np.bytes_]:
        """16-byte IPv6 addresses (numpy ``S16``, network order), anonymised."""
        raw = np.ascontiguousarray(addresses, dtype="S16")
        unique, inverse = np.unique(raw, return_inverse=True)
        halves = np.frombuffer(unique.tobytes(), dtype=">u8").reshape(-1, 2).astype(np.uint64)
        out = np.empty_like(halves)
        for first in range(0, len(halves), CHUNK):
            part = halves[first : first + CHUNK]
            out[first : first + CHUNK] = part ^ self._flips_v6(part)
        packed = np.ascontiguousarray(out.astype(">u8")).view("S16").reshape(-1)
        return packed[inverse.reshape(-1)]

    def _encrypt_first_bits(
        self, blocks: NDArray[np.uint8], buffer: bytearray
    ) -> NDArray[np.uint8]:
        """The first bit of AES over every block (one ECB call for all of them)."""
        encryptor = self._cipher.encryptor()
        written = encryptor.update_into(blocks.data.cast("B"), buffer)
        encrypted = np.frombuffer(buffer, dtype=np.uint8, count=written).reshape(-1, 16)
        return np.right_shift(encrypted[:, 0], np.uint8(7))

    def _blocks(self, n: int) -> tuple[NDArray[np.uint8], bytearray]:
        blocks = np.frombuffer(self._pad * n, dtype=np.uint8).reshape(n, 16).copy()
        return blocks, bytearray(16 * n + 15)

    def _flips_v4(self, addresses: NDArray[np.uint32]) -> NDArray[np.uint32]:
        blocks, buffer = self._blocks(len(addresses))
        head = blocks.view(">u4")[:, 0]  # the block's first 32 bits; the rest stays pad
        pad = np.uint32(int.from_bytes(self._pad[:4], "big"))
        flips = np.zeros(len(addresses), dtype=np.uint32)
        for position in range(32):
            keep = np.uint32(_high_bits(position, 32))
            head[:] = (addresses & keep) | (pad & ~keep)
            bits = self._encrypt_first_bits(blocks, buffer).astype(np.uint32)
            flips |= bits << np.uint32(31 - position)
        return flips

    def _flips_v6(self, halves: NDArray[np.uint64]) -> NDArray[np.uint64]:
        blocks, buffer = self._blocks(len(halves))
        words = blocks.view(">u8")  # columns: the block's high and low 64 bits
        pads = (
            np.uint64(int.from_bytes(self._pad[:8], "big")),
            np.uint64(int.from_bytes(self._pad[8:], "big")),
        )
        flips = np.zeros_like(halves)
        for position in range(128):
            half, within = divmod(position, 64)
            if position == 64:
                words[:, 0] = halves[:, 0]
            keep = np.uint64(_high_bits(within, 64))
            words[:, half] = (halves[:, half] & keep) | (pads[half] & ~keep)
            bits = self._encrypt_first_bits(blocks, buffer).astype(np.uint64)
            flips[:, half] |= bits << np.uint64(63 - within)
        return flips


def _high_bits(count: int, width: int) -> int:
    """A ``width``-bit mask of the ``count`` most significant bits."""
    return ((1 << count) - 1) << (width - count)
