"""Captured frame headers, parsed for many frames at once (numpy, no Python loop per frame).

The input is a matrix of the first W bytes of n frames (zero padded) and how many bytes of each
row were really captured. Each step below reads one field for all frames together, at per-row
offsets; a frame whose captured bytes end before a field it needs is refused, counted under a
reason, and never read past its captured length. Layers:

- Link: Ethernet II with up to two IEEE 802.1Q / 802.1ad tags (TPID 0x8100, 0x88A8, 0x9100)
  before the EtherType; Linux cooked capture v1 (16 bytes, protocol at 14) and v2 (20 bytes,
  protocol at 0); BSD loopback NULL (a 4-byte address family in the capturing host's byte
  order: AF_INET 2, AF_INET6 24, 28 or 30); raw IPv4/IPv6 (LINKTYPE_RAW, _IPV4, _IPV6).
- IPv4, RFC 791 section 3.1: IHL (options skipped), total length, flags and fragment offset,
  TTL, protocol, addresses.
- IPv6, RFC 8200 sections 3 and 4: payload length, hop limit, addresses, then the extension
  headers hop-by-hop (0), routing (43), destination options (60) (length (n + 1) * 8,
  section 4.3-4.6), fragment (44, 8 bytes, section 4.5) and AH (51, (n + 2) * 4, RFC 4302
  section 2.2), followed for at most ``MAX_EXTENSION_HEADERS`` levels, all frames at each level.
- Transport, only in unfragmented packets and first fragments (a later fragment carries no
  transport header): TCP ports, data offset and flags (RFC 9293 section 3.1), UDP ports and
  length (RFC 768), SCTP/DCCP/UDP-Lite ports (their first four bytes), ICMP type and code
  (RFC 792) and ICMPv6 type and code (RFC 4443 section 2.1).

Addresses are 16 bytes with IPv4 mapped as in schema.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray


class LinkType(IntEnum):
    """The link types we parse; values are the pcap/pcapng LINKTYPE_* numbers."""

    NULL = 0
    ETHERNET = 1
    RAW = 101
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


ETHERTYPE_IPV4, ETHERTYPE_IPV6 = 0x0800, 0x86DD
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)  # 802.1Q C-tag, 802.1ad S-tag, the older QinQ value
MAX_VLAN_TAGS = 2
NULL_FAMILIES_V6 = (24, 28, 30)  # AF_INET6 on NetBSD/OpenBSD, FreeBSD/DragonFly, macOS
TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
PORTED = (33, 132, 136)  # DCCP, SCTP, UDP-Lite: source and destination port first, like UDP
HOP_BY_HOP, ROUTING, FRAGMENT, AUTH, DEST_OPTS = 0, 43, 44, 51, 60
MAX_EXTENSION_HEADERS = 8

# Reasons a frame is refused, in the order the parse meets them (index = code - 1).
REASONS = (
    "link type not supported",
    "truncated link header",
    "more than two VLAN tags",
    "not IP",
    "IP version does not match the link header",
    "truncated IPv4 header",
    "IPv4 header length below 20 bytes",
    "IPv4 total length shorter than its header",
    "truncated IPv6 header",
    "truncated IPv6 extension header",
    "IPv6 extension headers longer than the payload",
    "too many IPv6 extension headers",
    "truncated TCP header",
    "TCP data offset below 20 bytes",
    "truncated UDP header",
    "UDP length below 8 bytes",
    "truncated transport ports",
    "truncated ICMP header",
)
_CODE = {reason: code for code, reason in enumerate(REASONS, start=1)}
# The reasons that a wider look at the same frame may remove.
TRUNCATED = np.array([code for reason, code in _CODE.items() if "truncated" in reason])


@dataclass(frozen=True)
class PacketHeaders:
    """The parsed headers of n frames, one array element per frame.

    ``columns`` holds the Flow-schema columns ip_version, src_addr, dst_addr, src_port,
    dst_port, protocol, tcp_flags, icmp_type, icmp_code, and: ip_bytes (IPv4 total length,
    IPv6 payload length + 40), ttl (hop limit in IPv6), fragment, first_fragment,
    more_fragments, fragment_offset (bytes), fragment_id (IPv4 identification or the IPv6
    fragment header's), transport_offset and transport_length (where the bytes after the IP
    headers begin in the frame, and how many the IP header says there are: the transport
    header, or a later fragment's data), payload_offset and payload_length (the transport
    payload: after the TCP header with options, after the UDP header (length from its length
    field), or the whole transport for other protocols; offset -1 in later fragments and
    refused frames). Lengths are what the headers say; the bytes may extend past what was
    captured. Refused frames have ``valid`` false and zeros elsewhere; ``reason`` says why, per
    frame (0 parsed, else 1 + the index of the reason in REASONS).
    """

    columns: dict[str, NDArray[Any]]
    valid: NDArray[np.bool_]
    problems: dict[str, int]
    reason: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, dtype=np.int8))


class _Frames:
    """Reading fields at per-row offsets, refusing rows whose captured bytes end too soon."""

    def __init__(self, frames: NDArray[np.uint8], captured: NDArray[np.int64]) -> None:
        self.frames = frames
        self.width = frames.shape[1]
        self.rows = np.arange(len(frames))
        self.captured = np.minimum(captured, self.width)
        self.problem = np.zeros(len(frames), dtype=np.int8)

    def refuse(self, where: NDArray[np.bool_], reason: str) -> None:
        self.problem[where & (self.problem == 0)] = _CODE[reason]

    @property
    def alive(self) -> NDArray[np.bool_]:
        alive: NDArray[np.bool_] = self.problem == 0
        return alive

    def need(self, where: NDArray[np.bool_], end: NDArray[np.int64], reason: str) -> None:
        """Refuse the rows of ``where`` that did not capture bytes up to ``end``."""
        self.refuse(where & (end > self.captured), reason)

    def u8(self, offset: NDArray[np.int64]) -> NDArray[np.int64]:
        column = np.clip(offset, 0, self.width - 1)
        return self.frames[self.rows, column].astype(np.int64)

    def u16(self, offset: NDArray[np.int64]) -> NDArray[np.int64]:
        return self.u8(offset) << 8 | self.u8(offset + 1)

    def u32(self, offset: NDArray[np.int64]) -> NDArray[np.int64]:
        return self.u16(offset) << 16 | self.u16(offset + 2)

    def block(
        self, offset: NDArray[np.int64], size: int, where: NDArray[np.bool_]
    ) -> NDArray[np.uint8]:
        """``size`` bytes from ``offset`` of the rows of ``where`` only."""
        rows = np.flatnonzero(where)
        columns = np.clip(offset[rows, None] + np.arange(size), 0, self.width - 1)
        block: NDArray[np.uint8] = self.frames[rows[:, None], columns]
        return block


def parse_headers(
    frames: NDArray[np.uint8],
    link: int | NDArray[np.integer[Any]],
    captured: NDArray[np.integer[Any]],
) -> PacketHeaders:
    """Parse link, IP and transport headers of every row of ``frames`` (see the module doc)."""
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if frames.ndim != 2:
        raise ValueError(f"frames must be a matrix of rows, got {frames.ndim} dimensions")
    n = len(frames)
    if frames.shape[1] == 0:
        frames = np.zeros((n, 1), dtype=np.uint8)
        captured = np.zeros(n, dtype=np.int64)
    reader = _Frames(frames, np.asarray(captured, dtype=np.int64))
    links = np.broadcast_to(np.asarray(link, dtype=np.int64), (n,))
    l3, version = _link_layer(reader, links)
    columns = _empty(n)
    _ipv4(reader, l3, version == 4, columns)
    _ipv6(reader, l3, version == 6, columns)
    _transport(reader, version, columns)
    valid = reader.alive
    for name, column in columns.items():
        if name not in ("payload_offset", "transport_offset"):
            column[~valid] = 0
    columns["payload_offset"][~valid] = -1
    columns["transport_offset"][~valid] = -1
    columns["ip_version"][valid] = version[valid]
    counts = np.bincount(reader.problem, minlength=len(REASONS) + 1)
    problems = {reason: int(counts[code]) for reason, code in _CODE.items() if counts[code]}
    return PacketHeaders(columns=columns, valid=valid, problems=problems, reason=reader.problem)


def _empty(n: int) -> dict[str, NDArray[Any]]:
    dtypes = {
        "ip_version": np.uint8,
        "src_port": np.uint16,
        "dst_port": np.uint16,
        "protocol": np.uint8,
        "tcp_flags": np.uint8,
        "icmp_type": np.uint8,
        "icmp_code": np.uint8,
        "ip_bytes": np.uint64,
        "ttl": np.uint8,
        "fragment": np.bool_,
        "first_fragment": np.bool_,
        "more_fragments": np.bool_,
        "fragment_offset": np.int64,
        "fragment_id": np.uint32,
        "transport_offset": np.int64,
        "transport_length": np.int64,
        "payload_offset": np.int64,
        "payload_length": np.int64,
    }
    columns: dict[str, NDArray[Any]] = {name: np.zeros(n, dtype=t) for name, t in dtypes.items()}
    columns["src_addr"] = np.zeros(n, dtype="S16")
    columns["dst_addr"] = np.zeros(n, dtype="S16")
    columns["payload_offset"][:] = -1
    columns["transport_offset"][:] = -1
    return columns


def _link_layer(
    reader: _Frames, links: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Where the IP header begins in each frame, and the IP version the link layer says."""
    n = len(links)
    l3 = np.zeros(n, dtype=np.int64)
    version = np.zeros(n, dtype=np.int64)
    reader.refuse(~np.isin(links, [int(t) for t in LinkType]), "link type not supported")
    # Links that name the network protocol with an EtherType, and where they keep it.
    ethertype_at = np.full(n, -1, dtype=np.int64)
    ethertype_at[links == LinkType.ETHERNET] = 12
    ethertype_at[links == LinkType.LINUX_SLL] = 14
    ethertype_at[links == LinkType.LINUX_SLL2] = 0
    header_end = np.select(
        [links == LinkType.ETHERNET, links == LinkType.LINUX_SLL, links == LinkType.LINUX_SLL2],
        [14, 16, 20],
        0,
    )
    typed = ethertype_at >= 0
    reader.need(typed, np.maximum(header_end, ethertype_at + 2), "truncated link header")
    ethertype = reader.u16(ethertype_at)
    for _ in range(MAX_VLAN_TAGS):  # IEEE 802.1Q clause 9: TPID, TCI, then the EtherType
        tagged = typed & reader.alive & np.isin(ethertype, VLAN_TPIDS)
        ethertype_at[tagged] += 4
        header_end[tagged] += 4
        reader.need(tagged, header_end, "truncated link header")
        ethertype = np.where(tagged, reader.u16(ethertype_at), ethertype)
    reader.refuse(typed & np.isin(ethertype, VLAN_TPIDS), "more than two VLAN tags")
    l3[typed] = header_end[typed]
    version[typed & (ethertype == ETHERTYPE_IPV4)] = 4
    version[typed & (ethertype == ETHERTYPE_IPV6)] = 6

    null = links == LinkType.NULL
    reader.need(null, np.full(n, 4, dtype=np.int64), "truncated link header")
    zero = np.zeros(n, dtype=np.int64)
    big = reader.u32(zero)
    little = (reader.u8(zero) | reader.u8(zero + 1) << 8 | reader.u8(zero + 2) << 16) | reader.u8(
        zero + 3
    ) << 24
    l3[null] = 4
    version[null & ((big == 2) | (little == 2))] = 4
    v6_family = np.isin(big, NULL_FAMILIES_V6) | np.isin(little, NULL_FAMILIES_V6)
    version[null & v6_family] = 6

    raw = links == LinkType.RAW
    version[links == LinkType.IPV4] = 4
    version[links == LinkType.IPV6] = 6
    said = np.isin(links, [LinkType.IPV4, LinkType.IPV6])
    reader.need(np.ones(n, dtype=bool), l3 + 1, "truncated link header")
    nibble = reader.u8(l3) >> 4
    version[raw & np.isin(nibble, (4, 6))] = nibble[raw & np.isin(nibble, (4, 6))]
    reader.refuse(version == 0, "not IP")
    mismatch = (typed | null | said) & (version != nibble)
    reader.refuse(mismatch, "IP version does not match the link header")
    return l3, version


