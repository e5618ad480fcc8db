"""BGP mitigation routes: FlowSpec rules and remotely triggered black-hole routes.

A ``FlowSpecRoute`` is one Flow Specification NLRI with its action: the match components of
RFC 8955 section 4.2.2 (IPv4) and RFC 8956 section 3 (IPv6), and a traffic-rate extended
community (RFC 8955 section 7.3; a rate of 0 bytes/s is "discard"). A ``BlackholeRoute`` is a
unicast route tagged with the BLACKHOLE community 65535:666 of RFC 7999, with NO_EXPORT
(RFC 1997) as RFC 7999 section 3.2 recommends, and a next hop that the upstream routes to a
discard interface.

Both validate themselves when built and render to ExaBGP API text commands. How wide a
destination may be is a policy, not a syntax question: ``PrefixLimits`` refuses routes whose
destination is wider than configured (a /0 FlowSpec would drop every packet).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Family = Literal["ipv4", "ipv6"]

BLACKHOLE = "65535:666"  # RFC 7999 section 5
NO_EXPORT = "65535:65281"  # RFC 1997
TCP = 6
PORT_PROTOCOLS = frozenset({6, 17, 132})  # TCP, UDP, SCTP: protocols with ports
# RFC 8955 section 4.2.2.9 bit names, as ExaBGP spells them
TCP_FLAGS = frozenset({"fin", "syn", "rst", "push", "ack", "urg", "ece", "cwr"})
# RFC 8955 section 4.2.2.12; RFC 8956 section 3.6 drops don't-fragment for IPv6
FRAGMENT_FLAGS = frozenset({"dont-fragment", "is-fragment", "first-fragment", "last-fragment"})
MIN_RATE_BYTES = 1
MAX_RATE_BYTES = 10**12  # what ExaBGP encodes; above it ExaBGP would silently clamp


class RouteError(ValueError):
    """A route that cannot be announced as given; the message names the field and the value."""


def parse_network(value: str | Network, what: str) -> Network:
    """The network written as ``value``, refusing host bits set and anything not a prefix."""
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise RouteError(f"{what}: expected a prefix such as 192.0.2.1/32, got {value!r}")
    text = value if "/" in value else value + ("/128" if ":" in value else "/32")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise RouteError(f"{what}: {value!r} is not a valid prefix ({exc})") from None


def parse_address(
    value: str | ipaddress.IPv4Address | ipaddress.IPv6Address, what: str
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise RouteError(f"{what}: {value!r} is not an IP address") from None


@dataclass(frozen=True, order=True)
class PortRange:
    """An inclusive range of port numbers (or packet lengths), both ends in 0..65535."""

    low: int
    high: int

    def __post_init__(self) -> None:
        for end in (self.low, self.high):
            if isinstance(end, bool) or not isinstance(end, int) or not 0 <= end <= 65535:
                raise RouteError(f"range end {end!r} is not an integer in 0..65535")
        if self.low > self.high:
            raise RouteError(f"range {self.low}-{self.high} is reversed (low above high)")

    def render(self) -> str:
        """RFC 8955 section 4.2.1.1 numeric operators: ``=53`` or ``>=1024&<=2048``."""
        if self.low == self.high:
            return f"={self.low}"
        return f">={self.low}&<={self.high}"


RangeLike = int | tuple[int, int] | PortRange


def as_ranges(value: Iterable[RangeLike], what: str) -> tuple[PortRange, ...]:
    ranges: list[PortRange] = []
    for item in value:
        try:
            if isinstance(item, PortRange):
                ranges.append(item)
            elif isinstance(item, tuple):
                low, high = item
                ranges.append(PortRange(low, high))
            else:
                ranges.append(PortRange(item, item))
        except (RouteError, ValueError, TypeError) as exc:
            raise RouteError(f"{what}: {exc}") from None
    return tuple(sorted(set(ranges)))


@dataclass(frozen=True)
class Discard:
    """Drop all matching traffic: traffic-rate-bytes 0 (RFC 8955 section 7.3)."""

    def render(self) -> str:
        return "discard"


@dataclass(frozen=True)
class RateLimit:
    """Police matching traffic to ``bytes_per_second``: traffic-rate-bytes (RFC 8955 7.3)."""

    bytes_per_second: int

    def __post_init__(self) -> None:
        rate = self.bytes_per_second
        if isinstance(rate, bool) or not isinstance(rate, int):
            raise RouteError(f"rate limit {rate!r} is not an integer number of bytes/s")
        if not MIN_RATE_BYTES <= rate <= MAX_RATE_BYTES:
            raise RouteError(
                f"rate limit {rate} bytes/s is outside {MIN_RATE_BYTES}..{MAX_RATE_BYTES}"
                " (use Discard for 0)"
            )

    def render(self) -> str:
        return f"rate-limit {self.bytes_per_second}"


FlowAction = Discard | RateLimit


@dataclass(frozen=True)
class FlowSpecRoute:
    """One FlowSpec rule: the traffic it matches and what upstream routers do with it.

    Components left empty match anything (RFC 8955 section 4.2.2). Ports and packet lengths
    are tuples of inclusive ranges, OR-ed together; ``tcp_flags`` must all be set and
    ``tcp_flags_unset`` none set (bitmask operators, section 4.2.1.2); ``fragment`` matches a
    packet with any of the listed bits.
    """

    destination: Network
    action: FlowAction = field(default_factory=Discard)
    source: Network | None = None
    protocol: int | None = None
    source_ports: tuple[PortRange, ...] = ()
    destination_ports: tuple[PortRange, ...] = ()
    packet_length: PortRange | None = None
    tcp_flags: frozenset[str] = frozenset()
    tcp_flags_unset: frozenset[str] = frozenset()
    fragment: frozenset[str] = frozenset()

    kind: ClassVar[Literal["flowspec"]] = "flowspec"

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "destination", parse_network(self.destination, "destination"))
        if self.source is not None:
            set_(self, "source", parse_network(self.source, "source"))
            if self.source.version != self.destination.version:
                raise RouteError(
                    f"source {self.source} and destination {self.destination} differ in family"
                )
        if not isinstance(self.action, Discard | RateLimit):
            raise RouteError(f"action {self.action!r} is neither Discard nor RateLimit")
        self._check_protocol()
        set_(self, "source_ports", as_ranges(self.source_ports, "source port"))
        set_(self, "destination_ports", as_ranges(self.destination_ports, "destination port"))
        if self.packet_length is not None and not isinstance(self.packet_length, PortRange):
            set_(self, "packet_length", as_ranges([self.packet_length], "packet length")[0])
        self._check_flags()

    def _check_protocol(self) -> None:
        protocol = self.protocol
        if protocol is not None and (
            isinstance(protocol, bool) or not isinstance(protocol, int) or not 0 <= protocol <= 255
        ):
            raise RouteError(f"protocol {protocol!r} is not an integer in 0..255")

    def _check_flags(self) -> None:
        set_ = object.__setattr__
        for name, allowed in (
            ("tcp_flags", TCP_FLAGS),
            ("tcp_flags_unset", TCP_FLAGS),
            ("fragment", self._fragment_flags()),
        ):
            value = getattr(self, name)
            if isinstance(value, str):
                raise RouteError(f"{name}: give a set of names, not the string {value!r}")
            flags = frozenset(value)
            unknown = sorted(str(flag) for flag in flags - allowed)
            if unknown:
                raise RouteError(f"{name}: unknown {unknown}; allowed {sorted(allowed)}")
            set_(self, name, flags)
        if self.tcp_flags & self.tcp_flags_unset:
            both = sorted(self.tcp_flags & self.tcp_flags_unset)
            raise RouteError(f"tcp flags {both} are required both set and unset")
        if (self.tcp_flags or self.tcp_flags_unset) and self.protocol != TCP:
            raise RouteError("tcp flags need protocol 6 (TCP)")
        if (self.source_ports or self.destination_ports) and self.protocol not in PORT_PROTOCOLS:
            raise RouteError(
                f"ports need protocol TCP, UDP or SCTP (6, 17, 132), not {self.protocol!r}"
            )

    def _fragment_flags(self) -> frozenset[str]:
        if self.family == "ipv6":
            return FRAGMENT_FLAGS - {"dont-fragment"}
        return FRAGMENT_FLAGS

    @property
    def family(self) -> Family:
        return "ipv4" if self.destination.version == 4 else "ipv6"

    def match_text(self) -> str:
        """The match components, in the order of RFC 8955 section 4.2.2 (type 1 to 12)."""
        parts = [f"destination {self.destination}"]
        if self.source is not None:
            parts.append(f"source {self.source}")
        if self.protocol is not None:
            word = "protocol" if self.family == "ipv4" else "next-header"  # RFC 8956 3.3
            parts.append(f"{word} [={self.protocol}]")
        for word, ranges in (
            ("destination-port", self.destination_ports),
            ("source-port", self.source_ports),
        ):
            if ranges:
                parts.append(f"{word} [{' '.join(r.render() for r in ranges)}]")
        if self.tcp_flags or self.tcp_flags_unset:
            parts.append(f"tcp-flags [{self._flags_text()}]")
        if self.packet_length is not None:
            parts.append(f"packet-length [{self.packet_length.render()}]")
        if self.fragment:
            parts.append(f"fragment [{' '.join(sorted(self.fragment))}]")
        return " ".join(parts)

    def _flags_text(self) -> str:
        terms = []
        if self.tcp_flags:
            terms.append("=" + "+".join(sorted(self.tcp_flags)))  # m bit: all of them set
        if self.tcp_flags_unset:
            terms.append("!" + "+".join(sorted(self.tcp_flags_unset)))  # none of them set
        return "&".join(terms)

    def key(self) -> str:
        """The NLRI's identity: two routes with the same match are one route to BGP."""
        return f"flow {self.match_text()}"

    def announce_command(self, neighbor: str | None = None) -> str:
        return f"{_neighbor(neighbor)}announce flow route {self._nlri_and_action()}"

    def withdraw_command(self, neighbor: str | None = None) -> str:
        return f"{_neighbor(neighbor)}withdraw flow route {self._nlri_and_action()}"

    def _nlri_and_action(self) -> str:
        return f"{self.match_text()} {self.action.render()}"


