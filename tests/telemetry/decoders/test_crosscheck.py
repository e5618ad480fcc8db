"""The same datagrams through the `netflow` package (bitkeks/python-netflow-v9-softflowd) and
through our decoders: every value the package reports equals ours."""

from __future__ import annotations

import ipaddress
import random

import netflow
import pytest

from cyberpeace.telemetry.ipfix import IpfixDecoder
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from cyberpeace.telemetry.netflow9 import NetflowV9Decoder

from .encoder import (
    V5Record,
    data_set,
    ipfix_message,
    ipfix_template_set,
    v5_datagram,
    v9_packet,
    v9_template_flowset,
)
from .support import clean, rows

# NetFlow v9 field type -> (our column, how the package names it)
V9_COLUMNS = {
    1: ("bytes", "IN_BYTES"),
    2: ("packets", "IN_PKTS"),
    4: ("protocol", "PROTOCOL"),
    6: ("tcp_flags", "TCP_FLAGS"),
    7: ("src_port", "L4_SRC_PORT"),
    10: ("input_if", "INPUT_SNMP"),
    11: ("dst_port", "L4_DST_PORT"),
    14: ("output_if", "OUTPUT_SNMP"),
    16: ("src_as", "SRC_AS"),
    17: ("dst_as", "DST_AS"),
    61: ("direction", "DIRECTION"),
}
V9_ADDRESSES = {
    8: ("src_addr", "IPV4_SRC_ADDR"),
    12: ("dst_addr", "IPV4_DST_ADDR"),
    15: ("next_hop", "IPV4_NEXT_HOP"),
    27: ("src_addr", "IPV6_SRC_ADDR"),
    28: ("dst_addr", "IPV6_DST_ADDR"),
    62: ("next_hop", "IPV6_NEXT_HOP"),
}
V9_FIELDS_4 = [
    (8, 4), (12, 4), (15, 4), (10, 2), (14, 2), (2, 4), (1, 4), (22, 4), (21, 4), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 2), (17, 2), (9, 1), (13, 1), (61, 1), (58, 2),
]  # fmt: skip
V9_FIELDS_6 = [
    (27, 16), (28, 16), (62, 16), (10, 4), (14, 4), (2, 8), (1, 8), (22, 4), (21, 4),
    (7, 2), (11, 2), (6, 1), (4, 1), (16, 4), (17, 4), (61, 1),
]  # fmt: skip
IPFIX_FIELDS = [
    (8, 4), (12, 4), (15, 4), (10, 4), (14, 4), (2, 8), (1, 8), (152, 8), (153, 8), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 4), (17, 4), (9, 1), (13, 1), (61, 1), (58, 2),
]  # fmt: skip
IPFIX_COLUMNS = {
    "sourceIPv4Address": "src_addr",
    "destinationIPv4Address": "dst_addr",
    "ipNextHopIPv4Address": "next_hop",
    "ingressInterface": "input_if",
    "egressInterface": "output_if",
    "packetDeltaCount": "packets",
    "octetDeltaCount": "bytes",
    "sourceTransportPort": "src_port",
    "destinationTransportPort": "dst_port",
    "tcpControlBits": "tcp_flags",
    "protocolIdentifier": "protocol",
    "bgpSourceAsNumber": "src_as",
    "bgpDestinationAsNumber": "dst_as",
    "flowDirection": "direction",
}


def random_value(rng: random.Random, element: int, length: int) -> int | bytes:
    if element in (8, 12, 15, 27, 28, 62):
        return rng.randbytes(length)
    if element == 4:
        return rng.choice([6, 17])  # not ICMP: the package reports raw ports
    if element == 61:
        return rng.choice([0, 1])
    if element in (21, 22):
        return rng.randrange(1_000_000, 2_000_000)
    if element in (152, 153):
        return rng.randrange(1_699_000_000_000, 1_700_000_000_000)
    return rng.randrange(0, 2 ** (8 * length))


def random_rows(fields: list[tuple[int, int]], n: int, seed: int) -> list[dict[int, int | bytes]]:
    rng = random.Random(seed)
    return [
        {element: random_value(rng, element, length) for element, length in fields}
        for _ in range(n)
    ]


def as_ours(text_or_int: str | int) -> bytes:
    address = ipaddress.ip_address(text_or_int)
    if address.version == 4:
        return bytes(10) + b"\xff\xff" + address.packed
    return address.packed


