"""Crypto-PAn: the reference distribution's vectors, prefix preservation, the yacryptopan peer."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yacryptopan import CryptoPAn as PeerCryptoPAn

from cyberpeace.share.cryptopan import AddressError, CryptoPan, CryptoPanKeyError
from cyberpeace.share.cryptopan_key import key_path, mission_key

VECTORS = json.loads((Path(__file__).parent / "data" / "cryptopan_vectors.json").read_text())
REFERENCE_KEY = bytes(VECTORS["key"])
ANON = CryptoPan(REFERENCE_KEY)
PEER = PeerCryptoPAn(REFERENCE_KEY)


def test_reference_distribution_ipv4_vectors() -> None:
    raw = [pair[0] for pair in VECTORS["ipv4"]]
    assert len(raw) == 71
    assert ANON.anonymise_strings(raw) == [pair[1] for pair in VECTORS["ipv4"]]


def test_ipv6_vectors_of_the_go_port() -> None:
    raw = [pair[0] for pair in VECTORS["ipv6"]]
    expected = [str(ipaddress.ip_address(pair[1])) for pair in VECTORS["ipv6"]]
    assert ANON.anonymise_strings(raw) == expected


def test_uint32_interface_matches_strings_and_keeps_order() -> None:
    raw = [pair[0] for pair in VECTORS["ipv4"]]
    values = np.array([int(ipaddress.IPv4Address(a)) for a in raw], dtype=np.uint32)
    out = ANON.anonymise_v4(values)
    assert out.dtype == np.uint32
    assert [str(ipaddress.IPv4Address(int(v))) for v in out] == [p[1] for p in VECTORS["ipv4"]]


def test_mixed_families_keep_their_positions() -> None:
    mixed = ["2001:db8::1", "128.11.68.132", "::1"]
    assert ANON.anonymise_strings(mixed) == [PEER.anonymize(a) for a in mixed]
    assert ANON.anonymise_strings([]) == []
    assert ANON.anonymise_v4(np.array([], dtype=np.uint32)).shape == (0,)


def _common_prefix(a: int, b: int, bits: int) -> int:
    return bits - (a ^ b).bit_length()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)), min_size=1))
def test_ipv4_common_prefix_length_is_preserved(pairs: list[tuple[int, int]]) -> None:
    # second address shares a chosen-length prefix with the first, then differs at that bit
    firsts = [a for a, _ in pairs]
    seconds = [a ^ (1 << (31 - k)) if k < 32 else a for a, k in pairs]
    out = ANON.anonymise_v4(np.array(firsts + seconds, dtype=np.uint32))
    n = len(pairs)
    for i in range(n):
        expected = _common_prefix(firsts[i], seconds[i], 32)
        assert _common_prefix(int(out[i]), int(out[n + i]), 32) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**128 - 1), st.integers(0, 2**128 - 1)), min_size=1))
def test_ipv6_common_prefix_length_is_preserved(pairs: list[tuple[int, int]]) -> None:
    # mix random pairs with pairs sharing long prefixes (a and a with its low bits replaced)
    values = [a for a, _ in pairs] + [(a & ~((1 << (b % 129)) - 1)) | (b >> 7) for a, b in pairs]
    raw = b"".join(v.to_bytes(16, "big") for v in values)
    out = ANON.anonymise_v6(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16))
    ints = [int.from_bytes(row.tobytes(), "big") for row in out]
    n = len(pairs)
    for i in range(n):
        expected = _common_prefix(values[i], values[n + i], 128)
        assert _common_prefix(ints[i], ints[n + i], 128) == expected


@settings(max_examples=25, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20),
    st.lists(st.integers(0, 2**128 - 1), min_size=1, max_size=5),
)
def test_equal_to_yacryptopan_on_random_keys_and_addresses(
    key: bytes, v4: list[int], v6: list[int]
) -> None:
    ours, peer = CryptoPan(key), PeerCryptoPAn(key)
    got4 = ours.anonymise_v4(np.array(v4, dtype=np.uint32))
    assert [int(v) for v in got4] == [peer.anonymize_bin(a, 4) for a in v4]
    raw = np.frombuffer(b"".join(a.to_bytes(16, "big") for a in v6), dtype=np.uint8)
    got6 = ours.anonymise_v6(raw.reshape(-1, 16))
    assert [int.from_bytes(r.tobytes(), "big") for r in got6] == [
        peer.anonymize_bin(a, 6) for a in v6
    ]


@pytest.mark.parametrize("key", [b"", b"x" * 16, b"x" * 31, b"x" * 33, b"x" * 64])
def test_bad_key_length_is_refused(key: bytes) -> None:
    with pytest.raises(CryptoPanKeyError, match=f"must be 32 bytes.*got {len(key)} bytes"):
        CryptoPan(key)


def test_key_of_wrong_type_is_refused() -> None:
    with pytest.raises(CryptoPanKeyError, match="got str"):
        CryptoPan("x" * 32)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", ["256.1.1.1", "1.2.3", "", "10.0.0.1/24", "2001:db8:::1", "host.example", " 1.2.3.4"]
)
def test_malformed_address_is_refused_by_name(bad: str) -> None:
    with pytest.raises(AddressError, match=re.escape(f"not an IPv4 or IPv6 address: {bad!r}")):
        ANON.anonymise_strings(["192.0.2.1", bad])


def test_bad_array_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="uint32"):
        ANON.anonymise_v4(np.array([1, 2], dtype=np.int64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"shape \(n, 16\)"):
        ANON.anonymise_v6(np.zeros((3, 4), dtype=np.uint8))


def test_mission_key_is_generated_0600_then_loaded(tmp_path: Path) -> None:
    first = mission_key(tmp_path, "unmik-2026")
    path = key_path(tmp_path, "unmik-2026")
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert mission_key(tmp_path, "unmik-2026") == first
    assert mission_key(tmp_path, "other") != first


def test_mission_key_refuses_a_damaged_file_and_bad_ids(tmp_path: Path) -> None:
    path = key_path(tmp_path, "m1")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"short")
    with pytest.raises(CryptoPanKeyError, match="holds 5 bytes, expected 32"):
        mission_key(tmp_path, "m1")
    with pytest.raises(ValueError, match="not usable as a key file name"):
        mission_key(tmp_path, "../escape")
