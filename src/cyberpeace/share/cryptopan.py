"""Prefix-preserving IP address anonymisation: Crypto-PAn.

J. Xu, J. Fan, M. Ammar, S. Moon, "Prefix-Preserving IP Address Anonymization: Measurement-based
Security Evaluation and a New Cryptography-based Scheme", ICNP 2002, section 4. Bit ``i`` of the
output is bit ``i`` of the input XOR the first bit of AES_K(a_1..a_{i} || pad_{i+1..128}), so two
addresses sharing a k-bit prefix map to outputs sharing exactly a k-bit prefix. As in the original
distribution, the 32-byte key is a 16-byte AES-128 key followed by 16 bytes that are encrypted once
with that key to give the pad.

Vectorised: one AES-ECB call per bit position over all addresses at once, never a loop per address.
Addresses are (n, 16) uint8 arrays in network order; IPv4 addresses are uint32 arrays and occupy
the first 32 bits of the block, as in the original.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numpy.typing import NDArray

KEY_BYTES = 32


class CryptoPanKeyError(ValueError):
    """The Crypto-PAn key is not 32 bytes."""


class AddressError(ValueError):
    """An address string is not an IPv4 or IPv6 address."""


class CryptoPan:
    """A Crypto-PAn anonymiser bound to one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            got = f"{len(key)} bytes" if isinstance(key, bytes | bytearray) else type(key).__name__
            raise CryptoPanKeyError(
                f"Crypto-PAn key must be {KEY_BYTES} bytes (16 AES key + 16 pad), got {got}"
            )
        self._cipher = Cipher(algorithms.AES(bytes(key[:16])), modes.ECB())  # noqa: S305 - ECB of single blocks is the scheme (Xu 2002, s. 4)
        encryptor = self._cipher.encryptor()
        self._pad = np.frombuffer(encryptor.update(bytes(key[16:])), dtype=np.uint8).copy()

    def anonymise_blocks(self, blocks: NDArray[np.uint8], bits: int) -> NDArray[np.uint8]:
        """Anonymise the first ``bits`` bits of each row of an (n, 16) uint8 array.

        Bits after ``bits`` are left as they are (zero for IPv4 rows built by anonymise_v4).
        """
        if blocks.ndim != 2 or blocks.shape[1] != 16:
            raise ValueError(f"address blocks must have shape (n, 16), got {blocks.shape}")
        if bits not in (32, 128):
            raise ValueError(f"bits must be 32 (IPv4) or 128 (IPv6), got {bits}")
        addr = np.ascontiguousarray(blocks, dtype=np.uint8)
        n = len(addr)
        flips = np.zeros((n, 16), dtype=np.uint8)
        if n == 0:
            return addr.copy()
        work = np.tile(self._pad, (n, 1))  # the input block: address prefix, then pad
        encryptor = self._cipher.encryptor()
        for pos in range(bits):
            byte, bit = divmod(pos, 8)
            if bit == 0 and byte > 0:
                work[:, byte - 1] = addr[:, byte - 1]
            keep = (0xFF00 >> bit) & 0xFF  # the first ``bit`` bits of this byte are the address's
            work[:, byte] = (addr[:, byte] & keep) | (int(self._pad[byte]) & (0xFF ^ keep))
            out = np.frombuffer(encryptor.update(work.tobytes()), dtype=np.uint8)
            flips[:, byte] |= (out[::16] >> 7) << (7 - bit)
        return addr ^ flips

    def anonymise_v4(self, addresses: NDArray[np.uint32]) -> NDArray[np.uint32]:
        """Anonymise IPv4 addresses given as host-order uint32 values."""
        values = np.asarray(addresses)
        if values.dtype != np.uint32:
            raise ValueError(f"IPv4 addresses must be a uint32 array, got {values.dtype}")
        blocks = np.zeros((len(values), 16), dtype=np.uint8)
        blocks[:, :4] = values.astype(">u4").view(np.uint8).reshape(-1, 4)
        result = self.anonymise_blocks(blocks, 32)
        return np.ascontiguousarray(result[:, :4]).view(">u4").reshape(-1).astype(np.uint32)

    def anonymise_v6(self, addresses: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Anonymise IPv6 addresses given as an (n, 16) uint8 array in network order."""
        return self.anonymise_blocks(addresses, 128)

    def anonymise_strings(self, addresses: Sequence[str]) -> list[str]:
        """Anonymise address strings of either family; refuse any that is not an address."""
        parsed: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
        for text in addresses:
            try:
                parsed.append(ipaddress.ip_address(text))
            except ValueError:
                raise AddressError(f"not an IPv4 or IPv6 address: {text!r}") from None
        v4 = [i for i, a in enumerate(parsed) if a.version == 4]
        v6 = [i for i, a in enumerate(parsed) if a.version == 6]
        result = [""] * len(parsed)
        if v4:
            values = np.array([int(parsed[i]) for i in v4], dtype=np.uint32)
            for i, value in zip(v4, self.anonymise_v4(values), strict=True):
                result[i] = str(ipaddress.IPv4Address(int(value)))
        if v6:
            raw = b"".join(parsed[i].packed for i in v6)
            blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16)
            for i, row in zip(v6, self.anonymise_v6(blocks), strict=True):
                result[i] = str(ipaddress.IPv6Address(row.tobytes()))
        return result
