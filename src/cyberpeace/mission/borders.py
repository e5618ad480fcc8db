"""The digital borders: which party and which safe area an address belongs to.

Built once from the mandate; every lookup takes a numpy array of addresses and returns an array
of indexes into ``party_ids`` or ``safe_area_ids`` (-1 where no party or safe area holds it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from cyberpeace.mission.model import Mandate, Network
from cyberpeace.mission.prefixes import NO_MATCH, PrefixTable4, PrefixTable6, coverage_bits


@dataclass(frozen=True)
class _Tables:
    v4: PrefixTable4
    v6: PrefixTable6

    @classmethod
    def build(cls, owned: Sequence[tuple[Network, int]]) -> _Tables:
        v4 = [(n, label) for n, label in owned if isinstance(n, ipaddress.IPv4Network)]
        v6 = [(n, label) for n, label in owned if isinstance(n, ipaddress.IPv6Network)]
        return cls(
            PrefixTable4([n for n, _ in v4], [label for _, label in v4]),
            PrefixTable6([n for n, _ in v6], [label for _, label in v6]),
        )


class Borders:
    """Vectorised address-to-party and address-to-safe-area lookup."""

    def __init__(
        self,
        party_ids: Sequence[str],
        territory: Sequence[tuple[Network, int]],
        safe_area_ids: Sequence[str],
        safe_areas: Sequence[tuple[Network, int]],
    ) -> None:
        self.party_ids = list(party_ids)
        self.safe_area_ids = list(safe_area_ids)
        self._parties = _Tables.build(territory)
        self._areas = _Tables.build(safe_areas)

    @classmethod
    def from_mandate(cls, mandate: Mandate) -> Borders:
        territory = [
            (net, i)
            for i, party in enumerate(mandate.parties)
            for net in party.territory.networks()
        ]
        areas = [(net, i) for i, area in enumerate(mandate.safe_areas) for net in area.networks()]
        return cls(
            [p.id for p in mandate.parties],
            territory,
            [s.id for s in mandate.safe_areas],
            areas,
        )

    def party_v4(self, addresses: NDArray[np.uint32]) -> NDArray[np.int32]:
        return self._parties.v4.lookup(addresses)

    def party_v6(self, addresses: NDArray[np.bytes_]) -> NDArray[np.int32]:
        return self._parties.v6.lookup(addresses)

    def safe_area_v4(self, addresses: NDArray[np.uint32]) -> NDArray[np.int32]:
        return self._areas.v4.lookup(addresses)

    def safe_area_v6(self, addresses: NDArray[np.bytes_]) -> NDArray[np.int32]:
        return self._areas.v6.lookup(addresses)

    @cached_property
    def inside_v4(self) -> NDArray[np.uint64]:
        """The /24s that hold an address of a party's territory or of a safe area, as a bitmap
        (``prefixes.coverage_bits``) for compiled passes: an IPv4 address outside them is
        outside the borders, told without reading the 64 MiB tables; one inside them may
        still be outside, in a /24 that a longer prefix splits."""
        return coverage_bits([self._parties.v4, self._areas.v4])

    def party_for(self, address: str) -> str | None:
        """The party whose territory holds one address (a convenience over the array form)."""
        return _name(self.party_ids, self._one(self._parties, address))

    def safe_area_for(self, address: str) -> str | None:
        """The safe area that holds one address, if any."""
        return _name(self.safe_area_ids, self._one(self._areas, address))

    @staticmethod
    def _one(tables: _Tables, address: str) -> int:
        ip = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv4Address):
            return int(tables.v4.lookup(np.array([int(ip)], dtype=np.uint32))[0])
        return int(tables.v6.lookup(np.array([ip.packed], dtype="S16"))[0])


def _name(names: list[str], index: int) -> str | None:
    return None if index == NO_MATCH else names[index]
