"""FlowSpec and RTBH routes: validation names the problem; rendering is ExaBGP API text."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyberpeace.respond.bgp_routes import (
    BLACKHOLE,
    NO_EXPORT,
    BlackholeRoute,
    Discard,
    FlowSpecRoute,
    PortRange,
    PrefixLimits,
    RateLimit,
    RouteError,
    parse_network,
)


def test_reflection_rule_renders_as_one_exabgp_command() -> None:
    route = FlowSpecRoute(
        destination=parse_network("192.0.2.1/32", "destination"),
        protocol=17,
        source_ports=(PortRange(53, 53),),
        packet_length=PortRange(512, 1500),
    )
    assert route.announce_command() == (
        "announce flow route destination 192.0.2.1/32 protocol [=17] source-port [=53]"
        " packet-length [>=512&<=1500] discard"
    )
    assert route.withdraw_command("127.0.0.2").startswith(
        "neighbor 127.0.0.2 withdraw flow route destination 192.0.2.1/32"
    )


def test_all_components_in_rfc_order() -> None:
    route = FlowSpecRoute(
        destination=parse_network("198.51.100.0/24", "d"),
        source=parse_network("203.0.113.9", "s"),
        protocol=6,
        destination_ports=(PortRange(443, 443), PortRange(80, 80)),
        source_ports=(PortRange(1024, 65535),),
        tcp_flags=frozenset({"syn"}),
        tcp_flags_unset=frozenset({"ack", "rst"}),
        packet_length=PortRange(40, 60),
        fragment=frozenset({"is-fragment"}),
        action=RateLimit(9600),
    )
    assert route.match_text() == (
        "destination 198.51.100.0/24 source 203.0.113.9/32 protocol [=6]"
        " destination-port [=80 =443] source-port [>=1024&<=65535]"
        " tcp-flags [=syn&!ack+rst] packet-length [>=40&<=60] fragment [is-fragment]"
    )
    assert route.announce_command().endswith(" rate-limit 9600")


def test_ipv6_uses_next_header() -> None:
    route = FlowSpecRoute(destination=parse_network("2001:db8::1", "d"), protocol=58)
    assert route.family == "ipv6"
    assert "next-header [=58]" in route.match_text()
    assert "destination 2001:db8::1/128" in route.match_text()


def test_rtbh_adds_blackhole_and_keeps_given_communities() -> None:
    route = BlackholeRoute(
        prefix=parse_network("192.0.2.66", "p"),
        next_hop=ipaddress.ip_address("192.0.2.254"),
        communities=("64500:1",),
    )
    assert route.communities == (BLACKHOLE, "64500:1")
    default = BlackholeRoute(parse_network("2001:db8::66", "p"), ipaddress.ip_address("100::1"))
    assert default.communities == (BLACKHOLE, NO_EXPORT)
    assert default.announce_command() == (
        "announce route 2001:db8::66/128 next-hop 100::1 origin igp"
        " community [65535:666 65535:65281]"
    )
    assert default.withdraw_command() == "withdraw route 2001:db8::66/128 next-hop 100::1"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: parse_network("192.0.2.1/33", "destination"), "not a valid prefix"),
        (lambda: parse_network("192.0.2.1/24", "destination"), "host bits set"),
        (lambda: parse_network("not-an-ip", "destination"), "'not-an-ip' is not a valid prefix"),
        (lambda: PortRange(0, 65536), "65536 is not an integer in 0..65535"),
        (lambda: PortRange(2000, 1000), "reversed"),
        (lambda: RateLimit(0), "use Discard for 0"),
        (lambda: RateLimit(True), "not an integer"),
        (
            lambda: FlowSpecRoute(
                parse_network("192.0.2.1", "d"), source_ports=(PortRange(53, 53),)
            ),
            "ports need protocol",
        ),
        (
            lambda: FlowSpecRoute(parse_network("192.0.2.1", "d"), protocol=17, tcp_flags={"syn"}),
            "tcp flags need protocol 6",
        ),
        (
            lambda: FlowSpecRoute(parse_network("192.0.2.1", "d"), protocol=6, tcp_flags={"sin"}),
            "unknown \\['sin'\\]",
        ),
        (
            lambda: FlowSpecRoute(
                parse_network("192.0.2.1", "d"), source=parse_network("2001:db8::/32", "s")
            ),
            "differ in family",
        ),
        (
            lambda: FlowSpecRoute(
                parse_network("2001:db8::1", "d"), fragment=frozenset({"dont-fragment"})
            ),
            "unknown \\['dont-fragment'\\]",
        ),
        (lambda: FlowSpecRoute(parse_network("192.0.2.1", "d"), protocol=256), "0..255"),
        (
            lambda: BlackholeRoute(parse_network("192.0.2.1", "p"), ipaddress.ip_address("100::1")),
            "differ in family",
        ),
        (
            lambda: BlackholeRoute(
                parse_network("192.0.2.1", "p"), ipaddress.ip_address("192.0.2.2"), ("65536:1",)
            ),
            "not ASN:VALUE",
        ),
    ],
)
def test_malformed_input_is_refused_with_a_reason(build: object, message: str) -> None:
    with pytest.raises(RouteError, match=message):
        build()  # type: ignore[operator]


def test_prefix_limits() -> None:
    limits = PrefixLimits()
    limits.check(FlowSpecRoute(parse_network("192.0.2.0/24", "d")))
    for wide in ("0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/23"):
        with pytest.raises(RouteError, match="wider than the limit /24"):
            limits.check(FlowSpecRoute(parse_network(wide, "d")))
    with pytest.raises(RouteError, match="wider than the limit /32"):
        limits.check(
            BlackholeRoute(parse_network("192.0.2.0/31", "p"), ipaddress.ip_address("192.0.2.1"))
        )
    with pytest.raises(RouteError, match="flowspec_ipv4=0"):
        PrefixLimits(flowspec_ipv4=0)


# -- fuzzing: malformed input never escapes as anything but RouteError -------------------------


@given(st.text(max_size=60))
def test_any_text_as_prefix_parses_or_is_refused(text: str) -> None:
    # a bare address means its host route; anything ipaddress refuses must be refused
    candidate = text if "/" in text else text + ("/128" if ":" in text else "/32")
    try:
        expected = ipaddress.ip_network(candidate, strict=True)
    except ValueError:
        with pytest.raises(RouteError, match=r"^destination: .* is not a valid prefix"):
            parse_network(text, "destination")
    else:
        assert parse_network(text, "destination") == expected


@given(st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40))
def test_port_ranges_accept_exactly_the_valid_ones(low: int, high: int) -> None:
    valid = 0 <= low <= high <= 65535
    try:
        PortRange(low, high)
    except RouteError:
        assert not valid
    else:
        assert valid


addresses = st.ip_addresses(v=4)
prefix_lengths = st.integers(0, 32)
port_ranges = st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(
    lambda pair: PortRange(min(pair), max(pair))
)


@given(
    destination=st.builds(
        lambda a, n: ipaddress.ip_network(f"{a}/{n}", strict=False), addresses, prefix_lengths
    ),
    protocol=st.sampled_from([6, 17, 132]),
    source_ports=st.lists(port_ranges, max_size=4),
    destination_ports=st.lists(port_ranges, max_size=4),
    length=st.none() | port_ranges,
    rate=st.none() | st.integers(1, 10**12),
    flags=st.frozensets(st.sampled_from(["fin", "syn", "rst", "push", "ack", "urg"])),
)
def test_valid_routes_render_single_line_commands(
    destination: ipaddress.IPv4Network,
    protocol: int,
    source_ports: list[PortRange],
    destination_ports: list[PortRange],
    length: PortRange | None,
    rate: int | None,
    flags: frozenset[str],
) -> None:
    route = FlowSpecRoute(
        destination=destination,
        protocol=protocol,
        source_ports=tuple(source_ports),
        destination_ports=tuple(destination_ports),
        packet_length=length,
        tcp_flags=flags if protocol == 6 else frozenset(),
        action=Discard() if rate is None else RateLimit(rate),
    )
    command = route.announce_command()
    assert "\n" not in command
    assert command.startswith(f"announce flow route destination {destination} ")
    assert command.endswith("discard" if rate is None else f"rate-limit {rate}")
    assert route.key() == FlowSpecRoute(**route.__dict__).key()  # stable identity
    for item in source_ports:
        assert item.render() in command


@given(st.lists(st.one_of(st.integers(), st.tuples(st.integers(), st.integers())), max_size=5))
def test_hostile_port_lists(items: list[int | tuple[int, int]]) -> None:
    valid = all(
        0 <= (i if isinstance(i, int) else i[0]) <= (i if isinstance(i, int) else i[1]) <= 65535
        for i in items
    )

    def build() -> FlowSpecRoute:
        return FlowSpecRoute(
            parse_network("192.0.2.1", "d"),
            protocol=17,
            source_ports=tuple(items),  # type: ignore[arg-type]
        )

    if valid:
        assert len(build().source_ports) == len(set(build().source_ports))
    else:
        with pytest.raises(RouteError, match="source port"):
            build()
