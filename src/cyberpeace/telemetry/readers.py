"""Reading telemetry files: detect the format, read flows in FLOW_SCHEMA, report what was refused.

Each format registers a reader with ``register_reader``, built-in ones exactly as others would.
This module brings the formats whose files are already in our own schema: Parquet and CSV.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cyberpeace.telemetry.schema import (
    ADDRESS,
    DIRECTION_UNKNOWN,
    FLOW_SCHEMA,
    with_ttl_columns,
)

SNIFF_BYTES = 4096


class ReadError(ValueError):
    """A file that cannot be read at all; says why."""


@dataclass
class ReadResult:
    flows: pa.Table
    malformed: int = 0
    errors: list[str] = field(default_factory=list)
    alerts: pa.Table | None = None  # IDS alerts, where the format carries them (Suricata)


def assemble(columns: dict[str, Any], rows: int, source: str) -> pa.Table:
    """FLOW_SCHEMA from the columns a reader found; the others get the schema's neutral values."""
    defaults: dict[str, Any] = {"sampling_rate": 1, "direction": DIRECTION_UNKNOWN}
    full = {}
    for target in FLOW_SCHEMA:
        if target.name in columns:
            full[target.name] = columns[target.name]
        elif target.name == "next_hop":
            full[target.name] = pa.nulls(rows, ADDRESS)
        elif target.name == "exporter":
            full[target.name] = pa.repeat(pa.scalar(source, pa.string()), rows)
        else:
            value = defaults.get(target.name, 0)
            full[target.name] = pa.repeat(pa.scalar(value, target.type), rows)
    return conform(pa.table(full), source)


Reader = Callable[[Path], ReadResult]
Sniffer = Callable[[bytes, Path], bool]
_READERS: dict[str, tuple[Sniffer, Reader]] = {}


def register_reader(name: str, sniff: Sniffer) -> Callable[[Reader], Reader]:
    """Add a format: ``sniff(first_bytes, path)`` says whether a file is in it."""

    def add(reader: Reader) -> Reader:
        _READERS[name] = (sniff, reader)
        return reader

    return add


def formats() -> list[str]:
    return list(_READERS)


def detect_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for name, (sniff, _) in _READERS.items():
        if sniff(head, path):
            return name
    raise ReadError(f"{path}: not a format cyberpeace reads (known: {', '.join(formats())})")


def read_flows(path: Path | str, format_name: str | None = None) -> ReadResult:
    """Read one file into FLOW_SCHEMA; raise ReadError only when nothing in it is readable."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    name = format_name or detect_format(path)
    if name not in _READERS:
        raise ReadError(f"unknown format {name!r} (known: {', '.join(formats())})")
    return _READERS[name][1](path)


def both_directions(
    forward: dict[str, Any], backward: dict[str, Any], answered: Any, rows: int, source: str
) -> tuple[pa.Table, int]:
    """Flows of connection records seen from both ends (Zeek, Suricata), as an exporter sees them.

    Every record gives its forward flow; records where ``answered`` is true also give the
    backward one. Returns the flows and how many were refused as incomplete.
    """
    answered = pc.fill_null(answered, False)
    replied = {k: v if isinstance(v, int) else pc.filter(v, answered) for k, v in backward.items()}
    answered_rows = pc.sum(answered).as_py() or 0
    there = assemble(forward, rows, source)
    back = assemble(replied, answered_rows, source)
    refused = rows - there.num_rows + answered_rows - back.num_rows
    return pa.concat_tables([there, back]), refused


def conform(table: pa.Table, source: str) -> pa.Table:
    """Cast a table with our column names to FLOW_SCHEMA, naming the first column that fails."""
    table = with_ttl_columns(table)  # files written before the TTL columns: TTL not seen
    missing = [f.name for f in FLOW_SCHEMA if f.name not in table.column_names]
    if missing:
        raise ReadError(f"{source}: missing column(s) {', '.join(missing)}")
    columns = []
    for target in FLOW_SCHEMA:
        column = table.column(target.name)
        try:
            columns.append(_cast(column, target.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
            raise ReadError(f"{source}: column {target.name!r}: {exc}") from None
    table = pa.Table.from_arrays(columns, schema=FLOW_SCHEMA)
    required = [table.column(f.name).is_valid() for f in FLOW_SCHEMA if not f.nullable]
    complete = required[0]
    for valid in required[1:]:
        complete = pc.and_(complete, valid)
    return table.filter(complete)


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if target == ADDRESS and (
        pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    ):
        return addresses_from_text(column)
    return column.cast(target)


def addresses_from_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Text addresses repeat a lot; convert each distinct one once. Unparsable ones become null,
    # and ``conform`` then refuses those rows.
    encoded = column.combine_chunks().dictionary_encode()
    packed: list[bytes | None] = []
    for text in encoded.dictionary.to_pylist():
        if text is None or text == "":
            packed.append(None)
            continue
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            packed.append(None)  # the row is refused (and counted) as incomplete
            continue
        if isinstance(address, ipaddress.IPv4Address):
            packed.append(bytes(10) + b"\xff\xff" + address.packed)
        else:
            packed.append(address.packed)
    dictionary = pa.array(packed, type=ADDRESS)
    return pa.chunked_array([dictionary.take(encoded.indices)])


def _is_parquet(head: bytes, _: Path) -> bool:
    return head.startswith(b"PAR1")


def _is_our_csv(head: bytes, _: Path) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    return first.split(",")[:2] == ["start", "end"]


@register_reader("parquet", _is_parquet)
def read_parquet(path: Path) -> ReadResult:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ReadError(f"{path}: not readable as Parquet: {exc}") from None
    return ReadResult(conform(table, str(path)))


@register_reader("csv", _is_our_csv)
def read_csv(path: Path) -> ReadResult:
    """CSV with our column names; addresses as text, times as ISO 8601 or epoch microseconds."""
    bad: list[str] = []

    def skip(row: pacsv.InvalidRow) -> str:
        bad.append(
            f"line {row.number}: {row.text[:80]!r}: expected {row.expected_columns} "
            f"columns, found {row.actual_columns}"
        )
        return "skip"

    options = pacsv.ParseOptions(invalid_row_handler=skip)
    # Row numbers are only known to a single-threaded parse; the messages need them.
    reading = pacsv.ReadOptions(use_threads=False)
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
        bad.append("bytes that are not UTF-8 were replaced by U+FFFD")
    types = {f.name: pa.string() for f in FLOW_SCHEMA if f.type == ADDRESS}
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(text.encode("utf-8")),
            read_options=reading,
            parse_options=options,
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        raise ReadError(f"{path}: {exc}") from None
    flows = conform(table, str(path))
    if flows.num_rows < table.num_rows:
        bad.append(f"rows with empty required values: {table.num_rows - flows.num_rows}")
    malformed = sum(message.startswith("line ") for message in bad)
    malformed += table.num_rows - flows.num_rows
    return ReadResult(flows, malformed=malformed, errors=bad)
