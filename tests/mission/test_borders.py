"""Longest-prefix match against a brute-force reference, and the borders of the demo mission."""

from __future__ import annotations

import ipaddress

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberpeace.mission import (
    NO_MATCH,
    Borders,
    Mandate,
    PrefixTable4,
    PrefixTable6,
    coverage_bits,
    v4_array,
    v6_array,
)


def _reference(nets: list[ipaddress._BaseNetwork], labels: list[int], address: str) -> int:
    ip = ipaddress.ip_address(address)
    best, label = -1, NO_MATCH
    for net, candidate in zip(nets, labels, strict=True):
        if ip.version == net.version and ip in net and net.prefixlen > best:
            best, label = net.prefixlen, candidate
    return label


def test_longest_prefix_wins_across_the_24_boundary() -> None:
    nets = [
        ipaddress.IPv4Network(n)
        for n in [
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.0/24",
            "10.1.2.128/25",
            "10.1.2.200/32",
            "10.1.2.0/30",
        ]
    ]
    table = PrefixTable4(nets, [1, 2, 3, 4, 5, 6])
    cases = {
        "10.9.9.9": 1,
        "10.1.9.9": 2,
        "10.1.2.5": 3,
        "10.1.2.2": 6,
        "10.1.2.3": 6,
        "10.1.2.4": 3,
        "10.1.2.127": 3,
        "10.1.2.128": 4,
        "10.1.2.200": 5,
        "10.1.2.201": 4,
        "10.1.2.255": 4,
        "11.0.0.0": NO_MATCH,
        "9.255.255.255": NO_MATCH,
        "10.255.255.255": 1,
    }
    found = table.lookup(v4_array(list(cases)))
    assert found.tolist() == list(cases.values())


def test_default_route_and_empty_table() -> None:
    everything = PrefixTable4([ipaddress.IPv4Network("0.0.0.0/0")], [7])
    assert everything.lookup(v4_array(["0.0.0.0", "255.255.255.255"])).tolist() == [7, 7]
    empty = PrefixTable4([], [])
    assert empty.lookup(v4_array(["1.2.3.4"])).tolist() == [NO_MATCH]
    assert PrefixTable6([], []).lookup(v6_array(["::1"])).tolist() == [NO_MATCH]


