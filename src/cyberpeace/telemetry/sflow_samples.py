"""The walk through sFlow version 5 datagrams: their flow samples and the records in them.

"sFlow Version 5" (sFlow.org, InMon and Foundry, July 2004), section 5 "sFlow Datagram Format",
describes a datagram in XDR (RFC 4506): ``sample_datagram_v5`` (the agent's address, sub-agent
id, sequence number, uptime and an array of ``sample_record``), each sample a ``data_format``
(20 bits of enterprise, 12 of format) and an opaque body whose length is given, each flow
sample an array of ``flow_record`` built the same way. The lengths make a chain that can only
be followed one link after the other, so this module is a sequential loop over samples and
records (``struct.unpack_from``, no copy of the datagram); it does no more in Python than find
the fields. The sampled packet headers are set aside as bytes and decoded later, all of a burst
at once, by ``packets.parse_headers`` (see sflow.py).

What is read, enterprise 0 only (section 5, "Flow Data Types", "Extended Flow Data"):

- samples: ``flow_sample`` (format 1) and ``flow_sample_expanded`` (format 3); counter samples
  (formats 2 and 4) and any other enterprise or format are skipped by their length;
- records: ``sampled_header`` (1), ``sampled_ethernet`` (2, checked, carries nothing the Flow
  schema has), ``sampled_ipv4`` (3), ``sampled_ipv6`` (4), ``extended_switch`` (1001, checked
  likewise), ``extended_router`` (1002, the next hop) and ``extended_gateway`` (1003: src_as
  and, as the destination's AS, the last AS of the last segment of ``dst_as_path``); others are
  skipped by their length. A record may be longer than its structure (the spec lets its owner
  extend a structure at the end); shorter is refused.

What is refused, with the reason, counted as malformed: a datagram whose header is cut or has a
version other than 5 or an agent address type other than 1 (IPv4) or 2 (IPv6); a sample whose
length runs past the datagram (the walk stops there: what follows cannot be found), or fewer
samples than the header's count; a flow sample whose records run past it, or whose
sampling_rate is 0 (the sample alone); a record shorter than its structure, or with a
header_length past its end, a header_protocol that cannot be decoded or an unknown address type
(the record alone: the sample keeps what its other records say). A flow sample left with no
record that describes the packet is refused. Every sample before a refusal is kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from cyberpeace.telemetry.collecting import refuse
from cyberpeace.telemetry.decoding import DecodeResult
from cyberpeace.telemetry.packets import LinkType
from cyberpeace.telemetry.schema import V4_MAPPED_PREFIX

VERSION = 5
SIGNATURE = struct.pack(">I", VERSION)
HEADER_BYTES = 128  # sampled header bytes kept per sample (the spec's default header size)

FLOW_SAMPLE, COUNTER_SAMPLE, FLOW_SAMPLE_EXPANDED, COUNTER_SAMPLE_EXPANDED = 1, 2, 3, 4
SAMPLED_HEADER, SAMPLED_ETHERNET, SAMPLED_IPV4, SAMPLED_IPV6 = 1, 2, 3, 4
EXTENDED_SWITCH, EXTENDED_ROUTER, EXTENDED_GATEWAY = 1001, 1002, 1003

# header_protocol (section 5, "enum header_protocol") -> the link type packets.py decodes.
HEADER_LINKS = {1: int(LinkType.ETHERNET), 11: int(LinkType.IPV4), 12: int(LinkType.IPV6)}
ADDRESS_SIZES = {0: 0, 1: 4, 2: 16}  # address_type UNKNOWN, IP_V4, IP_V6
AGENT_ADDRESS_TYPES = (1, 2)

U32 = struct.Struct(">I")
PAIR = struct.Struct(">II")
DATAGRAM_TAIL = struct.Struct(">IIII")  # sub_agent_id, sequence_number, uptime, sample count
COMPACT = struct.Struct(">8I")  # flow_sample up to and with the flow record count
EXPANDED = struct.Struct(">11I")  # flow_sample_expanded likewise
SAMPLED_HEADER_HEAD = struct.Struct(">4I")  # protocol, frame_length, stripped, header length
IPV4_RECORD = struct.Struct(">II4s4sIIII")
IPV6_RECORD = struct.Struct(">II16s16sIIII")
SAMPLED_ETHERNET_SIZE = 24  # length, two mac[6] each padded to 8 (XDR opaque), type
EXTENDED_SWITCH_SIZE = 16
GATEWAY_ASES = struct.Struct(">III")  # as, src_as, src_peer_as
INTERFACE_FORMAT_SHIFT, INTERFACE_VALUE_MASK = 30, 0x3FFFFFFF
SOURCE_INDEX_MASK = 0x00FFFFFF


@dataclass
class Samples:
    """The flow samples of a burst of datagrams, field by field, ready to become columns.

    ``fixed`` holds one tuple per sample: sampling_rate, source index, input_if, output_if,
    src_as, dst_as, and the rows (or -1) of its sampled header, of its sampled_ipv4/ipv6
    record and of its next hop in the lists beside.
    """

    fixed: list[tuple[int, ...]] = field(default_factory=list)
    headers: list[bytes] = field(default_factory=list)  # HEADER_BYTES each, zero padded
    header_meta: list[tuple[int, int, int, int]] = field(default_factory=list)
    ip_records: list[tuple[int, int, int, bytes, bytes, int, int, int]] = field(
        default_factory=list
    )  # ip_version, length, protocol, src, dst, src_port, dst_port, tcp_flags
    next_hops: list[bytes] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.fixed)


@dataclass
class _Sample:
    """What the records of one flow sample said, committed to Samples only if it is sound."""

    header: tuple[bytes, tuple[int, int, int, int]] | None = None
    ip_record: tuple[int, int, int, bytes, bytes, int, int, int] | None = None
    next_hop: bytes | None = None
    src_as: int = 0
    dst_as: int = 0


def read_datagram(data: bytes, samples: Samples, result: DecodeResult) -> None:
    """Walk one datagram (section 5, ``sample_datagram_v5``), adding its flow samples."""
    size = len(data)
    if size < 8:
        refuse(result, f"sflow: datagram of {size} bytes ends before its agent address type")
        return
    version, address_type = PAIR.unpack_from(data, 0)
    if version != VERSION:
        refuse(result, f"sflow: version {version}, only version {VERSION} is decoded")
        return
    if address_type not in AGENT_ADDRESS_TYPES:
        refuse(result, f"sflow: agent address type {address_type} is neither 1 (IPv4) nor 2 (IPv6)")
        return
    offset = 8 + ADDRESS_SIZES[address_type] + DATAGRAM_TAIL.size
    if size < offset:
        refuse(result, f"sflow: datagram of {size} bytes ends inside its {offset}-byte header")
        return
    count = DATAGRAM_TAIL.unpack_from(data, offset - DATAGRAM_TAIL.size)[3]
    for index in range(count):  # each sample takes 8 bytes at least: bounded by the size
        if offset + 8 > size:
            refuse(result, f"sflow: header claims {count} samples, the datagram ends after {index}")
            return
        data_format, length = PAIR.unpack_from(data, offset)
        start, end = (
            offset + 8,
            offset + 8 + ((length + 3) & ~3),
        )  # XDR pads opaque data to 4 bytes (RFC 4506 section 4.10)
        if end > size:
            refuse(
                result,
                f"sflow: sample {index} ({data_format >> 12}:{data_format & 0xFFF}) at offset "
                f"{offset} claims {length} bytes, {size - start} are left",
            )
            return
        if data_format in (FLOW_SAMPLE, FLOW_SAMPLE_EXPANDED):
            problem, problems = _flow_sample(data, start, start + length, data_format, samples)
            for text in problems if problem is None else [*problems, problem]:
                refuse(result, f"sflow: flow sample {index} at offset {offset}: {text}")
        offset = end
    if offset != size:
        refuse(result, f"sflow: {size - offset} bytes after the last of {count} samples")


def _flow_sample(
    data: bytes, start: int, end: int, data_format: int, samples: Samples
) -> tuple[str | None, list[str]]:
    """One ``flow_sample`` or ``flow_sample_expanded`` (section 5) and its records: why the
    sample is refused, if it is, and the problems of the records refused in it."""
    head = EXPANDED if data_format == FLOW_SAMPLE_EXPANDED else COMPACT
    if end - start < head.size:
        return f"{end - start} bytes, its header alone takes {head.size}", []
    values = head.unpack_from(data, start)
    if head is EXPANDED:
        rate, domain = values[3], values[2]
        input_if = values[7] if values[6] == 0 else 0
        output_if = values[9] if values[8] == 0 else 0
    else:
        rate, domain = values[2], values[1] & SOURCE_INDEX_MASK
        input_if, output_if = _interface(values[5]), _interface(values[6])
    if rate == 0:
        return "sampling_rate 0 (one packet in none)", []
    count, offset = values[-1], start + head.size
    sample = _Sample()
    problems: list[str] = []
    for index in range(count):  # each record takes 8 bytes at least: bounded by the sample
        if offset + 8 > end:
            return f"claims {count} flow records, holds {index}", problems
        data_format, length = PAIR.unpack_from(data, offset)
        body = offset + 8
        offset = body + ((length + 3) & ~3)
        if offset > end:
            kind = f"{data_format >> 12}:{data_format & 0xFFF}"
            left = end - body
            return f"record {index} ({kind}) claims {length} bytes, {left} are left", problems
        problem = _record(data, body, length, data_format, sample)
        if problem is not None:
            problems.append(f"record {index} ({data_format}): {problem}")
    if sample.header is None and sample.ip_record is None:
        if problems:
            return None, problems
        return "no sampled_header, sampled_ipv4 or sampled_ipv6 record", []
    _commit(samples, sample, rate, domain, input_if, output_if)
    return None, problems


def _interface(value: int) -> int:
    """A compact ``interface``: format 0 is an ifIndex; 1 (discarded) and 2 (several
    interfaces) name no single interface, which the Flow schema writes as 0."""
    return value & INTERFACE_VALUE_MASK if value >> INTERFACE_FORMAT_SHIFT == 0 else 0


def _commit(
    samples: Samples, sample: _Sample, rate: int, domain: int, input_if: int, output_if: int
) -> None:
    header_row = ip_row = hop_row = -1
    if sample.header is not None:
        header_row = len(samples.headers)
        samples.headers.append(sample.header[0])
        samples.header_meta.append(sample.header[1])
    if sample.ip_record is not None:
        ip_row = len(samples.ip_records)
        samples.ip_records.append(sample.ip_record)
    if sample.next_hop is not None:
        hop_row = len(samples.next_hops)
        samples.next_hops.append(sample.next_hop)
    ases = (sample.src_as, sample.dst_as)
    samples.fixed.append((rate, domain, input_if, output_if, *ases, header_row, ip_row, hop_row))


def _record(data: bytes, start: int, length: int, data_format: int, sample: _Sample) -> str | None:
    """Read one flow record into the sample; the problem with it, if any."""
    if data_format == SAMPLED_HEADER:
        return _sampled_header(data, start, length, sample)
    if data_format in (SAMPLED_IPV4, SAMPLED_IPV6):
        return _sampled_ip(data, start, length, data_format, sample)
    if data_format == EXTENDED_ROUTER:
        return _extended_router(data, start, length, sample)
    if data_format == EXTENDED_GATEWAY:
        return _extended_gateway(data, start, start + length, sample)
    if data_format == SAMPLED_ETHERNET and length < SAMPLED_ETHERNET_SIZE:
        return f"sampled_ethernet of {length} bytes, needs {SAMPLED_ETHERNET_SIZE}"
    if data_format == EXTENDED_SWITCH and length < EXTENDED_SWITCH_SIZE:
        return f"extended_switch of {length} bytes, needs {EXTENDED_SWITCH_SIZE}"
    return None  # known and checked, or another enterprise's or format: skipped


def _sampled_header(data: bytes, start: int, length: int, sample: _Sample) -> str | None:
    """``sampled_header`` (format 1): the first bytes of the packet, as seen on the wire."""
    if length < SAMPLED_HEADER_HEAD.size:
        return f"sampled_header of {length} bytes, needs {SAMPLED_HEADER_HEAD.size} and the header"
    protocol, frame_length, stripped, captured = SAMPLED_HEADER_HEAD.unpack_from(data, start)
    if captured > length - SAMPLED_HEADER_HEAD.size:
        room = length - SAMPLED_HEADER_HEAD.size
        return f"header_length {captured} runs past the record's {room} bytes of header"
    link = HEADER_LINKS.get(protocol)
    if link is None:
        return f"header_protocol {protocol} is not decoded (1 Ethernet, 11 IPv4, 12 IPv6 are)"
    if sample.header is None:  # a second sampled_header of the same packet adds nothing
        kept = min(captured, HEADER_BYTES)
        first = start + SAMPLED_HEADER_HEAD.size
        frame = data[first : first + kept].ljust(HEADER_BYTES, b"\0")
        sample.header = (frame, (link, kept, frame_length, stripped))
    return None


def _sampled_ip(
    data: bytes, start: int, length: int, data_format: int, sample: _Sample
) -> str | None:
    """``sampled_ipv4`` (3) or ``sampled_ipv6`` (4): the packet's fields, already decoded."""
    layout, version = (IPV4_RECORD, 4) if data_format == SAMPLED_IPV4 else (IPV6_RECORD, 6)
    if length < layout.size:
        return f"sampled_ipv{version} of {length} bytes, needs {layout.size}"
    ip_length, protocol, src, dst, src_port, dst_port, flags, _ = layout.unpack_from(data, start)
    if version == 4:
        src, dst = V4_MAPPED_PREFIX + src, V4_MAPPED_PREFIX + dst
    sample.ip_record = (version, ip_length, protocol & 0xFF, src, dst, src_port, dst_port, flags)
    return None


