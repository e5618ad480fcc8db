"""A small test-side sFlow version 5 agent: builds datagrams with struct.

Written for the tests only, from "sFlow Version 5" section 5 (XDR: big-endian 32-bit words,
opaque data padded to 4 bytes, arrays and opaques preceded by their length), so that the decoder
is checked against independently built bytes. Every function returns the bytes of one XDR
structure; lengths can be overridden to build datagrams that lie.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def address(text: str | None) -> bytes:
    """An XDR ``address``: type 1 IPv4, 2 IPv6, 0 unknown (None)."""
    if text is None:
        return struct.pack(">I", 0)
    parsed = ipaddress.ip_address(text)
    return struct.pack(">I", 1 if parsed.version == 4 else 2) + parsed.packed


def datagram(
    samples: Sequence[bytes],
    *,
    agent: str = "192.0.2.10",
    version: int = 5,
    sub_agent: int = 0,
    sequence: int = 1,
    uptime: int = 60_000,
    count: int | None = None,
) -> bytes:
    head = struct.pack(">I", version) + address(agent)
    head += struct.pack(
        ">IIII", sub_agent, sequence, uptime, len(samples) if count is None else count
    )
    return head + b"".join(samples)


def _tagged(enterprise: int, data_format: int, body: bytes, length: int | None) -> bytes:
    size = len(body) if length is None else length
    return struct.pack(">II", enterprise << 12 | data_format, size) + _pad(body)


def flow_sample(
    records: Sequence[bytes],
    *,
    rate: int = 1,
    pool: int = 1,
    source: int = 7,
    source_class: int = 0,
    input_if: int = 3,
    output_if: int = 4,
    sequence: int = 1,
    drops: int = 0,
    length: int | None = None,
    count: int | None = None,
) -> bytes:
    """A compact ``flow_sample`` (0:1); input_if/output_if are the full 32-bit encodings."""
    body = struct.pack(
        ">8I",
        sequence,
        source_class << 24 | source,
        rate,
        pool,
        drops,
        input_if,
        output_if,
        len(records) if count is None else count,
    )
    return _tagged(0, 1, body + b"".join(records), length)


def expanded_flow_sample(
    records: Sequence[bytes],
    *,
    rate: int = 1,
    pool: int = 1,
    source: int = 7,
    source_class: int = 0,
    input_if: tuple[int, int] = (0, 3),
    output_if: tuple[int, int] = (0, 4),
    sequence: int = 1,
    length: int | None = None,
) -> bytes:
    """A ``flow_sample_expanded`` (0:3); interfaces as (format, value)."""
    body = struct.pack(
        ">11I",
        sequence,
        source_class,
        source,
        rate,
        pool,
        0,
        *input_if,
        *output_if,
        len(records),
    )
    return _tagged(0, 3, body + b"".join(records), length)


def counter_sample(*, expanded: bool = False) -> bytes:
    """A counters_sample (0:2) or its expanded form (0:4) with one generic if_counters block."""
    if_counters = struct.pack(">IIQIIQ7IQ7I", 3, 6, 10**9, 1, 3, 0, *[0] * 7, 0, *[0] * 7)
    record = _tagged(0, 1, if_counters, None)
    source = struct.pack(">II", 0, 3) if expanded else struct.pack(">I", 3)
    body = struct.pack(">I", 1) + source + struct.pack(">I", 1) + record
    return _tagged(0, 4 if expanded else 2, body, None)


def sample(enterprise: int, data_format: int, body: bytes, length: int | None = None) -> bytes:
    """Any sample_record, e.g. another enterprise's."""
    return _tagged(enterprise, data_format, body, length)


def record(enterprise: int, data_format: int, body: bytes, length: int | None = None) -> bytes:
    """Any flow_record."""
    return _tagged(enterprise, data_format, body, length)


def sampled_header(
    frame: bytes,
    *,
    protocol: int = 1,
    frame_length: int | None = None,
    stripped: int = 4,
    header_length: int | None = None,
    length: int | None = None,
) -> bytes:
    """``sampled_header`` (0:1): frame_length defaults to the frame plus a 4-byte FCS."""
    total = len(frame) + stripped if frame_length is None else frame_length
    size = len(frame) if header_length is None else header_length
    body = struct.pack(">IIII", protocol, total, stripped, size) + _pad(frame)
    return _tagged(0, 1, body, length)


def sampled_ipv4(
    src: str,
    dst: str,
    *,
    length: int = 40,
    protocol: int = 6,
    src_port: int = 1000,
    dst_port: int = 80,
    tcp_flags: int = 0x02,
    tos: int = 0,
) -> bytes:
    body = struct.pack(
        ">II4s4sIIII",
        length,
        protocol,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
        src_port,
        dst_port,
        tcp_flags,
        tos,
    )
    return _tagged(0, 3, body, None)


def sampled_ipv6(
    src: str,
    dst: str,
    *,
    length: int = 60,
    protocol: int = 6,
    src_port: int = 1000,
    dst_port: int = 80,
    tcp_flags: int = 0x02,
    priority: int = 0,
) -> bytes:
    body = struct.pack(
        ">II16s16sIIII",
        length,
        protocol,
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed,
        src_port,
        dst_port,
        tcp_flags,
        priority,
    )
    return _tagged(0, 4, body, None)


def sampled_ethernet(length: int = 64, ethertype: int = 0x0800) -> bytes:
    macs = _pad(bytes.fromhex("020000000001")) + _pad(bytes.fromhex("020000000002"))
    return _tagged(0, 2, struct.pack(">I", length) + macs + struct.pack(">I", ethertype), None)


def extended_switch(src_vlan: int = 10, dst_vlan: int = 20) -> bytes:
    return _tagged(0, 1001, struct.pack(">IIII", src_vlan, 0, dst_vlan, 0), None)


def extended_router(next_hop: str | None, src_mask: int = 24, dst_mask: int = 16) -> bytes:
    return _tagged(0, 1002, address(next_hop) + struct.pack(">II", src_mask, dst_mask), None)


def extended_gateway(
    next_hop: str | None = "203.0.113.1",
    *,
    own_as: int = 64496,
    src_as: int = 64500,
    src_peer_as: int = 64510,
    path: Sequence[tuple[int, Sequence[int]]] = ((2, (64511, 64520)),),
    communities: Sequence[int] = (64496 << 16 | 100,),
    localpref: int = 100,
    segments: int | None = None,
) -> bytes:
    """``extended_gateway`` (0:1003); path segments as (type 1 AS_SET or 2 AS_SEQUENCE, ASes)."""
    body = address(next_hop) + struct.pack(">III", own_as, src_as, src_peer_as)
    body += struct.pack(">I", len(path) if segments is None else segments)
    for kind, ases in path:
        body += struct.pack(f">II{len(ases)}I", kind, len(ases), *ases)
    body += struct.pack(f">I{len(communities)}I", len(communities), *communities)
    body += struct.pack(">I", localpref)
    return _tagged(0, 1003, body, None)
