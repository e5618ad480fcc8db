"""A small test-side exporter: builds NetFlow v5, NetFlow v9 and IPFIX datagrams with struct.

Written for the tests only, from the specifications (Cisco's v5 format, RFC 3954, RFC 7011), so
that decoders are checked against independently built bytes.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

VARIABLE = 65535

Field = tuple[int, int] | tuple[int, int, int]  # (element, length) or (element, length, PEN)


def ip(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def mapped(text: str) -> bytes:
    """The schema's 16-byte form of an address."""
    address = ipaddress.ip_address(text)
    if address.version == 4:
        return bytes(10) + b"\xff\xff" + address.packed
    return address.packed


# --- NetFlow v5 -------------------------------------------------------------------------------


@dataclass
class V5Record:
    src: str = "192.0.2.1"
    dst: str = "198.51.100.2"
    nexthop: str = "203.0.113.254"
    input: int = 3
    output: int = 4
    packets: int = 10
    octets: int = 1500
    first: int = 1_000
    last: int = 2_000
    src_port: int = 40000
    dst_port: int = 443
    tcp_flags: int = 0x12
    protocol: int = 6
    tos: int = 0
    src_as: int = 64500
    dst_as: int = 64501
    src_mask: int = 24
    dst_mask: int = 16

    def pack(self) -> bytes:
        return struct.pack(
            ">4s4s4sHHIIIIHHBBBBHHBBH",
            ip(self.src),
            ip(self.dst),
            ip(self.nexthop),
            self.input,
            self.output,
            self.packets,
            self.octets,
            self.first,
            self.last,
            self.src_port,
            self.dst_port,
            0,
            self.tcp_flags,
            self.protocol,
            self.tos,
            self.src_as,
            self.dst_as,
            self.src_mask,
            self.dst_mask,
            0,
        )


def v5_datagram(
    records: Sequence[V5Record],
    *,
    uptime: int = 10_000,
    secs: int = 1_700_000_000,
    nsecs: int = 500_000_000,
    sequence: int = 1,
    engine_type: int = 1,
    engine_id: int = 2,
    sampling: int = 0,
    count: int | None = None,
) -> bytes:
    header = struct.pack(
        ">HHIIIIBBH",
        5,
        len(records) if count is None else count,
        uptime,
        secs,
        nsecs,
        sequence,
        engine_type,
        engine_id,
        sampling,
    )
    return header + b"".join(record.pack() for record in records)


# --- records of templates (NetFlow v9 and IPFIX) -----------------------------------------------


def encode_record(fields: Sequence[Field], values: Mapping[int, int | bytes]) -> bytes:
    """One data record: each field's value (int or bytes) in its length; 0 where absent.

    Enterprise fields are keyed by -element. Variable-length values get the RFC 7011 section 7
    prefix: one octet, or 255 and two octets from 255 on.
    """
    out = bytearray()
    for spec in fields:
        element, length = spec[0], spec[1]
        key = -element if len(spec) == 3 else element
        value = values.get(key, 0)
        if length == VARIABLE:
            raw = value if isinstance(value, bytes) else b""
            prefix = bytes([len(raw)]) if len(raw) < 255 else b"\xff" + struct.pack(">H", len(raw))
            out += prefix + raw
        elif isinstance(value, bytes):
            assert len(value) == length, (element, length, value)
            out += value
        else:
            out += value.to_bytes(length, "big")
    return bytes(out)


def padded(body: bytes) -> bytes:
    return body + bytes(-len(body) % 4)


def flowset(set_id: int, body: bytes, *, pad: bool = True) -> bytes:
    """A set (IPFIX) or FlowSet (NetFlow v9): id, length, body, optional padding to 4 bytes."""
    body = padded(body) if pad else body
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def field_specs(fields: Sequence[Field], *, enterprise_bit: bool = True) -> bytes:
    out = bytearray()
    for spec in fields:
        if len(spec) == 3 and enterprise_bit:
            out += struct.pack(">HHI", spec[0] | 0x8000, spec[1], spec[2])
        else:
            out += struct.pack(">HH", spec[0], spec[1])
    return bytes(out)


# --- NetFlow v9 (RFC 3954) ---------------------------------------------------------------------


def v9_packet(
    flowsets: Sequence[bytes],
    *,
    uptime: int = 50_000,
    secs: int = 1_700_000_000,
    sequence: int = 1,
    source_id: int = 7,
) -> bytes:
    header = struct.pack(">HHIIII", 9, len(flowsets), uptime, secs, sequence, source_id)
    return header + b"".join(flowsets)


def v9_template_flowset(templates: Sequence[tuple[int, Sequence[Field]]]) -> bytes:
    body = b"".join(
        struct.pack(">HH", tid, len(fields)) + field_specs(fields, enterprise_bit=False)
        for tid, fields in templates
    )
    return flowset(0, body)


def v9_options_template_flowset(
    template_id: int, scope: Sequence[Field], options: Sequence[Field]
) -> bytes:
    body = struct.pack(">HHH", template_id, 4 * len(scope), 4 * len(options))
    body += field_specs(scope, enterprise_bit=False) + field_specs(options, enterprise_bit=False)
    return flowset(1, body)


# --- IPFIX (RFC 7011) --------------------------------------------------------------------------


@dataclass
class Message:
    sets: list[bytes] = field(default_factory=list)
    export_time: int = 1_700_000_100
    sequence: int = 0
    domain: int = 42

    def pack(self) -> bytes:
        body = b"".join(self.sets)
        header = struct.pack(
            ">HHIII", 10, 16 + len(body), self.export_time, self.sequence, self.domain
        )
        return header + body


def ipfix_message(sets: Sequence[bytes], **header: int) -> bytes:
    return Message(list(sets), **header).pack()


def ipfix_template_set(templates: Sequence[tuple[int, Sequence[Field]]]) -> bytes:
    body = b"".join(
        struct.pack(">HH", tid, len(fields)) + field_specs(fields) for tid, fields in templates
    )
    return flowset(2, body, pad=False)


def ipfix_options_template_set(
    template_id: int, scope: Sequence[Field], options: Sequence[Field]
) -> bytes:
    body = struct.pack(">HHH", template_id, len(scope) + len(options), len(scope))
    body += field_specs(scope) + field_specs(options)
    return flowset(3, body, pad=False)


def ipfix_withdrawal(template_id: int, *, options: bool = False) -> bytes:
    return flowset(3 if options else 2, struct.pack(">HH", template_id, 0), pad=False)


def data_set(
    template_id: int,
    fields: Sequence[Field],
    rows: Sequence[Mapping[int, int | bytes]],
    *,
    pad: bool = True,
) -> bytes:
    return flowset(template_id, b"".join(encode_record(fields, row) for row in rows), pad=pad)
