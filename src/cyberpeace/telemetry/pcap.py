"""The pcap and pcapng reader: captured packets into flows, flow exports into their flows.

The steps, each columnar over all packets of the file:

1. capture_files.read_capture: the record chain (the one minimal sequential walk) and every
   record's offset, lengths, time and link type;
2. packets.parse_headers on the first ``HEAD_WIDTH`` bytes of every frame (frames refused as
   truncated although captured longer are parsed again, wider);
3. capture_exports: UDP datagrams that are NetFlow v5/v9, IPFIX or sFlow exports, on any port,
   are decoded into the flows they carry, and take no further part;
4. flow_meter.meter: the other packets into unidirectional flows (idle and active timeouts),
   exporter = the file's path.

Records the file refuses (lying lengths, a cut-off end) and frames that are not readable IP
are counted and named; frames of other network protocols (ARP, ...) are named but are not
malformed. ReadError only when the file is no capture at all or nothing in it is readable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.telemetry.capture_exports import decode_exports, find_exports
from cyberpeace.telemetry.capture_files import (
    PAD,
    Capture,
    CaptureError,
    is_capture,
    read_capture,
)
from cyberpeace.telemetry.collecting import MAX_ERRORS
from cyberpeace.telemetry.flow_meter import ACTIVE_TIMEOUT, IDLE_TIMEOUT, meter
from cyberpeace.telemetry.packets import REASONS, TRUNCATED, PacketHeaders, parse_headers
from cyberpeace.telemetry.readers import ReadError, ReadResult, register_reader

HEAD_WIDTH = 128  # enough for Ethernet, two VLAN tags, IPv4 with options or IPv6, and TCP
CHUNK = 1 << 18  # frames parsed at a time, bounding the frame matrix to 32 MiB
NOT_MALFORMED = {"not IP"}


def _is_capture(head: bytes, _: Path) -> bool:
    return is_capture(head)


@register_reader("pcap", _is_capture)
def read_pcap(
    path: Path,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    active_timeout: float = ACTIVE_TIMEOUT,
) -> ReadResult:
    """Flows of a classic pcap or pcapng file (see the module doc)."""
    try:
        capture = read_capture(path)
    except CaptureError as error:
        raise ReadError(f"{path}: {error}") from None
    source = str(path)
    if not len(capture.offset) and capture.malformed:
        raise ReadError(f"{source}: no readable packet: {'; '.join(capture.errors[:3])}")
    columns, valid, problems = headers_of(capture)
    found = find_exports(capture, columns, valid)
    exports = decode_exports(found.exports)
    metered = valid & ~found.consumed
    traffic = meter(
        {name: column[metered] for name, column in columns.items()},
        capture.time_us[metered],
        source,
        idle_timeout=idle_timeout,
        active_timeout=active_timeout,
    )
    errors = [f"{source}: {message}" for message in capture.errors]
    for reason, count in problems.items():
        errors.append(f"{source}: {count} frames refused: {reason}")
    errors.extend(f"{source}: {note}" for note in found.notes)
    errors.extend(f"{source}: {message}" for message in exports.errors)
    malformed = capture.malformed + exports.malformed
    malformed += sum(count for reason, count in problems.items() if reason not in NOT_MALFORMED)
    flows = pa.concat_tables([exports.flows, traffic])
    return ReadResult(flows, malformed=malformed, errors=errors[:MAX_ERRORS])


def headers_of(
    capture: Capture,
) -> tuple[dict[str, NDArray[Any]], NDArray[np.bool_], dict[str, int]]:
    """parse_headers over every frame, in chunks, with a wider second look where needed."""
    n = len(capture.offset)
    parts = [_parse(capture, np.arange(i, min(i + CHUNK, n))) for i in range(0, n, CHUNK)]
    if not parts:
        parts = [_parse(capture, np.zeros(0, dtype=np.intp))]
    columns = {name: np.concatenate([p.columns[name] for p in parts]) for name in parts[0].columns}
    valid = np.concatenate([p.valid for p in parts])
    reason = np.concatenate([p.reason for p in parts])
    counts = np.bincount(reason, minlength=len(REASONS) + 1)
    problems = {REASONS[code - 1]: int(counts[code]) for code in np.flatnonzero(counts[1:]) + 1}
    return columns, valid, problems


def _parse(capture: Capture, rows: NDArray[np.intp]) -> PacketHeaders:
    headers = parse_headers(
        capture.frames(HEAD_WIDTH, rows), capture.link[rows], capture.captured[rows]
    )
    again = np.flatnonzero(
        np.isin(headers.reason, TRUNCATED) & (capture.captured[rows] > HEAD_WIDTH)
    )
    if not len(again):
        return headers
    width = int(min(capture.captured[rows[again]].max(), PAD))
    wider = parse_headers(
        capture.frames(width, rows[again]), capture.link[rows[again]], capture.captured[rows[again]]
    )
    for name, column in headers.columns.items():
        column[again] = wider.columns[name]
    headers.valid[again] = wider.valid
    headers.reason[again] = wider.reason
    return headers