@dataclass(frozen=True)
class BlackholeRoute:
    """A remotely triggered black-hole route for ``prefix`` (RFC 7999).

    ``next_hop`` is the address the upstream's routers map to a discard interface; the
    communities always include BLACKHOLE, and NO_EXPORT unless ``communities`` is given
    explicitly without it.
    """

    prefix: Network
    next_hop: ipaddress.IPv4Address | ipaddress.IPv6Address
    communities: tuple[str, ...] = (BLACKHOLE, NO_EXPORT)

    kind: ClassVar[Literal["rtbh"]] = "rtbh"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "prefix", parse_network(self.prefix, "prefix"))
        set_(self, "next_hop", parse_address(self.next_hop, "next hop"))
        if self.next_hop.version != self.prefix.version:
            raise RouteError(f"next hop {self.next_hop} and prefix {self.prefix} differ in family")
        if isinstance(self.communities, str):
            raise RouteError("communities: give a sequence such as ('65535:666',), not a string")
        communities = tuple(dict.fromkeys(_community(c) for c in self.communities))
        if BLACKHOLE not in communities:
            communities = (BLACKHOLE, *communities)
        set_(self, "communities", communities)

    @property
    def family(self) -> Family:
        return "ipv4" if self.prefix.version == 4 else "ipv6"

    @property
    def destination(self) -> Network:
        return self.prefix

    def key(self) -> str:
        return f"route {self.prefix}"

    def announce_command(self, neighbor: str | None = None) -> str:
        return (
            f"{_neighbor(neighbor)}announce route {self.prefix} next-hop {self.next_hop}"
            f" origin igp community [{' '.join(self.communities)}]"
        )

    def withdraw_command(self, neighbor: str | None = None) -> str:
        return f"{_neighbor(neighbor)}withdraw route {self.prefix} next-hop {self.next_hop}"


