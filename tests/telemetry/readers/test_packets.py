"""parse_headers against scapy's own dissection of the same frames, and against hostile bytes."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    fragment6,
)
from scapy.layers.l2 import ARP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Packet, Raw

from cyberpeace.telemetry.packets import REASONS, LinkType, parse_headers

from ..decoders.encoder import mapped

WIDTH = 256
ETHER = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def matrix(frames: list[bytes], width: int = WIDTH, fill: int = 0) -> NDArray[np.uint8]:
    out = np.full((len(frames), width), fill, dtype=np.uint8)
    for row, frame in enumerate(frames):
        cut = frame[:width]
        out[row, : len(cut)] = np.frombuffer(cut, dtype=np.uint8)
    return out


def ip_packets() -> list[Packet]:
    v4, v6 = (
        IP(src="192.0.2.1", dst="198.51.100.7", ttl=9),
        IPv6(src="2001:db8::1", dst="2001:db8::2"),
    )
    big = UDP(sport=5353, dport=9999) / Raw(b"x" * 3000)
    return [
        v4 / TCP(sport=40000, dport=443, flags="S"),
        v4 / TCP(sport=40000, dport=443, flags="PA", options=[("MSS", 1460)]) / Raw(b"data"),
        IP(src="10.0.0.1", dst="10.0.0.2", options=[b"\x94\x04\x00\x00"]) / UDP(sport=1, dport=2),
        v4 / ICMP(type=8, code=0),
        v4 / ICMP(type=3, code=3),
        *fragment(v4 / big, fragsize=1000),
        v6 / TCP(sport=1234, dport=22, flags="FA"),
        v6
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrRouting()
        / IPv6ExtHdrDestOpt()
        / UDP(sport=7, dport=8),
        v6 / ICMPv6EchoRequest(),
        *fragment6(v6 / IPv6ExtHdrFragment() / big, 1280),
        IPv6(src="::ffff:1.2.3.4", dst="2001:db8::9", nh=59),
    ]


def expected(packet: Packet) -> dict[str, Any]:
    """What a flow meter records of one packet, straight from scapy's dissection."""
    ip = packet[IP] if IP in packet else packet[IPv6]
    version = 4 if IP in packet else 6
    later = (IP in packet and packet[IP].frag > 0) or (
        IPv6ExtHdrFragment in packet and packet[IPv6ExtHdrFragment].offset > 0
    )
    ports = (0, 0)
    protocol = ip.proto if version == 4 else ip.nh
    layer: Packet = ip.payload
    while version == 6 and isinstance(
        layer, IPv6ExtHdrHopByHop | IPv6ExtHdrRouting | IPv6ExtHdrDestOpt | IPv6ExtHdrFragment
    ):
        protocol = layer.nh
        layer = layer.payload
    flags = icmp_type = icmp_code = 0
    if not later:
        if TCP in packet or UDP in packet:
            transport = packet[TCP] if TCP in packet else packet[UDP]
            ports = (transport.sport, transport.dport)
        if TCP in packet:
            flags = int(packet[TCP].flags)
        if ICMP in packet:
            icmp_type, icmp_code = packet[ICMP].type, packet[ICMP].code
        if ICMPv6EchoRequest in packet:
            icmp_type, icmp_code = 128, 0
    return {
        "ip_version": version,
        "src_addr": mapped(ip.src),
        "dst_addr": mapped(ip.dst),
        "src_port": ports[0],
        "dst_port": ports[1],
        "protocol": protocol,
        "tcp_flags": flags,
        "icmp_type": icmp_type,
        "icmp_code": icmp_code,
        "ip_bytes": ip.len if version == 4 else ip.plen + 40,
        "ttl": ip.ttl if version == 4 else ip.hlim,
        "fragment": bool(later or (version == 4 and ip.flags.MF) or IPv6ExtHdrFragment in packet),
    }


