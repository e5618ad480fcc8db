"""Capture files, classic pcap and pcapng, as columns: where each frame is, its lengths and time.

Classic pcap (draft-ietf-opsawg-pcap sections 4 and 5): a 24-byte file header whose magic gives
the byte order and the timestamp unit (0xA1B2C3D4 microseconds, 0xA1B23C4D nanoseconds), the
snaplen and the link type (its low 16 bits; the upper bits carry the FCS length), then 16-byte
record headers (seconds, fraction, captured length, original length) each followed by its data.

pcapng (draft-ietf-opsawg-pcapng): blocks of type, total length, body, total length (section
3.1). A Section Header Block (4.1) starts a section with its own byte order (the byte-order
magic) and its own interfaces; Interface Description Blocks (4.2) give the link type, snaplen,
``if_tsresol`` (option 9, section 4.2: 10^-n, or 2^-n when the top bit is set; default 10^-6)
and ``if_tsoffset`` (option 14, seconds added to every timestamp); Enhanced Packet Blocks (4.3),
Simple Packet Blocks (4.4, no interface id nor time: the first interface, the previous packet's
time) and the obsolete Packet Block (appendix) carry frames. Other blocks are skipped.

The record chain can only be walked in order, each header saying where the next begins. That
walk is the one Python loop per record, and it is kept minimal: it reads the one length field
that leads to the next record (and, in pcapng, the block type) and notes the record's offset.
Everything else (times, lengths, checks, copying frames out) is read afterwards for all
records at once with numpy. A record that lies (a length beyond the file or beyond
``MAX_RECORD``) ends the walk: what came before is kept, the rest is refused with one message.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

MAX_RECORD = 262_144  # libpcap's MAXIMUM_SNAPLEN: no capture record is longer
PAD = 4096  # zero bytes after the file, so that fixed-width windows never leave the buffer
CLASSIC_MAGICS = {  # the magic as it appears in the file: byte order, fraction units per us
    b"\xd4\xc3\xb2\xa1": ("<", 1),  # little endian, microseconds
    b"\x4d\x3c\xb2\xa1": ("<", 1_000),  # little endian, nanoseconds
    b"\xa1\xb2\xc3\xd4": (">", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1_000),
}
SHB, IDB, PACKET_BLOCK, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D
IF_TSRESOL, IF_TSOFFSET = 9, 14


class CaptureError(ValueError):
    """A file that is no capture at all (bad magic, no header)."""


@dataclass
class Capture:
    """Frames of one capture file, in file order, all as columns over ``data``."""

    data: NDArray[np.uint8]  # the whole file followed by PAD zero bytes
    offset: NDArray[np.int64]  # where each frame's first byte is in data
    captured: NDArray[np.int64]
    original: NDArray[np.int64]
    time_us: NDArray[np.int64]
    link: NDArray[np.int64]
    malformed: int = 0
    errors: list[str] = field(default_factory=list)

    def refuse(self, message: str, count: int = 1) -> None:
        self.malformed += count
        self.errors.append(message)

    def frames(self, width: int, rows: NDArray[np.intp] | None = None) -> NDArray[np.uint8]:
        """The first ``width`` bytes of each frame (of ``rows``), zero past what was captured."""
        offset = self.offset if rows is None else self.offset[rows]
        captured = self.captured if rows is None else self.captured[rows]
        windows = sliding_window_view(self.data, min(width, PAD))
        matrix = windows[offset]
        matrix[np.arange(matrix.shape[1]) >= captured[:, None]] = 0
        return matrix

    def keep(self, rows: NDArray[np.bool_]) -> None:
        for name in ("offset", "captured", "original", "time_us", "link"):
            setattr(self, name, getattr(self, name)[rows])


def is_capture(head: bytes) -> bool:
    return head[:4] in CLASSIC_MAGICS or (len(head) >= 12 and head[:4] == SHB.to_bytes(4, "big"))


def read_capture(path: Path) -> Capture:
    """Read a classic pcap or pcapng file; raise CaptureError if it is neither."""
    size = path.stat().st_size
    data = np.zeros(size + PAD, dtype=np.uint8)
    with path.open("rb") as handle:
        handle.readinto(data.data[:size])
    head = data[:4].tobytes()
    if head in CLASSIC_MAGICS:
        return _classic(data, size, *CLASSIC_MAGICS[head])
    if head == SHB.to_bytes(4, "big"):
        return _pcapng(data, size)
    raise CaptureError(f"not a pcap or pcapng file (starts {head.hex()})")


def _u32(data: NDArray[np.uint8], offset: NDArray[np.int64], order: str) -> NDArray[np.int64]:
    raw = data[offset[:, None] + np.arange(4)]
    return np.ascontiguousarray(raw).view(f"{order}u4").ravel().astype(np.int64)


def _u16(data: NDArray[np.uint8], offset: NDArray[np.int64], order: str) -> NDArray[np.int64]:
    raw = data[offset[:, None] + np.arange(2)]
    return np.ascontiguousarray(raw).view(f"{order}u2").ravel().astype(np.int64)


def _empty(data: NDArray[np.uint8]) -> Capture:
    none = np.zeros(0, dtype=np.int64)
    return Capture(data, none, none, none, none, none)


# --- classic pcap -----------------------------------------------------------------------------


def _classic(data: NDArray[np.uint8], size: int, order: str, per_us: int) -> Capture:
    if size < 24:
        raise CaptureError(f"pcap file header cut short: {size} of 24 bytes")
    _, _, _, _, _, snaplen, network = struct.unpack_from(order + "IHHiIII", data.data, 0)
    capture = _empty(data)
    if snaplen == 0 or snaplen > MAX_RECORD:
        capture.refuse(f"header snaplen {snaplen} is absurd; records over {MAX_RECORD} refused")
    offsets, end = _walk_classic(data.data, size, struct.Struct(order + "I"))
    at = np.array(offsets, dtype=np.int64)
    seconds, fraction = _u32(data, at, order), _u32(data, at + 4, order)
    capture.offset = at + 16
    capture.captured = _u32(data, at + 8, order)
    capture.original = _u32(data, at + 12, order)
    capture.time_us = seconds * 1_000_000 + fraction // per_us
    capture.link = np.full(len(at), network & 0xFFFF, dtype=np.int64)
    _end_of_walk(capture, end, size, "record")
    _refuse_records(
        capture,
        [
            (fraction[: len(capture.offset)] >= 1_000_000 * per_us, "timestamp fraction too large"),
            (capture.captured > capture.original, "captured length above the original length"),
        ],
    )
    return capture


def _walk_classic(data: memoryview, size: int, length: struct.Struct) -> tuple[list[int], int]:
    """The offsets of the record headers: the one per-record loop, reading only incl_len."""
    offsets: list[int] = []
    append, unpack = offsets.append, length.unpack_from
    at, last = 24, size - 16
    while at <= last:
        (captured,) = unpack(data, at + 8)
        if captured > MAX_RECORD:
            break
        append(at)
        at += 16 + captured
    return offsets, at


def _end_of_walk(capture: Capture, end: int, size: int, what: str) -> None:
    """Refuse the record the file ends inside of, and say why the walk stopped early."""
    count = len(capture.offset)
    if count and capture.offset[-1] + capture.captured[-1] > size:
        capture.refuse(f"file ends inside {what} {count} (its data at byte {capture.offset[-1]})")
        capture.keep(np.arange(count) < count - 1)
    elif end < size:
        capture.refuse(f"{what} at byte {end} is unreadable; the last {size - end} bytes refused")


def _refuse_records(capture: Capture, checks: list[tuple[NDArray[np.bool_], str]]) -> None:
    bad = np.zeros(len(capture.offset), dtype=bool)
    for failed, reason in checks:
        failed = failed & ~bad
        if failed.any():
            first = int(np.flatnonzero(failed)[0]) + 1
            capture.refuse(
                f"{int(failed.sum())} records refused: {reason} (first: record {first})",
                int(failed.sum()),
            )
        bad |= failed
    if bad.any():
        capture.keep(~bad)


# --- pcapng -----------------------------------------------------------------------------------


@dataclass
class _Interface:
    link: int
    snaplen: int
    units_per_second: int = 1_000_000
    binary_exponent: int = -1  # 2^-n resolution when >= 0
    offset_seconds: int = 0


@dataclass
class _Section:
    order: str
    interfaces: list[_Interface] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)


def _pcapng(data: NDArray[np.uint8], size: int) -> Capture:
    sections, end, problem = _walk_pcapng(data.data, size)
    parts = [_section_frames(data, section) for section in sections]
    capture = _empty(data)
    if parts:
        for name in ("offset", "captured", "original", "time_us", "link"):
            setattr(capture, name, np.concatenate([getattr(p, name) for p in parts]))
        for part in parts:
            capture.malformed += part.malformed
            capture.errors.extend(part.errors)
    if problem:
        capture.refuse(problem)
    elif end < size:
        capture.refuse(f"block at byte {end} is cut short; the last {size - end} bytes refused")
    return capture


def _walk_pcapng(data: memoryview, size: int) -> tuple[list[_Section], int, str]:
    """Block offsets by section: the per-block loop, reading each block's type and length."""
    sections: list[_Section] = []
    at = 0
    head = struct.Struct("<II")
    blocks: list[int] = []
    while at + 12 <= size:
        kind, length = head.unpack_from(data, at)
        if kind == SHB:
            section = _section_header(data, at, size)
            if isinstance(section, str):
                return sections, at, section
            sections.append(section)
            head, blocks = struct.Struct(section.order + "II"), section.blocks
            (length,) = struct.unpack_from(section.order + "I", data, at + 4)
        elif not sections:
            return sections, at, f"block at byte {at} comes before any section header"
        elif kind in (EPB, SPB, PACKET_BLOCK):
            blocks.append(at)
        elif kind == IDB:
            sections[-1].interfaces.append(_interface(data, at, length, sections[-1].order))
        if length < 12 or length & 3 or at + length > size:
            if kind in (EPB, SPB, PACKET_BLOCK) and blocks:
                blocks.pop()
            return sections, at, f"block at byte {at} claims {length} bytes ({size - at} left)"
        at += length
    return sections, at, ""