BgpRoute = FlowSpecRoute | BlackholeRoute


def _community(value: str) -> str:
    """A standard community ``asn:value`` (RFC 1997), both halves 16-bit."""
    text = str(value).strip()
    halves = text.split(":")
    if len(halves) != 2 or not all(h.isdigit() and int(h) <= 65535 for h in halves):
        raise RouteError(f"community {value!r} is not ASN:VALUE with both in 0..65535")
    return f"{int(halves[0])}:{int(halves[1])}"


def _neighbor(neighbor: str | None) -> str:
    if neighbor is None:
        return ""
    return f"neighbor {parse_address(neighbor, 'neighbor')} "


@dataclass(frozen=True)
class PrefixLimits:
    """The widest destination each kind of route may cover (shortest prefix length).

    Defaults: a FlowSpec rule may cover at most an IPv4 /24 or an IPv6 /48; a black hole only
    the victim's address (/32 or /128), because RTBH drops all traffic to it, legitimate too.
    """

    flowspec_ipv4: int = 24
    flowspec_ipv6: int = 48
    rtbh_ipv4: int = 32
    rtbh_ipv6: int = 128

    def __post_init__(self) -> None:
        for name, top in (
            ("flowspec_ipv4", 32),
            ("flowspec_ipv6", 128),
            ("rtbh_ipv4", 32),
            ("rtbh_ipv6", 128),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise RouteError(f"prefix limit {name}={value!r} is not in 1..{top}")

    def check(self, route: BgpRoute) -> None:
        """Raise ``RouteError`` if ``route`` covers more than the limit for its kind."""
        limit = getattr(self, f"{route.kind}_{route.family}")
        if route.destination.prefixlen < limit:
            raise RouteError(
                f"{route.kind} destination {route.destination} is wider than the limit /{limit}"
                f" for {route.family}"
            )
