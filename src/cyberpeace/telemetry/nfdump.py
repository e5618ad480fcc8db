"""nfdump's CSV output (``nfdump -r FILE -o csv``, as nfdump 1.7 prints it).

Columns used: ``ts``/``te`` (first and last seen; nfdump prints them in the local time zone of
the machine that ran it: run it with ``TZ=UTC``, as we read them as UTC), ``sa``/``da``,
``sp``/``dp``, ``pr`` (a name such as TCP or a number), ``flg`` (eight characters C E U A P R S F,
``.`` where unset), ``ipkt``/``ibyt``, ``in``/``out``, ``sas``/``das``, ``nh`` and ``ra`` (the
exporter). The ``Summary`` block nfdump appends is not flow data and is cut off.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cyberpeace.telemetry.readers import ReadError, ReadResult, assemble, register_reader

HEADER = b"ts,te,td,sa,da,sp,dp,pr,flg"
PROTOCOLS = {"ICMP": 1, "TCP": 6, "UDP": 17, "GRE": 47, "ESP": 50, "ICMP6": 58, "SCTP": 132}
FLAG_ORDER = "CEUAPRSF"  # most significant bit first, as nfdump prints them
COLUMNS = {
    "ts": pa.string(),
    "te": pa.string(),
    "sa": pa.string(),
    "da": pa.string(),
    "sp": pa.int64(),
    "dp": pa.int64(),
    "pr": pa.string(),
    "flg": pa.string(),
    "ipkt": pa.int64(),
    "ibyt": pa.int64(),
    "in": pa.int64(),
    "out": pa.int64(),
    "sas": pa.int64(),
    "das": pa.int64(),
    "ra": pa.string(),
}


def _is_nfdump(head: bytes, _: Path) -> bool:
    return head.startswith(HEADER)


@register_reader("nfdump-csv", _is_nfdump)
def read_nfdump_csv(path: Path) -> ReadResult:
    raw = path.read_bytes().split(b"\nSummary\n", 1)[0]
    text = raw.decode("utf-8", "replace").encode("utf-8")
    bad: list[str] = []

    def skip(row: pacsv.InvalidRow) -> str:
        bad.append(f"line {row.number}: expected {row.expected_columns} columns")
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(text),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
            convert_options=pacsv.ConvertOptions(
                column_types=COLUMNS, include_columns=list(COLUMNS), strings_can_be_null=True
            ),
        )
        flows = _flows(table, str(path))
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
        raise ReadError(f"{path}: not nfdump CSV: {exc}") from None
    refused = table.num_rows - flows.num_rows
    if refused:
        bad.append(f"rows with unusable values: {refused}")
    return ReadResult(flows, malformed=len(bad) - (1 if refused else 0) + refused, errors=bad)


def _flows(table: pa.Table, source: str) -> pa.Table:
    def time(name: str) -> pa.ChunkedArray:
        text = pc.utf8_trim_whitespace(table.column(name))
        seconds = pc.strptime(pc.utf8_slice_codeunits(text, 0, 19), "%Y-%m-%d %H:%M:%S", "us")
        # nfdump prints milliseconds ("... 12:00:01.234"): pad to six digits of microseconds.
        fraction = pc.utf8_rpad(pc.utf8_slice_codeunits(text, 20, 26), width=6, padding="0")
        micros = pc.cast(fraction, pa.int64())
        return pc.add(seconds.cast(pa.int64()), pc.fill_null(micros, 0)).cast(
            pa.timestamp("us", tz="UTC")
        )

    proto_text = pc.utf8_upper(pc.utf8_trim_whitespace(table.column("pr")))
    named = pc.take(
        pa.array(list(PROTOCOLS.values()), pa.uint8()),
        pc.index_in(proto_text, value_set=pa.array(list(PROTOCOLS))),
    )
    digits = pc.if_else(pc.utf8_is_digit(proto_text), proto_text, pa.scalar(None, pa.string()))
    numbered = pc.cast(digits, pa.uint8())
    flags = pc.fill_null(table.column("flg"), "")
    bits = None
    for position, letter in enumerate(FLAG_ORDER):
        has = pc.equal(pc.utf8_slice_codeunits(flags, position, position + 1), letter)
        term = pc.if_else(has, pa.scalar(1 << (7 - position), pa.uint8()), pa.scalar(0, pa.uint8()))
        bits = term if bits is None else pc.bit_wise_or(bits, term)
    is_v6 = pc.match_substring(pc.fill_null(table.column("sa"), ""), ":")
    columns = {
        "start": time("ts"),
        "end": time("te"),
        "src_addr": table.column("sa"),
        "dst_addr": table.column("da"),
        "src_port": table.column("sp"),
        "dst_port": table.column("dp"),
        "protocol": pc.coalesce(named, numbered),
        "tcp_flags": bits,
        "packets": table.column("ipkt"),
        "bytes": table.column("ibyt"),
        "input_if": table.column("in"),
        "output_if": table.column("out"),
        "src_as": table.column("sas"),
        "dst_as": table.column("das"),
        "ip_version": pc.if_else(is_v6, pa.scalar(6, pa.uint8()), pa.scalar(4, pa.uint8())),
        "exporter": pc.fill_null(table.column("ra"), ""),
    }
    return assemble(columns, table.num_rows, source)