def framed(packet: Packet) -> list[tuple[int, bytes]]:
    """The packet under every link layer we read."""
    family = 2 if IP in packet else 30
    ethertype = 0x0800 if IP in packet else 0x86DD
    raw = bytes(packet)
    return [
        (LinkType.ETHERNET, bytes(ETHER / packet)),
        (LinkType.ETHERNET, bytes(ETHER / Dot1Q(vlan=7) / packet)),
        (LinkType.ETHERNET, bytes(ETHER / Dot1AD(vlan=3) / Dot1Q(vlan=7) / packet)),
        (LinkType.LINUX_SLL, bytes(CookedLinux(proto=ethertype) / packet)),
        (LinkType.LINUX_SLL2, bytes(CookedLinuxV2(proto=ethertype) / packet)),
        (LinkType.NULL, struct.pack("<I", family) + raw),
        (LinkType.NULL, struct.pack(">I", family) + raw),
        (LinkType.RAW, raw),
        (LinkType.IPV4 if IP in packet else LinkType.IPV6, raw),
    ]


def parse(frames: list[tuple[int, bytes]], width: int = WIDTH, fill: int = 0) -> Any:
    links = np.array([link for link, _ in frames])
    captured = np.array([min(len(frame), width) for _, frame in frames])
    return parse_headers(matrix([f for _, f in frames], width, fill), links, captured)


