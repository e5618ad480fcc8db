"""Zeek ``conn.log``, in Zeek's TSV format (``#separator``/``#fields`` header) or as JSON lines.

One Zeek connection becomes two unidirectional flows, as a NetFlow exporter would see it: the
originator's (``orig_pkts``, ``orig_ip_bytes``) and, when the responder sent anything, the
responder's (``resp_pkts``, ``resp_ip_bytes``), with the addresses and ports swapped. Counts are
IP-level bytes, as NetFlow counts them. TCP flags come from Zeek's ``history`` letters: upper case
is the originator, lower case the responder (S SYN, H SYN-ACK, A ACK, D data (counted as PSH),
F FIN, R RST). For ICMP, Zeek puts the type in the originator port and the code in the
responder port. Rows Zeek left unset (``-``) in required fields are refused and counted.
"""

from __future__ import annotations

from itertools import takewhile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from cyberpeace.telemetry.readers import ReadError, ReadResult, both_directions, register_reader
from cyberpeace.telemetry.schema import FLOW_SCHEMA

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}
# history letter -> TCP flag bit (RFC 9293 section 3.1 header: FIN 1, SYN 2, RST 4, PSH 8, ACK 16)
FLAG_LETTERS = {"S": 2, "H": 18, "A": 16, "D": 8, "F": 1, "R": 4}
TYPES = {
    "ts": pa.float64(),
    "id.orig_h": pa.string(),
    "id.orig_p": pa.int64(),
    "id.resp_h": pa.string(),
    "id.resp_p": pa.int64(),
    "proto": pa.string(),
    "duration": pa.float64(),
    "history": pa.string(),
    "orig_pkts": pa.int64(),
    "orig_ip_bytes": pa.int64(),
    "resp_pkts": pa.int64(),
    "resp_ip_bytes": pa.int64(),
}
NEEDED = [
    "ts",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "duration",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
]


def _is_tsv(head: bytes, _: Path) -> bool:
    return head.startswith(b"#separator") and b"#path\tconn" in head


def _is_json(head: bytes, _: Path) -> bool:
    first = head.split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"id.orig_h"' in first and b'"event_type"' not in first


@register_reader("zeek-conn", _is_tsv)
def read_conn_tsv(path: Path) -> ReadResult:
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    header = list(takewhile(lambda line: line.startswith(b"#"), lines))
    fields = next((h.split(b"\t")[1:] for h in header if h.startswith(b"#fields")), None)
    if fields is None:
        raise ReadError(f"{path}: a Zeek log without a #fields line")
    names = [f.decode("utf-8", "replace") for f in fields]
    body = b"\n".join(line for line in lines[len(header) :] if not line.startswith(b"#"))
    # Zeek escapes non-UTF-8 bytes itself; any that remain are damage, replaced so that the
    # parser can still name the rows it refuses.
    body = body.decode("utf-8", "replace").encode("utf-8")
    bad: list[str] = []
    if not body.strip():
        return ReadResult(FLOW_SCHEMA.empty_table())
    try:
        table = _parse_tsv(body, names, bad)
    except pa.ArrowInvalid as exc:
        raise ReadError(f"{path}: {exc}") from None
    return _flows(table, str(path), bad)


def _parse_tsv(body: bytes, names: list[str], bad: list[str]) -> pa.Table:
    def skip(row: pacsv.InvalidRow) -> str:
        bad.append(f"row {row.number}: expected {row.expected_columns} fields")
        return "skip"

    return pacsv.read_csv(
        pa.BufferReader(body),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pacsv.ParseOptions(
            delimiter="\t", quote_char=False, invalid_row_handler=skip
        ),
        convert_options=pacsv.ConvertOptions(
            null_values=["-", "(empty)"],
            strings_can_be_null=True,
            include_columns=[n for n in NEEDED if n in names],
            column_types={
                "id.orig_h": pa.string(),
                "id.resp_h": pa.string(),
                "history": pa.string(),
            },
        ),
    )


@register_reader("zeek-conn-json", _is_json)
def read_conn_json(path: Path) -> ReadResult:
    try:
        table = pajson.read_json(path)
    except pa.ArrowInvalid as exc:
        raise ReadError(f"{path}: not Zeek JSON lines: {exc}") from None
    return _flows(table, str(path), [])


def _flows(table: pa.Table, source: str, bad: list[str]) -> ReadResult:
    try:
        return _convert(table, source, bad)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise ReadError(f"{source}: {exc}") from None


def _convert(table: pa.Table, source: str, bad: list[str]) -> ReadResult:
    table = pa.table({n: table.column(n).cast(TYPES[n]) for n in NEEDED if n in table.column_names})
    missing = [n for n in NEEDED if n not in table.column_names and n != "history"]
    if missing:
        raise ReadError(f"{source}: conn.log without {', '.join(missing)}")
    history = table.column("history") if "history" in table.column_names else None
    start = pc.multiply(table.column("ts").cast(pa.float64()), 1e6)
    duration = pc.fill_null(table.column("duration").cast(pa.float64()), 0.0)
    end = pc.add(start, pc.multiply(duration, 1e6))
    proto = _protocols(table.column("proto"))
    common = {
        "start": _micros(start),
        "end": _micros(end),
        "protocol": proto,
        "ip_version": _version(table.column("id.orig_h")),
    }
    forward = common | {
        "src_addr": table.column("id.orig_h"),
        "dst_addr": table.column("id.resp_h"),
        "src_port": table.column("id.orig_p"),
        "dst_port": table.column("id.resp_p"),
        "packets": table.column("orig_pkts"),
        "bytes": table.column("orig_ip_bytes"),
        "tcp_flags": _flags(history, upper=True),
    }
    backward = common | {
        "src_addr": table.column("id.resp_h"),
        "dst_addr": table.column("id.orig_h"),
        "src_port": table.column("id.resp_p"),
        "dst_port": table.column("id.orig_p"),
        "packets": table.column("resp_pkts"),
        "bytes": table.column("resp_ip_bytes"),
        "tcp_flags": _flags(history, upper=False),
    }
    rows = table.num_rows
    answered = pc.greater(pc.fill_null(table.column("resp_pkts"), 0), 0)
    flows, refused = both_directions(forward, backward, answered, rows, source)
    broken_rows = len(bad)
    if refused:
        bad.append(f"flows refused for unset required fields: {refused}")
    return ReadResult(flows, malformed=broken_rows + refused, errors=bad)


def _micros(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.round(values).cast(pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _protocols(names: pa.ChunkedArray) -> pa.ChunkedArray:
    lowered = pc.utf8_lower(names.cast(pa.string()))
    keys = pa.array(list(PROTOCOLS))
    index = pc.index_in(lowered, value_set=keys)
    return pc.take(pa.array(list(PROTOCOLS.values()), pa.uint8()), index)


def _version(addresses: pa.ChunkedArray) -> pa.ChunkedArray:
    is_v6 = pc.match_substring(addresses.cast(pa.string()), ":")
    return pc.if_else(is_v6, pa.scalar(6, pa.uint8()), pa.scalar(4, pa.uint8()))


def _flags(history: pa.ChunkedArray | None, *, upper: bool) -> pa.ChunkedArray | int:
    if history is None:
        return 0
    text = pc.fill_null(history.cast(pa.string()), "")
    bits = pa.scalar(0, pa.uint8())
    result = None
    for letter, bit in FLAG_LETTERS.items():
        has = pc.match_substring(text, letter if upper else letter.lower())
        term = pc.if_else(has, pa.scalar(bit, pa.uint8()), bits)
        result = term if result is None else pc.bit_wise_or(result, term)
    return result
