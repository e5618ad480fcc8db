"""Crypto-PAn: the reference vectors, the yacryptopan package, and the prefix property."""

from __future__ import annotations

import ipaddress
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import yacryptopan
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberpeace.share.cryptopan import CryptoPAn
from cyberpeace.share.cryptopan_key import KeyFileError, key_path, mission_key

VECTORS = json.loads((Path(__file__).parent / "data" / "cryptopan_vectors.json").read_text())
KEY = bytes(VECTORS["key"])
PAN = CryptoPAn(KEY)


def v4(texts: list[str]) -> np.ndarray:
    return np.array([int(ipaddress.IPv4Address(t)) for t in texts], dtype=np.uint32)


def v6(texts: list[str]) -> np.ndarray:
    return np.array([ipaddress.IPv6Address(t).packed for t in texts], dtype="S16")


def v6_text(packed: bytes) -> str:
    return str(ipaddress.IPv6Address(bytes(packed).ljust(16, b"\0")))


def test_ipv4_matches_the_reference_distribution_sample_trace() -> None:
    originals, expected = zip(*VECTORS["ipv4"], strict=True)
    out = PAN.anonymise_v4(v4(list(originals)))
    assert [str(ipaddress.IPv4Address(int(a))) for a in out] == list(expected)
    assert len(expected) == 71


def test_ipv6_matches_the_published_128_bit_vectors() -> None:
    originals, expected = zip(*VECTORS["ipv6"], strict=True)
    out = PAN.anonymise_v6(v6(list(originals)))
    assert [v6_text(a) for a in out] == [str(ipaddress.IPv6Address(e)) for e in expected]


def test_equals_the_yacryptopan_package_on_random_addresses() -> None:
    rng = np.random.default_rng(7)
    key = rng.bytes(32)
    peer = yacryptopan.CryptoPAn(key)
    ours = CryptoPAn(key)
    four = rng.integers(0, 2**32, 300, dtype=np.uint32)
    six = rng.integers(0, 256, (100, 16), dtype=np.uint8).view("S16").ravel()
    got4 = [str(ipaddress.IPv4Address(int(a))) for a in ours.anonymise_v4(four)]
    assert got4 == [peer.anonymize(str(ipaddress.IPv4Address(int(a)))) for a in four]
    got6 = [v6_text(a) for a in ours.anonymise_v6(six)]
    want6 = [peer.anonymize(v6_text(a)) for a in six]
    assert got6 == [str(ipaddress.IPv6Address(w)) for w in want6]


def test_repeated_addresses_keep_their_order_and_empty_input_is_fine() -> None:
    addresses = v4(["10.0.0.1", "10.0.0.2", "10.0.0.1", "192.0.2.7", "10.0.0.2"])
    out = PAN.anonymise_v4(addresses)
    singles = [PAN.anonymise_v4(addresses[i : i + 1])[0] for i in range(len(addresses))]
    assert out.tolist() == singles
    assert out[0] == out[2]
    assert out[1] == out[4]
    assert out[0] != out[1]
    assert PAN.anonymise_v4(np.array([], dtype=np.uint32)).shape == (0,)
    assert PAN.anonymise_v6(np.array([], dtype="S16")).shape == (0,)


def _common_prefix(a: int, b: int, width: int) -> int:
    return width - (a ^ b).bit_length()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_ipv4_prefixes_are_preserved_exactly(a: int, b: int) -> None:
    x, y = PAN.anonymise_v4(np.array([a, b], dtype=np.uint32)).tolist()
    assert _common_prefix(x, y, 32) == _common_prefix(a, b, 32)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**128 - 1), st.integers(0, 128))
def test_ipv6_prefixes_are_preserved_exactly(a: int, shared: int) -> None:
    flip = (1 << (127 - shared)) if shared < 128 else 0  # b shares exactly `shared` bits with a
    b = a ^ flip ^ (a & ((1 << max(0, 127 - shared)) - 1))
    packed = np.array([a.to_bytes(16, "big"), b.to_bytes(16, "big")], dtype="S16")
    x, y = (int.from_bytes(bytes(p).ljust(16, b"\0"), "big") for p in PAN.anonymise_v6(packed))
    assert _common_prefix(x, y, 128) == _common_prefix(a, b, 128)


def test_a_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes, not 16"):
        CryptoPAn(bytes(16))


def test_the_mission_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = mission_key(tmp_path, "unmik")
    path = key_path(tmp_path, "unmik")
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert mission_key(tmp_path, "unmik") == first
    assert mission_key(tmp_path, "other") != first


def test_an_unsafe_or_damaged_key_file_is_refused(tmp_path: Path) -> None:
    mission_key(tmp_path, "unmik")
    path = key_path(tmp_path, "unmik")
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="may be read by others"):
        mission_key(tmp_path, "unmik")
    os.chmod(path, 0o600)
    path.write_bytes(b"short")
    with pytest.raises(KeyFileError, match="holds 5 bytes"):
        mission_key(tmp_path, "unmik")
