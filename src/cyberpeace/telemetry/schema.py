"""The one Flow schema (Apache Arrow) that every telemetry source produces.

Addresses are 16 bytes in network order; IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d,
RFC 4291 section 2.5.5.2) so that one column holds both families and ``ip_version`` says which.
Packet and byte counts are already multiplied by ``sampling_rate`` (1 when unsampled).
Times are UTC microseconds. ``direction`` follows IPFIX flowDirection (IE 61): 0 ingress, 1 egress,
255 unknown.

``min_ttl`` and ``max_ttl`` are the lowest and highest IPv4 TTL / IPv6 hop limit of the flow's
packets as they reached the observation point: IPFIX minimumTTL (IE 52) and maximumTTL (IE 53),
RFC 7012 and the IANA IPFIX registry; NetFlow v9 field types 52 MIN_TTL and 53 MAX_TTL, RFC 3954
section 8. They are filled where packets are seen (our pcap flow meter, sFlow sampled headers)
or an exporter sends them; everywhere else (NetFlow v5, nfdump, Zeek, Suricata, tables written
before the columns existed) both are 0, which means "not seen": a flow's TTL is known exactly
when ``max_ttl > 0``. A router never forwards a datagram whose TTL has reached 0 (RFC 791 section
3.2, RFC 1812 section 5.3.1; hop limit, RFC 8200 section 3), so no remote packet arrives with
TTL 0; only a packet sent from the capture's own link could, and a flow made only of such packets
reads as unknown. When an exporter sends only one of the two elements, the other takes its value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

ADDRESS = pa.binary(16)
TIME = pa.timestamp("us", tz="UTC")
DIRECTION_UNKNOWN = 255
V4_MAPPED_PREFIX = bytes(10) + b"\xff\xff"

FLOW_SCHEMA = pa.schema(
    [
        pa.field("start", TIME, nullable=False),
        pa.field("end", TIME, nullable=False),
        pa.field("exporter", pa.string(), nullable=False),
        pa.field("observation_domain", pa.uint32(), nullable=False),
        pa.field("ip_version", pa.uint8(), nullable=False),
        pa.field("src_addr", ADDRESS, nullable=False),
        pa.field("dst_addr", ADDRESS, nullable=False),
        pa.field("src_port", pa.uint16(), nullable=False),
        pa.field("dst_port", pa.uint16(), nullable=False),
        pa.field("protocol", pa.uint8(), nullable=False),
        pa.field("tcp_flags", pa.uint8(), nullable=False),
        pa.field("icmp_type", pa.uint8(), nullable=False),
        pa.field("icmp_code", pa.uint8(), nullable=False),
        pa.field("packets", pa.uint64(), nullable=False),
        pa.field("bytes", pa.uint64(), nullable=False),
        pa.field("sampling_rate", pa.uint32(), nullable=False),
        pa.field("input_if", pa.uint32(), nullable=False),
        pa.field("output_if", pa.uint32(), nullable=False),
        pa.field("src_as", pa.uint32(), nullable=False),
        pa.field("dst_as", pa.uint32(), nullable=False),
        pa.field("next_hop", ADDRESS, nullable=True),
        pa.field("direction", pa.uint8(), nullable=False),
        pa.field("min_ttl", pa.uint8(), nullable=False),
        pa.field("max_ttl", pa.uint8(), nullable=False),
    ]
)

# The numpy dtype of one row, used by decoders to fill columns before wrapping them in Arrow.
COLUMN_DTYPES: dict[str, np.dtype] = {
    "start": np.dtype("int64"),  # microseconds since the epoch
    "end": np.dtype("int64"),
    "observation_domain": np.dtype("uint32"),
    "ip_version": np.dtype("uint8"),
    "src_addr": np.dtype("S16"),
    "dst_addr": np.dtype("S16"),
    "src_port": np.dtype("uint16"),
    "dst_port": np.dtype("uint16"),
    "protocol": np.dtype("uint8"),
    "tcp_flags": np.dtype("uint8"),
    "icmp_type": np.dtype("uint8"),
    "icmp_code": np.dtype("uint8"),
    "packets": np.dtype("uint64"),
    "bytes": np.dtype("uint64"),
    "sampling_rate": np.dtype("uint32"),
    "input_if": np.dtype("uint32"),
    "output_if": np.dtype("uint32"),
    "src_as": np.dtype("uint32"),
    "dst_as": np.dtype("uint32"),
    "next_hop": np.dtype("S16"),
    "direction": np.dtype("uint8"),
    "min_ttl": np.dtype("uint8"),  # 0 and 0: TTL not seen
    "max_ttl": np.dtype("uint8"),
}
TTL_COLUMNS = ("min_ttl", "max_ttl")  # added later than the others: older tables may lack them
TTL_UNKNOWN = 0


def v4_mapped(addresses: NDArray[np.uint32]) -> NDArray[np.bytes_]:
    """Host-order IPv4 addresses as 16-byte IPv4-mapped IPv6 addresses."""
    out = np.zeros((len(addresses), 16), dtype=np.uint8)
    out[:, 10:12] = 0xFF
    out[:, 12:16] = np.asarray(addresses, dtype=">u4").view(np.uint8).reshape(-1, 4)
    return out.view("S16").ravel()


def v4_of(addresses: NDArray[np.bytes_]) -> NDArray[np.uint32]:
    """The IPv4 part (host order) of 16-byte addresses; meaningful where ip_version is 4."""
    raw = np.frombuffer(np.ascontiguousarray(addresses, dtype="S16").tobytes(), dtype=np.uint8)
    return raw.reshape(-1, 16)[:, 12:16].copy().view(">u4").ravel().astype(np.uint32)


def address_column(addresses: NDArray[np.bytes_]) -> pa.Array:
    """A numpy S16 array as an Arrow binary(16) column without copying per element."""
    data = np.ascontiguousarray(addresses, dtype="S16")
    return pa.FixedSizeBinaryArray.from_buffers(ADDRESS, len(data), [None, pa.py_buffer(data)])


def addresses_of(column: pa.Array | pa.ChunkedArray) -> NDArray[np.bytes_]:
    """An Arrow binary(16) column as a numpy S16 array (nulls read as ::)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.type != ADDRESS:  # e.g. DuckDB hands fixed-size binary back as BLOB
        column = column.cast(ADDRESS)
    column = column.fill_null(bytes(16))
    buffer = column.buffers()[1]
    start = column.offset * 16
    raw = np.frombuffer(buffer, dtype=np.uint8)[start : start + 16 * len(column)]
    return raw.view("S16")