def test_ipv6_nested_and_host_prefixes() -> None:
    nets = [
        ipaddress.IPv6Network(n)
        for n in ["2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::1/128", "::/0"]
    ]
    table = PrefixTable6(nets, [1, 2, 3, 0])
    addresses = [
        "2001:db8::5",
        "2001:db8:1::1",
        "2001:db8:1::2",
        "2001:db9::",
        "::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    ]
    assert table.lookup(v6_array(addresses)).tolist() == [1, 3, 2, 0, 0, 0, 1]


v4_nets = st.lists(
    st.builds(
        lambda a, n: ipaddress.IPv4Network((a >> (32 - n) << (32 - n), n)),
        st.integers(0, 2**32 - 1),
        st.integers(0, 32),
    ),
    max_size=40,
    unique=True,
)


@settings(max_examples=150, deadline=None)
@given(nets=v4_nets, data=st.data())
def test_ipv4_matches_the_brute_force_reference(
    nets: list[ipaddress.IPv4Network], data: st.DataObject
) -> None:
    labels = list(range(len(nets)))
    inside = [str(n.network_address + data.draw(st.integers(0, n.num_addresses - 1))) for n in nets]
    anywhere = [str(ipaddress.IPv4Address(data.draw(st.integers(0, 2**32 - 1)))) for _ in range(20)]
    addresses = inside + anywhere
    expected = [_reference(list(nets), labels, a) for a in addresses]
    assert PrefixTable4(nets, labels).lookup(v4_array(addresses)).tolist() == expected


def _bit(bits, address: str) -> bool:
    at = int(ipaddress.IPv4Address(address)) >> 8
    return bool((int(bits[at >> 6]) >> (at & 63)) & 1)


@settings(max_examples=60, deadline=None)
@given(first=v4_nets, second=v4_nets, data=st.data())
def test_the_coverage_bitmap_leaves_out_no_address_the_tables_hold(
    first: list[ipaddress.IPv4Network], second: list[ipaddress.IPv4Network], data: st.DataObject
) -> None:
    """Outside the bitmap no table holds the address; inside it, one does, unless a prefix
    longer than /24 splits its /24."""
    tables = [PrefixTable4(nets, list(range(len(nets)))) for nets in (first, second)]
    inside = coverage_bits(tables)
    nets = first + second
    near = [str(n.network_address + data.draw(st.integers(0, n.num_addresses - 1))) for n in nets]
    anywhere = [str(ipaddress.IPv4Address(data.draw(st.integers(0, 2**32 - 1)))) for _ in range(20)]
    for address in near + anywhere:
        held = any(int(t.lookup(v4_array([address]))[0]) != NO_MATCH for t in tables)
        slash24 = ipaddress.IPv4Network(f"{address}/24", strict=False)
        split = any(n.prefixlen > 24 and n.subnet_of(slash24) for n in nets)
        assert _bit(inside, address) == held or (split and _bit(inside, address))


def test_the_coverage_bitmap_marks_the_24s_reached_and_no_other() -> None:
    lone = PrefixTable4([ipaddress.IPv4Network("192.0.2.128/25")], [0])
    covered = PrefixTable4([ipaddress.IPv4Network("198.51.100.0/24")], [0])
    inside_too = PrefixTable4([ipaddress.IPv4Network("198.51.100.0/26")], [0])
    inside = coverage_bits([lone, covered, inside_too])
    assert _bit(inside, "192.0.2.1")  # split: set, though half the /24 is held by none
    assert _bit(inside, "198.51.100.200")
    assert not _bit(inside, "203.0.113.1")
    assert len(inside) == 1 << 18
    assert int(np.unpackbits(inside.view(np.uint8)).sum()) == 2  # the two /24s, no more


v6_nets = st.lists(
    st.builds(
        lambda a, n: ipaddress.IPv6Network((a >> (128 - n) << (128 - n), n)),
        st.integers(0, 2**128 - 1),
        st.integers(0, 128),
    ),
    max_size=30,
    unique=True,
)


@settings(max_examples=150, deadline=None)
@given(nets=v6_nets, data=st.data())
def test_ipv6_matches_the_brute_force_reference(
    nets: list[ipaddress.IPv6Network], data: st.DataObject
) -> None:
    labels = list(range(len(nets)))
    inside = [str(n.network_address + data.draw(st.integers(0, n.num_addresses - 1))) for n in nets]
    anywhere = [
        str(ipaddress.IPv6Address(data.draw(st.integers(0, 2**128 - 1)))) for _ in range(20)
    ]
    addresses = inside + anywhere
    expected = [_reference(list(nets), labels, a) for a in addresses]
    assert PrefixTable6(nets, labels).lookup(v6_array(addresses)).tolist() == expected


def test_demo_borders(demo_mandate: Mandate) -> None:
    borders = Borders.from_mandate(demo_mandate)
    assert borders.party_for("198.18.10.10") == "arcadia"
    assert borders.safe_area_for("198.18.10.10") == "arcadia-central-hospital"
    assert borders.party_for("198.19.30.7") == "borduria"
    assert borders.safe_area_for("198.19.30.7") == "borduria-power-utility"
    assert borders.safe_area_for("2001:db8:b030::9") == "borduria-power-utility"
    assert borders.party_for("2001:db8:c000::1") == "calvinia"
    assert borders.party_for("8.8.8.8") is None
    assert borders.safe_area_for("198.18.99.1") is None
    parties = borders.party_v4(v4_array(["203.0.113.1", "192.0.2.1", "198.18.0.1", "1.1.1.1"]))
    assert [borders.party_ids[i] if i >= 0 else None for i in parties] == [
        "calvinia",
        "calvinia",
        "arcadia",
        None,
    ]
    areas = borders.safe_area_v6(v6_array(["2001:db8:b030::1", "2001:db8:b031::1"]))
    assert areas.tolist() == [borders.safe_area_ids.index("borduria-power-utility"), NO_MATCH]
