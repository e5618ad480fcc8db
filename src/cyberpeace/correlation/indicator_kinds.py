"""Indicator kinds and the one canonical spelling of a value of each kind.

Two reports of the same observable must meet in the index, so every value is normalised before it
is hashed: addresses in their RFC 5952 text form (an IPv4-mapped IPv6 address as its IPv4
address), prefixes with host bits cleared, ASNs as ``AS<number>`` (asplain, RFC 5396), domains in
lower case A-labels without the root dot, URLs after the syntax- and scheme-based normalisation of
RFC 3986 section 6.2.2-6.2.3, digests and JA3 in lower-case hex, JA4 as FoxIO's ``a_b_c`` form.
A value that is not of its kind raises ``IndicatorError`` naming what is wrong.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml


class IndicatorError(ValueError):
    """A value that is not a valid indicator of the kind it is given as."""


@dataclass(frozen=True)
class Kinds:
    names: tuple[str, ...]  # code order: the index stores a kind as its position here
    weights: dict[str, float]
    aliases: dict[str, str]
    containment_factor: float
    hash_lengths: dict[int, str]
    max_length: int
    default_ports: dict[str, int]
    fanout_limit: int  # rows of one value met per lookup (the newest); the rest are counted

    def code(self, kind: str) -> int:
        return self.names.index(kind)


@cache
def kinds() -> Kinds:
    path = resources.files("cyberpeace.correlation").joinpath("data/kinds.yaml")
    raw: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return Kinds(
        names=tuple(k["name"] for k in raw["kinds"]),
        weights={k["name"]: float(k["weight"]) for k in raw["kinds"]},
        aliases=dict(raw["aliases"]),
        containment_factor=float(raw["containment_factor"]),
        hash_lengths={int(n): str(a) for n, a in raw["hash_lengths"].items()},
        max_length=int(raw["max_length"]),
        default_ports={str(s): int(p) for s, p in raw["default_ports"].items()},
        fanout_limit=int(raw["fanout_limit"]),
    )


_HEX = re.compile(r"^[0-9a-f]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_ASDOT = re.compile(r"^(\d{1,5})\.(\d{1,5})$")
# FoxIO JA4: protocol, TLS version, SNI, cipher and extension counts, ALPN; two 12-hex hashes.
_JA4 = re.compile(
    r"^([tqd](?:1[0-3]|s[23]|d[1-3]|00)[di]\d{4}[0-9a-z]{2})_([0-9a-f]{12})_([0-9a-f]{12})$"
)
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def normalise(kind: str, value: str) -> tuple[str, str]:
    """The canonical ``(kind, value)`` of an indicator; ``kind`` may be an alias or ``hash``."""
    table = kinds()
    if not isinstance(value, str):
        raise IndicatorError(f"an indicator value is text, not {type(value).__name__}")
    if len(value) > table.max_length:
        raise IndicatorError(f"{kind} value of {len(value)} characters; at most {table.max_length}")
    if "\x00" in value:
        raise IndicatorError(f"{kind} value contains a NUL character")
    text = value.strip()
    if not text:
        raise IndicatorError(f"empty {kind} value")
    name = table.aliases.get(kind.lower(), kind.lower())
    if name == "hash":
        name = _hash_kind(text)
    if name not in table.names:
        raise IndicatorError(f"unknown indicator kind {kind!r}; expected one of {table.names}")
    if name in ("address", "prefix"):
        return network_text(text)
    return name, _NORMALISERS[name](text)


def network_text(text: str) -> tuple[str, str]:
    """An address or prefix as ``("address", ...)`` or ``("prefix", ...)``; a /32 or /128 is an
    address, an IPv4-mapped IPv6 value its IPv4 equivalent."""
    if "%" in text:
        raise IndicatorError(f"{text!r}: an address with a zone index is local to one host")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise IndicatorError(f"{text!r} is not an IP address or prefix: {exc}") from None
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is not None and network.prefixlen >= 96:
        network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    if network.num_addresses == 1:
        return "address", str(network.network_address)
    return "prefix", str(network)


def _hash_kind(text: str) -> str:
    algorithm = kinds().hash_lengths.get(len(text))
    if algorithm is None:
        raise IndicatorError(
            f"a hash of {len(text)} hex digits is none of {sorted(kinds().hash_lengths)}"
        )
    return algorithm


def _digest(length: int) -> Any:
    def check(text: str) -> str:
        lower = text.lower()
        if len(lower) != length or not _HEX.match(lower):
            raise IndicatorError(f"{text!r} is not {length} hexadecimal digits")
        return lower

    return check


def _asn(text: str) -> str:
    body = text.upper().removeprefix("AS").strip()
    dotted = _ASDOT.match(body)
    if dotted:  # asdot notation, RFC 5396 section 1
        high, low = int(dotted.group(1)), int(dotted.group(2))
        if high > 0xFFFF or low > 0xFFFF:
            raise IndicatorError(f"{text!r}: each half of an asdot ASN is at most 65535")
        number = high << 16 | low
    elif body.isdigit() and body.isascii():
        number = int(body)
    else:
        raise IndicatorError(f"{text!r} is not an AS number (AS64500, 64500 or AS1.10)")
    if number > 0xFFFFFFFF:
        raise IndicatorError(f"{text!r}: an AS number has 32 bits (RFC 6793)")
    return f"AS{number}"


def _domain(text: str) -> str:
    name = text.lower().removesuffix(".")
    try:
        ascii_name = name.encode("idna").decode("ascii")  # IDNA 2003 ToASCII, RFC 3490
    except UnicodeError as exc:
        raise IndicatorError(f"{text!r} is not a domain name: {exc}") from None
    if len(ascii_name) > 253:
        raise IndicatorError(f"{text!r}: a domain name has at most 253 characters")
    labels = ascii_name.split(".")
    bad = [label for label in labels if not _LABEL.match(label)]
    if bad:
        raise IndicatorError(f"{text!r}: label {bad[0]!r} is not a host name label")
    return ascii_name


def _url(text: str) -> str:
    if any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        raise IndicatorError(f"{text[:80]!r}: a URL has no spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise IndicatorError(f"{text[:80]!r} is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme or not parts.hostname:
        raise IndicatorError(f"{text[:80]!r} is not an absolute URL with a host")
    host = parts.hostname
    if ":" in host:  # an IPv6 literal
        host = f"[{network_text(host)[1]}]"
    elif not re.fullmatch(r"[0-9.]+", host):
        host = _domain(host)
    if port is not None and port != kinds().default_ports.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = _PERCENT.sub(lambda m: m.group(0).upper(), parts.path) or "/"
    query = _PERCENT.sub(lambda m: m.group(0).upper(), parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _ja4(text: str) -> str:
    lower = text.lower()
    if not _JA4.match(lower):
        raise IndicatorError(f"{text!r} is not a JA4 fingerprint like t13d1516h2_8daaf6152771_...")
    return lower


_NORMALISERS: dict[str, Any] = {
    "asn": _asn,
    "domain": _domain,
    "url": _url,
    "md5": _digest(32),
    "sha1": _digest(40),
    "sha256": _digest(64),
    "sha512": _digest(128),
    "ja3": _digest(32),
    "ja4": _ja4,
}