def _section_header(data: memoryview, at: int, size: int) -> _Section | str:
    if at + 28 > size:
        return f"section header at byte {at} cut short"
    magic = bytes(data[at + 8 : at + 12])
    for order in "<>":
        if struct.unpack(order + "I", magic)[0] == BYTE_ORDER_MAGIC:
            return _Section(order)
    return f"section header at byte {at} has no byte-order magic ({magic.hex()})"


def _interface(data: memoryview, at: int, length: int, order: str) -> _Interface:
    """An IDB's link type, snaplen and time options (section 4.2); bad options are ignored."""
    if length < 20:
        return _Interface(-1, 0)
    link, _, snaplen = struct.unpack_from(order + "HHI", data, at + 8)
    interface = _Interface(link, snaplen)
    option, end = at + 16, at + length - 4
    while option + 4 <= end:
        code, size = struct.unpack_from(order + "HH", data, option)
        value = bytes(data[option + 4 : option + 4 + size])
        if code == 0 or option + 4 + size > end:
            break
        if code == IF_TSRESOL and size == 1:
            exponent = value[0] & 0x7F
            if value[0] & 0x80:
                interface.binary_exponent = exponent
            elif exponent <= 18:
                interface.units_per_second = 10**exponent
        elif code == IF_TSOFFSET and size == 8:
            (interface.offset_seconds,) = struct.unpack(order + "q", value)
        option += 4 + (size + 3) // 4 * 4
    return interface


