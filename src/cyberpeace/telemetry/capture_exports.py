"""Flow exports found inside a capture: UDP datagrams that are NetFlow, IPFIX or sFlow, any port.

A capture taken near a collector holds the exports themselves. Their flows are what the
capture says about the network, not the export packets, so every UDP datagram (reassembled when
fragmented, RFC 791 section 3.2 and RFC 8200 section 4.5) that a registered decoder accepts
(``FlowExportDecoder.sniff``) and that passes a stricter look is decoded as if received live:
in capture order, one decoder state per file, the exporter named by the packet's source
address, received at the packet's time. The stricter look keeps ordinary traffic out (a DNS
query with id 5 starts like NetFlow v5):

- NetFlow v5 (Cisco's format): length = 24 + 48 * count, 1 <= count <= 30;
- NetFlow v9 (RFC 3954 section 5): FlowSet lengths (>= 4, ids 0, 1 or >= 256) chain from
  the 20-byte header exactly to the end of the datagram;
- IPFIX (RFC 7011 section 3.1): the message length equals the UDP payload length, and set
  lengths (>= 4, ids 2, 3 or >= 256) chain exactly to its end;
- sFlow v5 (sFlow version 5 spec, section 5, sample_datagram_v5): version 5 and agent address
  type 1 (IPv4) or 2 (IPv6), and room for the header.

Candidates are screened for all UDP packets at once with numpy on the first 8 payload bytes;
only those that pass are looked at one by one (and fragmented datagrams reassembled one by
one), which costs a loop over export datagrams, not over packets.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.telemetry.capture_files import Capture
from cyberpeace.telemetry.collecting import MAX_ERRORS
from cyberpeace.telemetry.dispatch import FlowExportDecoder
from cyberpeace.telemetry.schema import FLOW_SCHEMA

UDP = 17
MAX_V5_COUNT = 30
RUN_SPAN_US = 1_000_000  # datagrams of one exporter within a second are decoded together


@dataclass
class Export:
    row: int  # the packet that completed the datagram (capture order)
    exporter: str
    time_us: int
    datagram: bytes


@dataclass
class FoundExports:
    consumed: NDArray[np.bool_]  # packets that carried exports (not metered as traffic)
    exports: list[Export] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class DecodedExports:
    flows: pa.Table
    malformed: int = 0
    errors: list[str] = field(default_factory=list)


def is_export(payload: bytes) -> bool:
    """The stricter look (see the module doc) at a datagram a decoder already accepts."""
    size = len(payload)
    if size < 8:
        return False
    version = payload[0] << 8 | payload[1]
    if version == 5:
        count = payload[2] << 8 | payload[3]
        return 1 <= count <= MAX_V5_COUNT and size == 24 + 48 * count
    if version == 9:
        return size >= 24 and _sets_chain(payload, 20, (0, 1))
    if version == 10:
        length = payload[2] << 8 | payload[3]
        return length == size and size >= 20 and _sets_chain(payload, 16, (2, 3))
    if payload[:4] == b"\x00\x00\x00\x05":
        agent = payload[4:8]
        return (agent == b"\x00\x00\x00\x01" and size >= 28) or (
            agent == b"\x00\x00\x00\x02" and size >= 40
        )
    return False


def _sets_chain(payload: bytes, at: int, template_ids: tuple[int, int]) -> bool:
    size = len(payload)
    while at + 4 <= size:
        set_id, length = struct.unpack_from(">HH", payload, at)
        if length < 4 or (set_id not in template_ids and set_id < 256):
            return False
        at += length
    return at == size


def find_exports(
    capture: Capture, columns: dict[str, NDArray[Any]], valid: NDArray[np.bool_]
) -> FoundExports:
    """The export datagrams of a capture, in capture order, and the packets they used."""
    found = FoundExports(np.zeros(len(valid), dtype=bool))
    decoder = FlowExportDecoder()
    udp = valid & (columns["protocol"] == UDP)
    whole = udp & ~columns["fragment"]
    start = capture.offset + columns["payload_offset"]
    length = columns["payload_length"]
    whole &= (length >= 8) & (columns["payload_offset"] + length <= capture.captured)
    for row in np.flatnonzero(whole & _plausible(capture.data, start, length, exact=True)):
        datagram = capture.data[start[row] : start[row] + length[row]].tobytes()
        if decoder.sniff(datagram) is not None and is_export(datagram):
            found.consumed[row] = True
            found.exports.append(_export(int(row), columns, capture, datagram))
    _fragmented(capture, columns, udp & columns["fragment"], decoder, found)
    found.exports.sort(key=lambda export: export.row)
    return found


def _plausible(
    data: NDArray[np.uint8], start: NDArray[np.int64], length: NDArray[np.int64], *, exact: bool
) -> NDArray[np.bool_]:
    """Payloads whose first 8 bytes could begin an export (all packets at once)."""
    head = data[np.clip(start, 0, len(data) - 8)[:, None] + np.arange(8)].astype(np.int64)
    version = head[:, 0] << 8 | head[:, 1]
    second = head[:, 2] << 8 | head[:, 3]
    agent = head[:, 4] << 24 | head[:, 5] << 16 | head[:, 6] << 8 | head[:, 7]
    v5 = (version == 5) & (second >= 1) & (second <= MAX_V5_COUNT)
    ipfix = version == 10
    if exact:  # a whole datagram: the lengths can be checked here already
        v5 &= length == 24 + 48 * second
        ipfix &= second == length
    sflow = (version == 0) & (second == 5) & ((agent == 1) | (agent == 2))
    plausible: NDArray[np.bool_] = v5 | (version == 9) | ipfix | sflow
    return plausible


def _export(
    row: int, columns: dict[str, NDArray[Any]], capture: Capture, datagram: bytes
) -> Export:
    return Export(row, address_text(columns["src_addr"][row]), int(capture.time_us[row]), datagram)


def address_text(address: bytes) -> str:
    packed = address.ljust(16, b"\x00")
    if packed[:12] == bytes(10) + b"\xff\xff":
        return str(ipaddress.IPv4Address(packed[12:]))
    return str(ipaddress.IPv6Address(packed))


def _fragmented(
    capture: Capture,
    columns: dict[str, NDArray[Any]],
    fragments: NDArray[np.bool_],
    decoder: FlowExportDecoder,
    found: FoundExports,
) -> None:
    """Reassemble the fragmented UDP datagrams whose first fragment looks like an export."""
    rows = np.flatnonzero(fragments)
    if not len(rows):
        return
    group = _datagram_groups(columns, rows)
    first = columns["first_fragment"][rows]
    payload_at = capture.offset[rows] + columns["transport_offset"][rows] + 8
    room = columns["transport_offset"][rows] + 16 <= capture.captured[rows]
    zero = np.zeros(len(rows), dtype=np.int64)
    likely = first & room & _plausible(capture.data, payload_at, zero, exact=False)
    wanted = np.isin(group, group[likely])
    order = np.lexsort((columns["fragment_offset"][rows], group))
    order = order[wanted[order]]
    if not len(order):
        return
    bounds = np.flatnonzero(np.diff(group[order], prepend=-1) != 0)
    for members in np.split(rows[order], bounds[1:]):  # one loop step per candidate datagram
        datagram = _reassemble(capture, columns, members)
        if datagram is None:
            found.notes.append(_incomplete(columns, members))
            continue
        payload = datagram[8:]
        if decoder.sniff(payload) is not None and is_export(payload):
            last = int(members.max())
            found.consumed[members] = True
            found.exports.append(_export(last, columns, capture, payload))


def _datagram_groups(columns: dict[str, NDArray[Any]], rows: NDArray[np.intp]) -> NDArray[np.intp]:
    """One number per original datagram: (version, source, destination, identification)."""
    key = np.zeros((len(rows), 40), dtype=np.uint8)
    key[:, 0:16] = columns["src_addr"][rows].view(np.uint8).reshape(-1, 16)
    key[:, 16:32] = columns["dst_addr"][rows].view(np.uint8).reshape(-1, 16)
    key[:, 32:36] = columns["fragment_id"][rows].astype("<u4").view(np.uint8).reshape(-1, 4)
    key[:, 36] = columns["ip_version"][rows]
    _, group = np.unique(key.view("V40").ravel(), return_inverse=True)
    return group.astype(np.intp)


def _reassemble(
    capture: Capture, columns: dict[str, NDArray[Any]], members: NDArray[np.intp]
) -> bytes | None:
    """The UDP datagram of fragments sorted by offset, or None if one is missing or overlaps."""
    parts: list[bytes] = []
    expected = 0
    for row in members:
        offset = int(columns["fragment_offset"][row])
        size = int(columns["transport_length"][row])
        at = int(columns["transport_offset"][row])
        if offset != expected or at + size > capture.captured[row]:
            return None
        start = int(capture.offset[row]) + at
        parts.append(capture.data[start : start + size].tobytes())
        expected += size
    if columns["more_fragments"][members[-1]] or expected < 8:
        return None
    datagram = b"".join(parts)
    if int.from_bytes(datagram[4:6], "big") != len(datagram):
        return None
    return datagram


def _incomplete(columns: dict[str, NDArray[Any]], members: NDArray[np.intp]) -> str:
    source = address_text(columns["src_addr"][members[0]])
    ident = int(columns["fragment_id"][members[0]])
    return (
        f"fragmented datagram from {source} (id {ident}) that may be an export could not be "
        f"reassembled ({len(members)} fragments); its packets are counted as traffic"
    )


def decode_exports(exports: list[Export]) -> DecodedExports:
    """Decode in capture order, runs of one exporter within a second together (decode_many)."""
    decoder = FlowExportDecoder()
    result = DecodedExports(FLOW_SCHEMA.empty_table())
    batches: list[pa.RecordBatch] = []
    run: list[Export] = []
    for export in [*exports, None]:
        if run and (
            export is None
            or export.exporter != run[0].exporter
            or export.time_us - run[0].time_us >= RUN_SPAN_US
        ):
            decoded = decoder.decode_many(
                [e.datagram for e in run], run[0].exporter, run[0].time_us
            )
            batches.extend(decoded.batches)
            result.malformed += decoded.malformed
            room = max(0, MAX_ERRORS - len(result.errors))
            result.errors.extend(
                f"export from {run[0].exporter}: {e}" for e in decoded.errors[:room]
            )
            run = []
        if export is not None:
            run.append(export)
    if batches:
        result.flows = pa.Table.from_batches(batches, schema=FLOW_SCHEMA)
    return result
