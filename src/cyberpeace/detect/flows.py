"""The flows the detectors read: the Flow schema's columns they need, as numpy arrays.

``read_flows`` takes a ``pa.Table`` or ``pa.RecordBatch`` of FLOW_SCHEMA (telemetry/schema.py)
and keeps ten of its columns (and src_as, min_ttl, max_ttl where present): times as seconds since
the epoch, addresses as the int64 ids of ``addresses.py`` (IPv4 and IPv6 alike), ports, protocol,
TCP flags and counts as they are (the counts already scaled by the sampling rate). Columns, not
records: every detector step is a whole-column numpy operation.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from cyberpeace.detect.addresses import Addresses
from cyberpeace.telemetry.schema import FLOW_SCHEMA, addresses_of

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Rows = NDArray[np.bool_] | NDArray[np.intp] | NDArray[np.int64] | slice

NEEDED = (
    "start",
    "end",
    "src_addr",
    "dst_addr",
    "src_port",
    "dst_port",
    "protocol",
    "tcp_flags",
    "packets",
    "bytes",
)


@dataclass(frozen=True)
class Flows:
    """Parallel columns, one row per flow record; ``addresses`` names the ids of src and dst."""

    addresses: Addresses
    start: F64  # seconds since the epoch, UTC
    end: F64
    src: I64  # address ids
    dst: I64
    src_port: NDArray[np.uint16]
    dst_port: NDArray[np.uint16]
    protocol: NDArray[np.uint8]
    tcp_flags: NDArray[np.uint8]  # the OR of the flags of every packet (IPFIX tcpControlBits)
    packets: NDArray[np.uint64]
    bytes: NDArray[np.uint64]
    src_as: NDArray[np.uint32]  # the source's AS where the exporter sends it, else 0
    # TTL bounds (FLOW_SCHEMA min_ttl/max_ttl, optional like src_as): 0 and 0 where not seen
    min_ttl: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, np.uint8))
    max_ttl: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, np.uint8))

    def __post_init__(self) -> None:
        for name in ("min_ttl", "max_ttl"):  # built without them: TTL not seen
            if len(getattr(self, name)) != len(self.start):
                object.__setattr__(self, name, np.zeros(len(self.start), np.uint8))

    def __len__(self) -> int:
        return len(self.start)

    @cached_property
    def ttl_seen(self) -> bool:
        """Whether any record carries a TTL (a view answers for its base: its own rows may
        still carry none)."""
        return bool(self.max_ttl.any())

    def take(self, rows: Rows) -> Flows:
        """The rows a boolean mask, an index array or a slice picks."""
        picked: dict[str, Any] = {
            f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name != "addresses"
        }
        return replace(self, **picked)


def read_flows(flows: pa.Table | pa.RecordBatch) -> tuple[Flows, NDArray[np.bool_]]:
    """The columns of ``flows``, and which rows lack a value in one of them (nulls read as 0).

    Raises TypeError when ``flows`` is not Arrow data or lacks a needed FLOW_SCHEMA column, or
    a column cannot be read as the schema's type.
    """
    columns = _needed(flows)
    missing = np.zeros(flows.num_rows, dtype=np.bool_)
    for column in columns.values():
        if column.null_count:
            missing |= column.is_null().to_numpy(zero_copy_only=False)
    src, dst = _addresses(columns["src_addr"]), _addresses(columns["dst_addr"])
    table, (src_ids, dst_ids) = Addresses.encode(src, dst)
    numbers = {name: _numbers(columns[name]) for name in NEEDED[4:]}
    return (
        Flows(
            addresses=table,
            start=_numbers(columns["start"].cast(pa.int64())) * 1e-6,
            end=_numbers(columns["end"].cast(pa.int64())) * 1e-6,
            src=src_ids,
            dst=dst_ids,
            **numbers,
            src_as=_src_as(flows),
            min_ttl=_optional_u8(flows, "min_ttl"),
            max_ttl=_optional_u8(flows, "max_ttl"),
        ),
        missing,
    )


def raw_columns(flows: pa.Table | pa.RecordBatch) -> dict[str, NDArray[Any]] | None:
    """The needed columns as read from Arrow without a copy (times as int64 microseconds,
    addresses as pairs of native-order 64-bit words; the TTL bounds where some record carries
    them, else empty) for ``intake_kernel.intake_pass``, or
    None when a column holds nulls or the machine is big-endian (``read_flows`` then reads
    them). Raises as ``read_flows`` does."""
    columns = _needed(flows)
    if sys.byteorder != "little" or any(c.null_count for c in columns.values()):
        return None
    raw: dict[str, NDArray[Any]] = {}
    for name in ("src_addr", "dst_addr"):
        raw[name] = np.ascontiguousarray(_addresses(columns[name])).view(np.uint64)
    for name in ("start", "end"):
        raw[name] = _numbers(columns[name].cast(pa.int64()))
    for name in NEEDED[4:]:
        raw[name] = _numbers(columns[name])
    raw["src_as"] = _src_as(flows)
    seen = _ttl_seen(flows)
    for name in ("min_ttl", "max_ttl"):  # read only where some record carries one
        raw[name] = _optional_u8(flows, name) if seen else np.zeros(0, np.uint8)
    return raw


def _ttl_seen(flows: pa.Table | pa.RecordBatch) -> bool:
    """Whether any record carries its TTL bounds (FLOW_SCHEMA max_ttl above 0)."""
    if "max_ttl" not in flows.schema.names:
        return False
    try:
        highest = pc.max(_column(flows, "max_ttl")).as_py()
    except TypeError:  # not a number: read as absent, as _optional_u8 does
        return False
    return bool(highest)


def _src_as(flows: pa.Table | pa.RecordBatch) -> NDArray[np.uint32]:
    """The src_as column (0 where null, or all 0 when the table has none: it is optional)."""
    if "src_as" not in flows.schema.names:
        return np.zeros(flows.num_rows, dtype=np.uint32)
    try:
        values: NDArray[np.uint32] = _numbers(_column(flows, "src_as")).astype(
            np.uint32, copy=False
        )
    except TypeError:
        return np.zeros(flows.num_rows, dtype=np.uint32)
    return values


def _optional_u8(flows: pa.Table | pa.RecordBatch, name: str) -> NDArray[np.uint8]:
    """An optional uint8 column (the TTL bounds): 0 where null, or all 0 when absent."""
    if name not in flows.schema.names:
        return np.zeros(flows.num_rows, dtype=np.uint8)
    try:
        return _numbers(_column(flows, name)).astype(np.uint8, copy=False)
    except TypeError:
        return np.zeros(flows.num_rows, dtype=np.uint8)


def _needed(flows: pa.Table | pa.RecordBatch) -> dict[str, pa.Array]:
    """The NEEDED columns as the schema's types; TypeError when ``flows`` is not Arrow data or
    lacks one."""
    if not isinstance(flows, pa.Table | pa.RecordBatch):
        raise TypeError(
            f"expected a pyarrow Table or RecordBatch in FLOW_SCHEMA, got {type(flows).__name__}"
        )
    missing_columns = [name for name in NEEDED if name not in flows.schema.names]
    if missing_columns:
        raise TypeError(f"the flows lack the FLOW_SCHEMA columns {missing_columns}")
    return {name: _column(flows, name) for name in NEEDED}


def _column(flows: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    column = flows.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    wanted = FLOW_SCHEMA.field(name).type
    if column.type == wanted:
        return column
    try:
        return column.cast(wanted)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TypeError(f"column {name!r} is {column.type}, not {wanted}: {exc}") from None


def _addresses(column: pa.Array) -> NDArray[np.bytes_]:
    """A binary(16) column as numpy S16, without a copy when it holds no nulls."""
    if column.null_count:
        return addresses_of(column)
    raw = np.frombuffer(column.buffers()[1], dtype=np.uint8)
    start = column.offset * 16
    return raw[start : start + 16 * len(column)].view("S16")


def _numbers(column: pa.Array) -> NDArray[Any]:
    if column.null_count:
        column = column.fill_null(0)
    values: NDArray[Any] = np.asarray(column.to_numpy(zero_copy_only=False))
    return values