def _address(data: bytes, start: int, end: int) -> tuple[bytes | None, int, str | None]:
    """An XDR ``address`` union: 16 bytes (IPv4 mapped) or None for UNKNOWN; where it ends."""
    if start + 4 > end:
        return None, start, "ends before its address type"
    kind = U32.unpack_from(data, start)[0]
    size = ADDRESS_SIZES.get(kind)
    if size is None:
        return None, start, f"address type {kind} is none of 0, 1 (IPv4), 2 (IPv6)"
    if start + 4 + size > end:
        return None, start, f"ends inside its {size}-byte address"
    raw = data[start + 4 : start + 4 + size]
    address = None if size == 0 else (V4_MAPPED_PREFIX + raw if size == 4 else raw)
    return address, start + 4 + size, None


def _extended_router(data: bytes, start: int, length: int, sample: _Sample) -> str | None:
    """``extended_router`` (1002): next hop, source and destination prefix lengths."""
    end = start + length
    next_hop, offset, problem = _address(data, start, end)
    if problem is not None:
        return f"extended_router {problem}"
    if offset + 8 > end:
        return "extended_router ends before its prefix lengths"
    sample.next_hop = next_hop
    return None


def _extended_gateway(data: bytes, start: int, end: int, sample: _Sample) -> str | None:
    """``extended_gateway`` (1003): BGP next hop, own AS, src_as, src_peer_as, dst_as_path
    (segments: type, then a counted array of ASes), communities, localpref.

    The destination AS is the last AS of the path (of its last segment that is not empty): the
    one that originates the route. An empty path (the destination is in the router's own AS)
    leaves it 0, as NetFlow writes a local AS. The BGP next hop has no column of its own; the
    IP next hop comes from extended_router.
    """
    _, offset, problem = _address(data, start, end)
    if problem is not None:
        return f"extended_gateway {problem}"
    if offset + GATEWAY_ASES.size + 4 > end:
        return "extended_gateway ends before its AS numbers"
    _, src_as, _ = GATEWAY_ASES.unpack_from(data, offset)
    offset += GATEWAY_ASES.size
    segments = U32.unpack_from(data, offset)[0]
    offset += 4
    dst_as = 0
    for index in range(segments):  # 8 bytes a segment at least: bounded by the record
        if offset + 8 > end:
            return f"extended_gateway claims {segments} AS path segments, holds {index}"
        count = U32.unpack_from(data, offset + 4)[0]
        if offset + 8 + 4 * count > end:
            return f"extended_gateway AS path segment {index} claims {count} ASes past its end"
        if count:
            dst_as = U32.unpack_from(data, offset + 4 + 4 * count)[0]
        offset += 8 + 4 * count
    if offset + 4 > end:
        return "extended_gateway ends before its communities"
    communities = U32.unpack_from(data, offset)[0]
    if offset + 4 + 4 * communities + 4 > end:
        return f"extended_gateway claims {communities} communities and localpref past its end"
    sample.src_as, sample.dst_as = src_as, dst_as
    return None
