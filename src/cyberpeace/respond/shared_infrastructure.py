"""Shared infrastructure no action may touch without a human: public resolvers and large CDNs
(``data/shared_infrastructure.yaml``), the mandate's allow list and the safe areas' own hosts."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from cyberpeace.mission import Mandate

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Protected:
    network: Network
    why: str


@cache
def _listed() -> tuple[Protected, ...]:
    path = resources.files("cyberpeace.respond").joinpath("data/shared_infrastructure.yaml")
    raw = yaml.safe_load(path.read_text("utf-8"))
    found = []
    for group, label in (("resolvers", "public resolver"), ("cdns", "content delivery network")):
        for row in raw[group]:
            found.append(Protected(ipaddress.ip_network(row["prefix"]), f"{label} {row['name']}"))
    return tuple(found)


class SharedInfrastructure:
    """Which addresses or prefixes overlap networks that must not be blocked automatically."""

    def __init__(self, protected: Iterable[Protected]) -> None:
        self.protected = tuple(protected)

    @classmethod
    def for_mandate(cls, mandate: Mandate | None) -> SharedInfrastructure:
        found = list(_listed())
        if mandate is not None:
            for entry in mandate.allow_list:
                net = ipaddress.ip_network(entry.prefix)
                found.append(Protected(net, f"the mandate's allow list ({entry.reason})"))
            for area in mandate.safe_areas:
                for net in area.networks():
                    found.append(Protected(net, f"safe area {area.id} of party {area.party}"))
        return cls(found)

    def why(self, value: str) -> str | None:
        """Why ``value`` (an address or prefix) is shared infrastructure, or None."""
        net = ipaddress.ip_network(value, strict=False)
        for item in self.protected:
            if item.network.version == net.version and item.network.overlaps(net):
                return item.why
        return None