def empty_columns(n: int) -> dict[str, NDArray[np.generic]]:
    """Zeroed numpy columns for ``n`` flows, with the schema's neutral defaults filled in."""
    columns = {name: np.zeros(n, dtype=dtype) for name, dtype in COLUMN_DTYPES.items()}
    columns["sampling_rate"][:] = 1
    columns["direction"][:] = DIRECTION_UNKNOWN
    return columns


def to_batch(
    columns: dict[str, NDArray[np.generic]], exporter: str, *, has_next_hop: bool = False
) -> pa.RecordBatch:
    """Wrap decoder columns into a RecordBatch of FLOW_SCHEMA (missing columns get defaults)."""
    n = len(columns["start"])
    full = empty_columns(n) | columns
    arrays: list[pa.Array] = []
    for field in FLOW_SCHEMA:
        if field.name == "exporter":
            arrays.append(pa.repeat(pa.scalar(exporter, pa.string()), n))
        elif field.name in ("start", "end"):
            arrays.append(pa.array(full[field.name].astype(np.int64), type=TIME))
        elif field.type == ADDRESS:
            column = address_column(full[field.name])  # type: ignore[arg-type]
            if field.name == "next_hop" and not has_next_hop:
                column = pa.nulls(n, ADDRESS)
            arrays.append(column)
        else:
            arrays.append(pa.array(full[field.name], type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=FLOW_SCHEMA)


def with_ttl_columns(table: pa.Table) -> pa.Table:
    """``table`` with the TTL columns added as "not seen" where it lacks them (flows written
    before the columns existed); a table that has them is returned as it is."""
    for name in TTL_COLUMNS:
        if name not in table.column_names:
            table = table.append_column(
                name, pa.repeat(pa.scalar(TTL_UNKNOWN, pa.uint8()), len(table))
            )
    return table


def as_flow_schema(table: pa.Table) -> pa.Table:
    """``table`` (our own flows, possibly written before the TTL columns) cast to exactly
    FLOW_SCHEMA; KeyError for a missing column, an Arrow error for one that will not cast."""
    return with_ttl_columns(table).select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)


def empty_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=FLOW_SCHEMA)