def _section_frames(data: NDArray[np.uint8], section: _Section) -> Capture:
    """The frames of one section's packet blocks, read for all blocks at once."""
    order = section.order
    at = np.array(section.blocks, dtype=np.int64)
    kind, length = _u32(data, at, order), _u32(data, at + 4, order)
    simple = kind == SPB
    obsolete = kind == PACKET_BLOCK
    interface = np.where(simple, 0, _u32(data, at + 8, order))
    interface[obsolete] = _u16(data, at[obsolete] + 8, order)
    captured = np.where(simple, 0, _u32(data, at + 20, order))
    original = np.where(simple, _u32(data, at + 8, order), _u32(data, at + 24, order))
    overhead = np.where(simple, 16, 32)
    frame = Capture(
        data,
        at + np.where(simple, 12, 28),
        captured,
        original,
        np.zeros_like(at),
        np.zeros_like(at),
    )
    known = interface < len(section.interfaces)
    links = np.array([i.link for i in section.interfaces] + [-1], dtype=np.int64)
    snaplens = np.array([i.snaplen for i in section.interfaces] + [0], dtype=np.int64)
    slot = np.where(known, interface, len(section.interfaces))
    frame.link = links[slot]
    spb_cap = np.minimum(original, length - overhead)
    spb_cap = np.where(snaplens[slot] > 0, np.minimum(spb_cap, snaplens[slot]), spb_cap)
    frame.captured = np.where(simple, spb_cap, captured)
    frame.time_us = _times(data, at, kind, slot, section)
    trailer = _u32(data, at + length - 4, order)
    _refuse_records(
        frame,
        [
            (~known, "interface id without an interface description"),
            (frame.captured + overhead > length, "captured length larger than its block"),
            (trailer != length, "trailing block length differs from the leading one"),
            (frame.captured > original, "captured length above the original length"),
        ],
    )
    return frame


def _times(
    data: NDArray[np.uint8],
    at: NDArray[np.int64],
    kind: NDArray[np.int64],
    slot: NDArray[np.int64],
    section: _Section,
) -> NDArray[np.int64]:
    """UTC microseconds of each block, by its interface's resolution and offset (section 4.2)."""
    order = section.order
    raw = (_u32(data, at + 12, order).astype(np.uint64) << np.uint64(32)) | _u32(
        data, at + 16, order
    ).astype(np.uint64)
    times = np.zeros(len(at), dtype=np.int64)
    for index, interface in enumerate(section.interfaces):
        rows = slot == index
        ticks = raw[rows]
        if interface.binary_exponent >= 0:
            shift = np.uint64(min(interface.binary_exponent, 63))
            whole = (ticks >> shift).astype(np.int64) * 1_000_000
            part = (ticks & ((np.uint64(1) << shift) - np.uint64(1))).astype(np.float64)
            us = whole + (part * 1_000_000 / float(2**shift)).astype(np.int64)
        elif interface.units_per_second >= 1_000_000:
            us = (ticks // np.uint64(interface.units_per_second // 1_000_000)).astype(np.int64)
        else:
            us = ticks.astype(np.int64) * (1_000_000 // interface.units_per_second)
        times[rows] = us + interface.offset_seconds * 1_000_000
    timed = kind != SPB
    last = np.maximum.accumulate(np.where(timed, np.arange(len(at)), 0)) if len(at) else at
    return np.where(timed, times, times[last] if len(at) else times)