def test_netflow_v5(v5: NetflowV5Decoder) -> None:
    rng = random.Random(5)
    records = [
        V5Record(
            src=str(ipaddress.IPv4Address(rng.getrandbits(32))),
            dst=str(ipaddress.IPv4Address(rng.getrandbits(32))),
            nexthop=str(ipaddress.IPv4Address(rng.getrandbits(32))),
            input=rng.getrandbits(16),
            output=rng.getrandbits(16),
            packets=rng.getrandbits(32),
            octets=rng.getrandbits(32),
            first=rng.randrange(0, 3_000_000),
            last=rng.randrange(3_000_000, 3_600_000),
            src_port=rng.getrandbits(16),
            dst_port=rng.getrandbits(16),
            tcp_flags=rng.getrandbits(8),
            protocol=rng.choice([6, 17]),
            src_as=rng.getrandbits(16),
            dst_as=rng.getrandbits(16),
        )
        for _ in range(30)
    ]
    datagram = v5_datagram(records, uptime=3_600_000)

    theirs = netflow.parse_packet(bytearray(datagram))
    ours = rows(clean(v5.decode(datagram, "e", 0)))

    export_us = theirs.header.timestamp * 1_000_000 + theirs.header.timestamp_nano // 1000
    assert len(ours) == len(theirs.flows) == 30
    for mine, flow in zip(ours, theirs.flows, strict=True):
        assert mine["src_addr"] == as_ours(flow.IPV4_SRC_ADDR)
        assert mine["dst_addr"] == as_ours(flow.IPV4_DST_ADDR)
        assert mine["next_hop"] == as_ours(flow.NEXT_HOP)
        assert (mine["input_if"], mine["output_if"]) == (flow.INPUT, flow.OUTPUT)
        assert (mine["packets"], mine["bytes"]) == (flow.IN_PACKETS, flow.IN_OCTETS)
        assert (mine["src_port"], mine["dst_port"]) == (flow.SRC_PORT, flow.DST_PORT)
        assert (mine["tcp_flags"], mine["protocol"]) == (flow.TCP_FLAGS, flow.PROTO)
        assert (mine["src_as"], mine["dst_as"]) == (flow.SRC_AS, flow.DST_AS)
        uptime = theirs.header.uptime
        assert mine["start"] == export_us + (flow.FIRST_SWITCHED - uptime) * 1000
        assert mine["end"] == export_us + (flow.LAST_SWITCHED - uptime) * 1000


@pytest.mark.parametrize("fields", [V9_FIELDS_4, V9_FIELDS_6], ids=["ipv4", "ipv6"])
def test_netflow_v9(v9: NetflowV9Decoder, fields: list[tuple[int, int]]) -> None:
    data = random_rows(fields, 20, seed=9)
    packet = v9_packet([v9_template_flowset([(256, fields)]), data_set(256, fields, data)])

    theirs = netflow.parse_packet(bytearray(packet), {"netflow": {}})
    ours = rows(clean(v9.decode(packet, "e", 0)))

    header = theirs.header
    assert len(ours) == len(theirs.flows) == 20
    for mine, flow in zip(ours, theirs.flows, strict=True):
        for element, _ in fields:
            if element in V9_COLUMNS:
                column, name = V9_COLUMNS[element]
                assert mine[column] == flow.data[name], name
            elif element in V9_ADDRESSES:
                column, name = V9_ADDRESSES[element]
                assert mine[column] == as_ours(flow.data[name]), name
        export_ms = header.timestamp * 1000
        assert mine["start"] == (export_ms + flow.FIRST_SWITCHED - header.uptime) * 1000
        assert mine["end"] == (export_ms + flow.LAST_SWITCHED - header.uptime) * 1000


def test_ipfix(ipfix: IpfixDecoder) -> None:
    data = random_rows(IPFIX_FIELDS, 20, seed=10)
    message = ipfix_message(
        [ipfix_template_set([(256, IPFIX_FIELDS)]), data_set(256, IPFIX_FIELDS, data)]
    )

    theirs = netflow.parse_packet(bytearray(message), {"ipfix": {}})
    ours = rows(clean(ipfix.decode(message, "e", 0)))

    assert len(ours) == len(theirs.flows) == 20
    for mine, flow in zip(ours, theirs.flows, strict=True):
        values = flow.data
        for name, column in IPFIX_COLUMNS.items():
            expected = values[name]
            if column in ("src_addr", "dst_addr", "next_hop"):
                expected = as_ours(expected)
            assert mine[column] == expected, name
        assert mine["start"] == values["flowStartMilliseconds"] * 1000
        assert mine["end"] == values["flowEndMilliseconds"] * 1000
