"""Normalisation per kind: one canonical spelling, and a clear refusal of what is not valid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyberpeace.correlation import IndicatorError, kinds, normalise

SAME = [
    # (kind given, value given, canonical kind, canonical value)
    ("ipv4", " 192.0.2.1 ", "address", "192.0.2.1"),
    ("ipv6", "2001:DB8:0:0:0:0:0:1", "address", "2001:db8::1"),
    ("address", "::ffff:192.0.2.1", "address", "192.0.2.1"),
    ("prefix", "192.0.2.77/24", "prefix", "192.0.2.0/24"),
    ("prefix", "192.0.2.7/32", "address", "192.0.2.7"),
    ("cidr", "2001:db8::1/48", "prefix", "2001:db8::/48"),
    ("prefix", "::ffff:198.51.100.0/120", "prefix", "198.51.100.0/24"),
    ("asn", "as64500", "asn", "AS64500"),
    ("asn", "64500", "asn", "AS64500"),
    ("asn", "AS1.10", "asn", "AS65546"),
    ("domain", "Evil.Example.", "domain", "evil.example"),
    ("domain-name", "bücher.example", "domain", "xn--bcher-kva.example"),
    ("url", "HTTP://Evil.Example:80/a%2fb?q=%3d#frag", "url", "http://evil.example/a%2Fb?q=%3D"),
    ("url", "https://evil.example:8443", "url", "https://evil.example:8443/"),
    ("url", "http://[2001:DB8::1]/x", "url", "http://[2001:db8::1]/x"),
    ("hash", "D41D8CD98F00B204E9800998ECF8427E", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
    (
        "hash",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "sha1",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    ),
    (
        "sha256",
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    ("ja3", "E7D705A3286E19EA42F587B344EE6865", "ja3", "e7d705a3286e19ea42f587b344ee6865"),
    ("ja4", "T13D1516H2_8DAAF6152771_B186095E22B6", "ja4", "t13d1516h2_8daaf6152771_b186095e22b6"),
]


@pytest.mark.parametrize(("kind", "value", "canonical_kind", "canonical"), SAME)
def test_values_are_normalised(kind: str, value: str, canonical_kind: str, canonical: str) -> None:
    assert normalise(kind, value) == (canonical_kind, canonical)


REFUSED = [
    ("address", "256.1.1.1", "not an IP address"),
    ("address", "fe80::1%eth0", "zone index"),
    ("asn", "AS4294967296", "32 bits"),
    ("asn", "ASfoo", "not an AS number"),
    ("asn", "AS70000.1", "at most 65535"),
    ("domain", "evil..example", "not a domain name"),
    ("domain", "-evil.example", "not a host name label"),
    ("domain", "a" * 64 + ".example", "not a domain name"),
    ("domain", "evil_.exa mple", "not a host name label"),
    ("url", "evil.example/path", "absolute URL"),
    ("url", "http://evil.example/a b", "no spaces"),
    ("url", "http://evil.example:99999/", "not a URL"),
    ("md5", "xyz", "32 hexadecimal digits"),
    ("hash", "abc", "none of"),
    ("ja4", "t13d1516h2_8daaf6152771", "not a JA4"),
    ("ja4", "x13d1516h2_8daaf6152771_b186095e22b6", "not a JA4"),
    ("colour", "red", "unknown indicator kind"),
    ("domain", "", "empty"),
    ("url", "http://e.example/" + "a" * 3000, "at most 2048"),
    ("domain", "evil\x00.example", "NUL"),
]


@pytest.mark.parametrize(("kind", "value", "message"), REFUSED)
def test_invalid_values_are_refused_with_the_reason(kind: str, value: str, message: str) -> None:
    with pytest.raises(IndicatorError, match=message.replace(".", r"\.").replace("(", r"\(")):
        normalise(kind, value)


def test_every_kind_has_a_weight_and_aliases_name_known_kinds() -> None:
    table = kinds()
    assert set(table.weights) == set(table.names)
    assert set(table.aliases.values()) <= set(table.names) | {"hash"}


@given(st.sampled_from([*kinds().names, "hash", "ipv4"]), st.text(max_size=300))
def test_any_text_is_normalised_or_refused_cleanly(kind: str, value: str) -> None:
    try:
        canonical_kind, canonical = normalise(kind, value)
    except IndicatorError:
        return
    # A canonical value is a fixed point: normalising it again changes nothing.
    assert normalise(canonical_kind, canonical) == (canonical_kind, canonical)


@given(st.ip_addresses(), st.integers(0, 128))
def test_networks_are_fixed_points(address: object, length: int) -> None:
    text = f"{address}/{min(length, 32 if ':' not in str(address) else 128)}"
    kind, canonical = normalise("prefix", text)
    assert normalise(kind, canonical) == (kind, canonical)