def _addresses(
    reader: _Frames, offset: NDArray[np.int64], size: int, where: NDArray[np.bool_]
) -> NDArray[np.bytes_]:
    raw = reader.block(offset, size, where)
    if size == 4:
        mapped = np.zeros((len(raw), 16), dtype=np.uint8)
        mapped[:, 10:12] = 0xFF
        mapped[:, 12:] = raw
        raw = mapped
    return np.ascontiguousarray(raw).view("S16").ravel()


def _ipv4(
    reader: _Frames, l3: NDArray[np.int64], v4: NDArray[np.bool_], out: dict[str, NDArray[Any]]
) -> None:
    """RFC 791 section 3.1."""
    reader.need(v4, l3 + 20, "truncated IPv4 header")
    v4 = v4 & reader.alive
    ihl = (reader.u8(l3) & 0x0F) * 4
    reader.refuse(v4 & (ihl < 20), "IPv4 header length below 20 bytes")
    reader.need(v4, l3 + ihl, "truncated IPv4 header")
    total = reader.u16(l3 + 2)
    reader.refuse(v4 & (total < ihl), "IPv4 total length shorter than its header")
    rows = v4 & reader.alive
    flags_offset = reader.u16(l3 + 6)
    offset = (flags_offset & 0x1FFF) * 8
    more = (flags_offset & 0x2000) != 0
    _put(out, rows, "ip_bytes", total)
    _put(out, rows, "ttl", reader.u8(l3 + 8))
    _put(out, rows, "protocol", reader.u8(l3 + 9))
    _put(out, rows, "fragment", more | (offset > 0))
    _put(out, rows, "first_fragment", offset == 0)
    _put(out, rows, "more_fragments", more)
    _put(out, rows, "fragment_offset", offset)
    _put(out, rows, "fragment_id", reader.u16(l3 + 4))
    _put(out, rows, "transport_offset", l3 + ihl)
    _put(out, rows, "transport_length", total - ihl)
    out["src_addr"][rows] = _addresses(reader, l3 + 12, 4, rows)
    out["dst_addr"][rows] = _addresses(reader, l3 + 16, 4, rows)


