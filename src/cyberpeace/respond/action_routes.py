"""The BGP routes that put a planned ``flowspec`` or ``rtbh`` action in force.

A FlowSpec NLRI matches one source prefix (RFC 8955 section 4.2.2, type 2), so an action naming
several sources becomes one route per source; without sources it is one route for the whole
destination. RTBH announces the victim's host prefix with BLACKHOLE (RFC 7999) towards a next hop
that the upstream routers discard: 192.0.2.1 (TEST-NET-1, RFC 5737) or 100::1 (the IPv6 discard
prefix, RFC 6666) unless the settings name another.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from cyberpeace.respond.action import Action
from cyberpeace.respond.bgp_routes import (
    BLACKHOLE,
    NO_EXPORT,
    BgpRoute,
    BlackholeRoute,
    Discard,
    FlowSpecRoute,
    PortRange,
    RateLimit,
    RouteError,
    as_ranges,
    parse_network,
)

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "sctp": 132, "ipv6-icmp": 58}
DISCARD_NEXT_HOPS = {4: "192.0.2.1", 6: "100::1"}


def routes_of(action: Action, next_hops: Mapping[int, str] | None = None) -> list[BgpRoute]:
    """The routes for ``action``; raises ``RouteError`` naming what cannot be expressed."""
    if action.kind == "flowspec":
        return _flowspec(action.parameters)
    if action.kind == "rtbh":
        return [_blackhole(action.parameters, {**DISCARD_NEXT_HOPS, **(next_hops or {})})]
    raise RouteError(f"action kind {action.kind!r} is not a BGP mitigation")


def _flowspec(parameters: Mapping[str, Any]) -> list[BgpRoute]:
    destination = parse_network(str(parameters["destination"]), "destination")
    shared: dict[str, Any] = {
        "destination": destination,
        "action": _then(parameters),
        "protocol": _protocol(parameters.get("protocol")),
        "source_ports": as_ranges(parameters.get("source_ports") or (), "source port"),
        "destination_ports": as_ranges(parameters.get("destination_ports") or (), "port"),
        "packet_length": _length(parameters.get("packet_length")),
    }
    sources = parameters.get("sources") or [None]
    return [
        FlowSpecRoute(source=None if s is None else parse_network(str(s), "source"), **shared)
        for s in sources
    ]


def _blackhole(parameters: Mapping[str, Any], next_hops: Mapping[int, str]) -> BlackholeRoute:
    prefix = parse_network(str(parameters["prefix"]), "prefix")
    # RFC 7999 section 3.2: a blackhole route should not leave the neighbouring network.
    asked = [str(c) for c in parameters.get("communities") or ()]
    communities = tuple(dict.fromkeys([*asked, BLACKHOLE, NO_EXPORT]))
    hop = ipaddress.ip_address(next_hops[prefix.version])
    return BlackholeRoute(prefix=prefix, next_hop=hop, communities=communities)


def _then(parameters: Mapping[str, Any]) -> Discard | RateLimit:
    then = parameters.get("then", "discard")
    if then == "discard":
        return Discard()
    if then == "rate-limit":
        return RateLimit(bytes_per_second=int(parameters["bytes_per_second"]))
    raise RouteError(f"FlowSpec action {then!r} is neither discard nor rate-limit")


def _protocol(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    number = PROTOCOL_NUMBERS.get(str(value).lower())
    if number is None:
        raise RouteError(f"protocol {value!r} has no number here; give it as an integer")
    return number


def _length(value: Any) -> PortRange | None:
    if not value:
        return None
    return PortRange(int(value["min"]), int(value["max"]))
