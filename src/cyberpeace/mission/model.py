"""The mandate: the mission's founding document, as typed models.

The YAML format is documented in ``docs/mandate.md``; ``load_mandate`` in ``loader.py`` reads it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from cyberpeace.mission.vocabulary import vocabulary

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)*[a-z0-9-]{1,63}(?<!-)$")
_IDENT = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"invalid CIDR prefix {value!r}: {exc}") from None


def _host(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"invalid IP address {value!r}") from None


def _domain(value: str) -> str:
    lowered = value.lower().rstrip(".")
    if not _DOMAIN.match(lowered):
        raise ValueError(f"invalid domain name {value!r}")
    return lowered


def _in(kind: str, allowed: frozenset[str] | tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {kind} {value!r}; expected one of {sorted(allowed)}")
        return value

    return AfterValidator(check)


_VOCAB = vocabulary()
Prefix = Annotated[str, AfterValidator(_network)]
Domain = Annotated[str, AfterValidator(_domain)]
Ident = Annotated[str, Field(pattern=_IDENT)]
Sector = Annotated[str, _in("sector", _VOCAB.sectors)]
Criticality = Annotated[str, _in("criticality", _VOCAB.criticality)]
Conduct = Annotated[str, _in("conduct", _VOCAB.conduct)]
ActionKind = Annotated[str, _in("action", frozenset(_VOCAB.actions))]
Tlp = Annotated[str, _in("TLP level", _VOCAB.tlp)]
Asn = Annotated[int, Field(ge=1, le=4_294_967_295)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    name: str
    email: str | None = None
    phone: str | None = None


class Territory(_Strict):
    """A party's digital border: the address space, ASNs and domains it answers for."""

    prefixes: list[Prefix] = []
    asns: list[Asn] = []
    domains: list[Domain] = []

    def networks(self) -> list[Network]:
        return [ipaddress.ip_network(p) for p in self.prefixes]


class Party(_Strict):
    id: Ident
    name: str
    country: str
    contact: Contact
    territory: Territory = Territory()

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        code = value.upper()
        if code not in _VOCAB.countries:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code


class SafeArea(_Strict):
    """Protected assets with a sector and a criticality."""

    id: Ident
    name: str
    party: Ident
    sector: Sector
    criticality: Criticality = "high"
    prefixes: list[Prefix] = []
    hosts: list[Annotated[str, AfterValidator(_host)]] = []
    domains: list[Domain] = []

    def networks(self) -> list[Network]:
        """Prefixes and hosts (as /32 or /128) together."""
        nets = [ipaddress.ip_network(p) for p in self.prefixes]
        return nets + [ipaddress.ip_network(h) for h in self.hosts]


class Protects(_Strict):
    safe_areas: list[Ident] = []
    sectors: list[Sector] = []


class Term(_Strict):
    """A commitment the parties accepted, e.g. a ceasefire's cyber clause."""

    id: Ident
    title: str
    instrument: str = Field(description="The agreement and article the term comes from.")
    bound: list[Ident] = Field(min_length=1, description="Parties bound by the term.")
    prohibited: list[Conduct] = Field(min_length=1)
    protects: Protects
    effective_from: datetime
    effective_until: datetime | None = None


class Engagement(_Strict):
    """One rule of engagement: an action the mission may take and under which limits."""

    action: ActionKind
    allowed: bool = True
    approvals: int = Field(ge=0, le=5, description="Distinct people who must approve first.")
    max_duration: timedelta = Field(gt=timedelta(0))

    @property
    def scope(self) -> str:
        return _VOCAB.actions[self.action]


class AllowListEntry(_Strict):
    prefix: Prefix
    reason: str


class Retention(_Strict):
    flows: timedelta = timedelta(days=30)
    detections: timedelta = timedelta(days=365)
    evidence: timedelta = timedelta(days=3650)


class DataPolicy(_Strict):
    default_tlp: Tlp = "TLP:AMBER"
    retention: Retention = Retention()
    anonymise_exports: bool = True


class Mission(_Strict):
    id: Ident
    name: str
    authority: str = Field(default="", description="The resolution or agreement that mandates it.")


class Mandate(_Strict):
    """The whole mandate document."""

    schema_version: Literal[1] = 1
    mission: Mission
    parties: list[Party] = Field(min_length=1)
    safe_areas: list[SafeArea] = []
    terms: list[Term] = []
    rules_of_engagement: list[Engagement] = []
    allow_list: list[AllowListEntry] = []
    data_policy: DataPolicy = DataPolicy()

    def party(self, party_id: str) -> Party:
        for party in self.parties:
            if party.id == party_id:
                return party
        raise KeyError(party_id)

    def engagement(self, action: str) -> Engagement | None:
        return next((e for e in self.rules_of_engagement if e.action == action), None)