def _ipv6(
    reader: _Frames, l3: NDArray[np.int64], v6: NDArray[np.bool_], out: dict[str, NDArray[Any]]
) -> None:
    """RFC 8200 section 3, then the extension headers of section 4, one depth at a time."""
    reader.need(v6, l3 + 40, "truncated IPv6 header")
    v6 = v6 & reader.alive
    payload = reader.u16(l3 + 4)
    header = reader.u8(l3 + 6)
    at = l3 + 40
    fragment = np.zeros(len(l3), dtype=bool)
    offset = np.zeros(len(l3), dtype=np.int64)
    more = np.zeros(len(l3), dtype=bool)
    ident = np.zeros(len(l3), dtype=np.int64)
    walking = v6.copy()
    for _ in range(MAX_EXTENSION_HEADERS):
        walking &= reader.alive & np.isin(header, (HOP_BY_HOP, ROUTING, FRAGMENT, AUTH, DEST_OPTS))
        if not walking.any():
            break
        is_fragment = walking & (header == FRAGMENT)
        reader.need(walking, at + np.where(is_fragment, 8, 2), "truncated IPv6 extension header")
        walking &= reader.alive
        is_fragment &= walking
        length = np.where(header == AUTH, (reader.u8(at + 1) + 2) * 4, (reader.u8(at + 1) + 1) * 8)
        length[header == FRAGMENT] = 8
        word = reader.u16(at + 2)
        fragment |= is_fragment
        offset = np.where(is_fragment, (word >> 3) * 8, offset)
        more = np.where(is_fragment, (word & 1) == 1, more)
        ident = np.where(is_fragment, reader.u32(at + 4), ident)
        header = np.where(walking, reader.u8(at), header)
        at = np.where(walking, at + length, at)
        reader.refuse(
            walking & (at - l3 - 40 > payload), "IPv6 extension headers longer than the payload"
        )
        walking &= ~(is_fragment & (offset > 0))  # a later fragment's data is no header
    extension = np.isin(header, (HOP_BY_HOP, ROUTING, FRAGMENT, AUTH, DEST_OPTS))
    reader.refuse(walking & extension, "too many IPv6 extension headers")
    rows = v6 & reader.alive
    _put(out, rows, "ip_bytes", payload + 40)
    _put(out, rows, "ttl", reader.u8(l3 + 7))
    _put(out, rows, "protocol", header)
    _put(out, rows, "fragment", fragment)
    _put(out, rows, "first_fragment", offset == 0)
    _put(out, rows, "more_fragments", more)
    _put(out, rows, "fragment_offset", offset)
    _put(out, rows, "fragment_id", ident)
    _put(out, rows, "transport_offset", at)
    _put(out, rows, "transport_length", payload - (at - l3 - 40))
    out["src_addr"][rows] = _addresses(reader, l3 + 8, 16, rows)
    out["dst_addr"][rows] = _addresses(reader, l3 + 24, 16, rows)