def test_every_field_matches_scapy_under_every_link_layer() -> None:
    packets = ip_packets()
    frames = [frame for packet in packets for frame in framed(packet)]
    headers = parse(frames)
    per_packet = len(framed(packets[0]))

    assert headers.valid.all(), headers.problems
    for row in range(len(frames)):
        packet = packets[row // per_packet]
        dissected = packet.__class__(bytes(packet))
        got = {name: headers.columns[name][row] for name in expected(dissected)}
        assert got == expected(dissected), (row, packet.summary())


def test_payload_offsets_point_at_the_payload() -> None:
    payload = b"hello, export"
    packets = [
        IP(dst="192.0.2.9") / UDP(sport=1, dport=2) / Raw(payload),
        IPv6(dst="2001:db8::9") / IPv6ExtHdrDestOpt() / UDP() / Raw(payload),
        IP() / TCP(options=[("NOP", None)] * 4) / Raw(payload),
    ]
    frames = [bytes(ETHER / Dot1Q() / p) for p in packets]
    headers = parse([(LinkType.ETHERNET, f) for f in frames])

    for row, frame in enumerate(frames):
        at = headers.columns["payload_offset"][row]
        size = headers.columns["payload_length"][row]
        assert frame[at : at + size] == payload


def test_later_fragments_have_no_ports_and_say_where_their_data_is() -> None:
    datagram = (
        IP(src="192.0.2.1", dst="192.0.2.2", id=77) / UDP(sport=9, dport=10) / Raw(bytes(2000))
    )
    pieces = fragment(datagram, fragsize=800)
    headers = parse([(LinkType.RAW, bytes(p)) for p in pieces])
    columns = headers.columns

    assert list(columns["first_fragment"]) == [True, False, False]
    assert list(columns["src_port"]) == [9, 0, 0]
    assert list(columns["fragment_offset"]) == [p.frag * 8 for p in pieces]
    assert list(columns["more_fragments"]) == [True, True, False]
    assert set(columns["fragment_id"]) == {77}
    assert list(columns["payload_offset"][1:]) == [-1, -1]
    rebuilt = b"".join(
        bytes(p)[columns["transport_offset"][i] :][: columns["transport_length"][i]]
        for i, p in enumerate(pieces)
    )
    assert rebuilt == bytes(datagram[UDP])


def test_what_is_not_ip_is_counted_by_reason() -> None:
    frames = [
        (LinkType.ETHERNET, bytes(ETHER / ARP())),
        (LinkType.ETHERNET, bytes(ETHER / Dot1Q() / Dot1Q() / Dot1Q() / IP())),
        (LinkType.ETHERNET, bytes(ETHER)[:10]),
        (147, bytes(IP())),  # a DLT_USER link type
        (LinkType.IPV6, bytes(IP())),
        (LinkType.RAW, bytes(IP() / TCP())[:30]),
        (LinkType.RAW, bytes(IPv6() / IPv6ExtHdrHopByHop() / UDP())[:41]),
        (LinkType.RAW, b"\x4f" + bytes(IP(ihl=15))[1:24]),
        (LinkType.RAW, bytes(IP() / TCP(dataofs=2))),
        (LinkType.RAW, bytes(IP() / UDP(len=4))),
        (LinkType.RAW, bytes(IP(len=10) / UDP())),
    ]
    headers = parse(frames)

    assert not headers.valid.any()
    assert headers.problems == {
        "not IP": 1,
        "more than two VLAN tags": 1,
        "truncated link header": 1,
        "link type not supported": 1,
        "IP version does not match the link header": 1,
        "truncated TCP header": 1,
        "truncated IPv6 extension header": 1,
        "truncated IPv4 header": 1,
        "TCP data offset below 20 bytes": 1,
        "UDP length below 8 bytes": 1,
        "IPv4 total length shorter than its header": 1,
    }


def test_a_chain_of_too_many_extension_headers_is_refused() -> None:
    chain: Packet = IPv6()
    for _ in range(12):
        chain = chain / IPv6ExtHdrDestOpt()
    headers = parse([(LinkType.RAW, bytes(chain / UDP()))])

    assert headers.problems == {"too many IPv6 extension headers": 1}


CUTS = range(0, 100, 3)


def test_truncation_never_reads_past_the_captured_bytes() -> None:
    """Bytes beyond ``captured`` are garbage of two kinds; the parse must not notice which,
    and a prefix it accepts gives the same fields as the whole frame."""
    frames = [f for p in ip_packets() for f in framed(p)[:6]]
    prefixes = [(link, frame[:cut]) for link, frame in frames for cut in CUTS]
    zeros, ones = parse(prefixes, fill=0), parse(prefixes, fill=0xFF)
    whole = parse([frame for frame in frames for _ in CUTS])

    assert np.array_equal(zeros.valid, ones.valid)
    assert 0 < zeros.valid.sum() < len(prefixes)
    for name, column in zeros.columns.items():
        assert np.array_equal(column, ones.columns[name]), name
        accepted = zeros.valid
        assert np.array_equal(column[accepted], whole.columns[name][accepted]), name
    assert sum(zeros.problems.values()) + int(zeros.valid.sum()) == len(prefixes)
    assert set(zeros.problems) <= set(REASONS)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([*LinkType, 5, 300]), st.binary(max_size=120)),
        min_size=1,
        max_size=20,
    ),
    width=st.integers(1, 128),
)
def test_random_bytes_are_parsed_or_refused(rows: list[tuple[int, bytes]], width: int) -> None:
    headers = parse(rows, width=width, fill=0xEE)
    again = parse(rows, width=width, fill=0x00)

    assert sum(headers.problems.values()) + int(headers.valid.sum()) == len(rows)
    for name, column in headers.columns.items():
        assert len(column) == len(rows)
        assert np.array_equal(column, again.columns[name]), name


def test_an_empty_matrix() -> None:
    headers = parse_headers(np.zeros((0, 0), dtype=np.uint8), LinkType.ETHERNET, np.zeros(0))
    assert len(headers.valid) == 0
    assert headers.problems == {}


@pytest.mark.parametrize("link", [LinkType.ETHERNET, LinkType.RAW])
def test_captured_beyond_the_width_is_clipped(link: LinkType) -> None:
    frame = bytes(ETHER / IP() / TCP()) if link == LinkType.ETHERNET else bytes(IP() / TCP())
    headers = parse_headers(matrix([frame], 20), int(link), np.array([10_000]))
    assert not headers.valid.any()
