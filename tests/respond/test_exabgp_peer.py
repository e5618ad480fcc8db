"""The ExaBGP enforcer against a real BGP daemon: routes appear in gobgpd's RIB and go again.

ExaBGP (pip) runs our generated exabgp.conf and bridge and peers on loopback with gobgpd
(Debian package gobgpd); every assertion reads gobgpd's RIB through ``gobgp ... -j``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cyberpeace.respond.action_routes import routes_of
from cyberpeace.respond.bgp_routes import (
    BLACKHOLE,
    NO_EXPORT,
    BlackholeRoute,
    Discard,
    FlowSpecRoute,
    PortRange,
    RateLimit,
    RouteError,
)
from cyberpeace.respond.enforcers.exabgp import EnforcerUnavailable, ExaBgpEnforcer, utc_now
from tests.respond.gobgp_peer import (
    PEER_ADDRESS,
    PEER_AS,
    GoBgpPeer,
    attribute,
    bgp_lab,
    flow_components,
    gobgp_installed,
    wait_for,
)

pytestmark = pytest.mark.skipif(not gobgp_installed(), reason="gobgpd not installed")

UDP = 17
# RFC 8955 section 4.2.2 component types and section 7 extended community sub-type
DESTINATION, SOURCE, PROTOCOL, DEST_PORT, SOURCE_PORT, PACKET_LENGTH = 1, 2, 3, 5, 6, 10
EXTENDED_COMMUNITIES, COMMUNITIES, NEXT_HOP = 16, 8, 3
TRAFFIC_RATE = 6


# RFC 8955 section 4.2.1.1 numeric operator bits (end-of-list and length masked off)
AND, LT, GT, EQ = 0x40, 0x04, 0x02, 0x01


def numeric(component: list[dict[str, int]]) -> list[tuple[int, int]]:
    return [(term["op"] & (AND | LT | GT | EQ), term["value"]) for term in component]


def community_value(text: str) -> int:
    high, low = (int(half) for half in text.split(":"))
    return high << 16 | low


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GoBgpPeer, ExaBgpEnforcer]]:
    directory = tmp_path_factory.mktemp("bgp")
    with bgp_lab(directory) as (peer, speaker):
        enforcer = ExaBgpEnforcer(speaker.config.socket_path)
        wait_for(lambda: any(s.established for s in enforcer.sessions()))
        yield peer, enforcer


def flow_path(peer: GoBgpPeer, family: str, destination: str) -> dict[str, Any] | None:
    for paths in peer.rib(family).values():
        for path in paths:
            if flow_components(path)[DESTINATION]["prefix"] == destination:
                return path
    return None


def reflection_rule(victim: str) -> FlowSpecRoute:
    return FlowSpecRoute(
        destination=ipaddress.ip_network(victim),
        protocol=UDP,
        source_ports=(PortRange(53, 53),),
        packet_length=PortRange(512, 65535),
        action=Discard(),
    )


def test_flowspec_discard_appears_in_the_rib_and_goes_on_withdraw(lab: Any) -> None:
    peer, enforcer = lab
    route = reflection_rule("192.0.2.10/32")
    started = time.perf_counter()
    enforcer.announce(route)
    path = wait_for(lambda: flow_path(peer, "ipv4-flowspec", "192.0.2.10/32"))
    latency = time.perf_counter() - started
    print(f"announce -> in gobgpd RIB: {latency * 1000:.1f} ms")

    components = flow_components(path)
    assert numeric(components[PROTOCOL]) == [(EQ, UDP)]  # end-of-list | equals
    assert numeric(components[SOURCE_PORT]) == [(EQ, 53)]
    assert numeric(components[PACKET_LENGTH]) == [(GT | EQ, 512), (AND | LT | EQ, 65535)]
    assert DEST_PORT not in components
    assert SOURCE not in components
    rate = attribute(path, EXTENDED_COMMUNITIES)["value"]
    assert rate == [{"type": 128, "subtype": TRAFFIC_RATE, "as": 0, "rate": 0}]  # discard
    assert [a.route for a in enforcer.announced()] == [route]

    enforcer.withdraw(route)
    wait_for(lambda: flow_path(peer, "ipv4-flowspec", "192.0.2.10/32") is None)
    assert enforcer.announced() == []


def test_rate_limit_and_ipv6_flowspec(lab: Any) -> None:
    peer, enforcer = lab
    limited = FlowSpecRoute(
        destination=ipaddress.ip_network("198.51.100.7/32"),
        source=ipaddress.ip_network("203.0.113.0/24"),
        protocol=6,
        destination_ports=(PortRange(443, 443),),
        tcp_flags=frozenset({"syn"}),
        tcp_flags_unset=frozenset({"ack"}),
        action=RateLimit(125_000),
    )
    v6 = FlowSpecRoute(
        destination=ipaddress.ip_network("2001:db8::53/128"),
        protocol=UDP,
        source_ports=(PortRange(123, 123),),
    )
    enforcer.announce(limited)
    enforcer.announce(v6)
    path = wait_for(lambda: flow_path(peer, "ipv4-flowspec", "198.51.100.7/32"))
    assert flow_components(path)[SOURCE]["prefix"] == "203.0.113.0/24"
    assert numeric(flow_components(path)[DEST_PORT]) == [(EQ, 443)]
    assert attribute(path, EXTENDED_COMMUNITIES)["value"][0]["rate"] == 125_000
    path6 = wait_for(lambda: flow_path(peer, "ipv6-flowspec", "2001:db8::53/128"))
    assert numeric(flow_components(path6)[SOURCE_PORT]) == [(EQ, 123)]
    enforcer.withdraw(limited)
    enforcer.withdraw(v6)
    wait_for(lambda: flow_path(peer, "ipv4-flowspec", "198.51.100.7/32") is None)
    wait_for(lambda: flow_path(peer, "ipv6-flowspec", "2001:db8::53/128") is None)


def test_rtbh_carries_blackhole_and_no_export(lab: Any) -> None:
    peer, enforcer = lab
    route = BlackholeRoute(
        prefix=ipaddress.ip_network("192.0.2.66/32"),
        next_hop=ipaddress.ip_address("192.0.2.254"),
    )
    enforcer.announce(route)
    paths = wait_for(lambda: peer.rib("ipv4").get("192.0.2.66/32"))
    communities = attribute(paths[0], COMMUNITIES)["communities"]
    assert communities == [community_value(BLACKHOLE), community_value(NO_EXPORT)]
    assert attribute(paths[0], NEXT_HOP)["nexthop"] == "192.0.2.254"
    enforcer.withdraw(route)
    wait_for(lambda: "192.0.2.66/32" not in peer.rib("ipv4"))


def test_expiry_sweep_withdraws_only_the_expired_route(lab: Any) -> None:
    peer, enforcer = lab
    soon, later = reflection_rule("192.0.2.20/32"), reflection_rule("192.0.2.21/32")
    now = utc_now()
    enforcer.announce(soon, until=now + timedelta(seconds=30))
    enforcer.announce(later, until=now + timedelta(hours=1))
    wait_for(lambda: flow_path(peer, "ipv4-flowspec", "192.0.2.21/32"))
    assert enforcer.sweep(now + timedelta(seconds=10)) == []

    withdrawn = enforcer.sweep(now + timedelta(seconds=31))
    assert [a.route for a in withdrawn] == [soon]
    wait_for(lambda: flow_path(peer, "ipv4-flowspec", "192.0.2.20/32") is None)
    assert flow_path(peer, "ipv4-flowspec", "192.0.2.21/32") is not None
    assert [a.route for a in enforcer.announced()] == [later]
    enforcer.withdraw(later)


def test_a_route_wider_than_the_limit_never_reaches_the_peer(lab: Any) -> None:
    peer, enforcer = lab
    wide = FlowSpecRoute(destination=ipaddress.ip_network("0.0.0.0/0"), protocol=UDP)
    with pytest.raises(RouteError, match="wider than the limit /24"):
        enforcer.announce(wide)
    assert flow_path(peer, "ipv4-flowspec", "0.0.0.0/0") is None
    assert enforcer.announced() == []


def test_exabgp_not_running_raises_enforcer_unavailable(tmp_path: Path) -> None:
    enforcer = ExaBgpEnforcer(tmp_path / "nothing.sock")
    with pytest.raises(EnforcerUnavailable, match="ExaBGP is not running: no API socket"):
        enforcer.announce(reflection_rule("192.0.2.30/32"))
    assert enforcer.announced() == []


def test_peer_down_is_reported_and_nothing_is_announced(tmp_path: Path) -> None:
    with bgp_lab(tmp_path) as (peer, speaker):
        enforcer = ExaBgpEnforcer(speaker.config.socket_path)
        wait_for(lambda: any(s.established for s in enforcer.sessions()))
        peer.stop()
        sessions = wait_for(
            lambda: [s for s in enforcer.sessions() if not s.established], timeout=30
        )
        assert sessions[0].peer == PEER_ADDRESS
        assert sessions[0].fsm in {"IDLE", "CONNECT", "ACTIVE"}
        assert sessions[0].families == ()
        reported = rf"carries ipv4 flow: {PEER_ADDRESS} \(AS {PEER_AS}\) (idle|connect|active)"
        with pytest.raises(EnforcerUnavailable, match=reported):
            enforcer.announce(reflection_rule("192.0.2.40/32"))
        assert enforcer.announced() == []
        speaker.stop()
        with pytest.raises(EnforcerUnavailable, match="ExaBGP is not running"):
            enforcer.sessions()


def test_a_planned_flowspec_action_goes_into_the_rib_one_route_per_source(lab: Any) -> None:
    from cyberpeace.respond.action import Action
    from cyberpeace.respond.enforcers.exabgp import ExaBgpActionEnforcer

    peer, speaker = lab
    enforcer = ExaBgpActionEnforcer(speaker)
    action = Action(
        id=7,
        kind="flowspec",
        target="192.0.2.44",
        parameters={
            "destination": "192.0.2.44/32",
            "sources": ["198.51.100.0/28", "203.0.113.9/32"],
            "protocol": "udp",
            "source_ports": None,
            "packet_length": None,
            "then": "discard",
        },
        expires_at=utc_now() + timedelta(minutes=5),
    )
    applied = enforcer.apply(action)
    enforcer.apply(action)  # idempotent: nothing announced twice

    def sources() -> set[str]:
        found = set()
        for paths in peer.rib("ipv4-flowspec").values():
            for path in paths:
                parts = flow_components(path)
                if parts[DESTINATION]["prefix"] == "192.0.2.44/32":
                    found.add(parts[SOURCE]["prefix"])
        return found

    wait_for(lambda: sources() == {"198.51.100.0/28", "203.0.113.9/32"} or None)
    assert applied.enforcer == "exabgp"
    assert len(applied.detail["routes"]) == 2
    assert len(speaker.announced()) == 2
    enforcer.remove(action)
    wait_for(lambda: sources() == set() or None)
    assert speaker.announced() == []


def test_an_rtbh_action_announces_the_blackhole_to_the_discard_next_hop(lab: Any) -> None:
    from cyberpeace.respond.action import Action
    from cyberpeace.respond.enforcers.exabgp import ExaBgpActionEnforcer

    peer, speaker = lab
    enforcer = ExaBgpActionEnforcer(speaker)
    action = Action(
        id=8,
        kind="rtbh",
        target="192.0.2.45",
        parameters={"prefix": "192.0.2.45/32", "communities": [BLACKHOLE]},
        expires_at=utc_now() + timedelta(minutes=5),
    )
    enforcer.apply(action)
    path = wait_for(lambda: next(iter(peer.rib("ipv4").get("192.0.2.45/32", [])), None))
    assert attribute(path, NEXT_HOP)["nexthop"] == "192.0.2.1"
    assert community_value(BLACKHOLE) in attribute(path, COMMUNITIES)["communities"]
    enforcer.remove(action)
    wait_for(lambda: peer.rib("ipv4").get("192.0.2.45/32") is None or None)


def test_another_process_can_withdraw_what_one_announced(lab: Any) -> None:
    """The API and the CLI build their own enforcer: removing must not depend on memory."""
    from cyberpeace.respond.action import Action
    from cyberpeace.respond.enforcers.exabgp import ExaBgpActionEnforcer

    peer, speaker = lab
    action = Action(
        id=9,
        kind="flowspec",
        target="192.0.2.46",
        parameters={"destination": "192.0.2.46/32", "sources": ["203.0.113.10/32"]},
        expires_at=utc_now() + timedelta(minutes=5),
    )
    ExaBgpActionEnforcer(speaker).apply(action)
    wait_for(lambda: flow_path(peer, "ipv4-flowspec", "192.0.2.46/32"))
    elsewhere = ExaBgpActionEnforcer(ExaBgpEnforcer(speaker.socket_path))
    elsewhere.remove(action)
    wait_for(lambda: flow_path(peer, "ipv4-flowspec", "192.0.2.46/32") is None)
    elsewhere.remove(action)  # idempotent: withdrawing what is gone is no error
    speaker.withdraw(routes_of(action)[0])  # the first process forgets it too