def _transport(reader: _Frames, version: NDArray[np.int64], out: dict[str, NDArray[Any]]) -> None:
    """Ports, flags and ICMP fields of unfragmented packets and first fragments."""
    headed = reader.alive & (out["transport_offset"] >= 0) & out["first_fragment"]
    at = out["transport_offset"]
    length = out["transport_length"]
    protocol = out["protocol"].astype(np.int64)
    tcp = headed & (protocol == TCP)
    udp = headed & (protocol == UDP)
    ported = headed & np.isin(protocol, PORTED)
    icmp = headed & (
        ((protocol == ICMP) & (version == 4)) | ((protocol == ICMPV6) & (version == 6))
    )
    reader.need(tcp, at + 14, "truncated TCP header")
    reader.need(udp, at + 8, "truncated UDP header")
    reader.need(ported, at + 4, "truncated transport ports")
    reader.need(icmp, at + 2, "truncated ICMP header")
    data_offset = (reader.u8(at + 12) >> 4) * 4
    reader.refuse(tcp & (data_offset < 20), "TCP data offset below 20 bytes")
    udp_length = reader.u16(at + 4)
    reader.refuse(udp & (udp_length < 8), "UDP length below 8 bytes")
    alive = reader.alive
    tcp, udp, ported, icmp = tcp & alive, udp & alive, ported & alive, icmp & alive
    with_ports = tcp | udp | ported
    _put(out, with_ports, "src_port", reader.u16(at))
    _put(out, with_ports, "dst_port", reader.u16(at + 2))
    _put(out, tcp, "tcp_flags", reader.u8(at + 13))
    _put(out, icmp, "icmp_type", reader.u8(at))
    _put(out, icmp, "icmp_code", reader.u8(at + 1))
    other = headed & alive & ~tcp & ~udp
    _put(out, tcp, "payload_offset", at + data_offset)
    _put(out, tcp, "payload_length", np.maximum(length - data_offset, 0))
    _put(out, udp, "payload_offset", at + 8)
    _put(out, udp, "payload_length", udp_length - 8)
    _put(out, other, "payload_offset", at)
    _put(out, other, "payload_length", length)


def _put(out: dict[str, NDArray[Any]], rows: NDArray[np.bool_], name: str, values: Any) -> None:
    column = out[name]
    column[rows] = np.broadcast_to(values, rows.shape)[rows].astype(column.dtype)
