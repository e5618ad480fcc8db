"""MISP attribute types as the mission's indicators (the table is share/data/misp.yaml).

A value of a mapped type that does not read as its type (an ``ip-src`` that is no address, an
``md5`` of the wrong length) raises ``ValueError`` naming the problem; types the table does not
list, or lists without a kind, are no indicator and are kept with their event only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

MAX_VALUE = 2048  # IndicatorRow.value
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_AS = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)


@cache
def misp_table() -> dict[str, Any]:
    path = resources.files("cyberpeace.share").joinpath("data/misp.yaml")
    table: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return table


@dataclass(frozen=True)
class Indicator:
    kind: str  # ipv4, ipv6, prefix, domain, url, hash, stix
    value: str


def _part(spec: dict[str, Any], kind: str, value: str) -> str:
    if "part" not in spec:
        return value
    parts = value.split("|")
    if len(parts) != 2:
        raise ValueError(f"{kind} value {value!r} is not two parts joined by '|'")
    chosen: str = parts[spec["part"]]
    return chosen.strip()


def _address(value: str) -> Indicator:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or prefix") from None
    if "/" in value and network.num_addresses > 1:
        return Indicator("prefix", str(network))
    return Indicator(f"ipv{network.version}", str(network.network_address))


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _stix(spec: dict[str, Any], value: str) -> Indicator:
    pattern: str = spec["pattern"]
    if pattern == "{raw}":
        if not (value.startswith("[") and value.rstrip().endswith("]")):
            raise ValueError(f"{value[:60]!r} is not a STIX pattern")
        return Indicator("stix", value)
    if "{number}" in pattern:
        match = _AS.match(value.strip())
        if match is None or int(match.group(1)) > 0xFFFFFFFF:
            raise ValueError(f"{value!r} is not an AS number")
        return Indicator("stix", pattern.replace("{number}", str(int(match.group(1)))))
    return Indicator("stix", pattern.replace("{value}", _quoted(value)))


def indicator_of(misp_type: str, value: str) -> Indicator | None:
    """The indicator an attribute's value is, or None when its type makes no indicator."""
    spec = misp_table()["attribute_types"].get(misp_type)
    if spec is None or spec["kind"] is None:
        return None
    if len(value) > MAX_VALUE:
        raise ValueError(f"value of {len(value)} characters; at most {MAX_VALUE} are kept")
    part = _part(spec, misp_type, value.strip())
    kind = spec["kind"]
    if kind == "address":
        return _address(part)
    if kind == "domain":
        if not _DOMAIN.match(part):
            raise ValueError(f"{part!r} is not a domain name")
        return Indicator("domain", part.lower().rstrip("."))
    if kind == "url":
        if not _URL.match(part):
            raise ValueError(f"{part[:80]!r} is not a URL")
        return Indicator("url", part)
    if kind == "hash":
        if len(part) != spec["length"] or not _HEX.match(part):
            raise ValueError(f"{part[:80]!r} is not {spec['length']} hexadecimal digits")
        return Indicator("hash", part.lower())
    return _stix(spec, part)


def role_of(misp_type: str) -> str | None:
    """``source`` or ``target`` when the attribute names one end of the attack."""
    spec = misp_table()["attribute_types"].get(misp_type) or {}
    role: str | None = spec.get("role")
    return role
