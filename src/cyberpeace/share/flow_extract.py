"""Flow extracts that leave the mission, anonymised with Crypto-PAn unless the data policy says not.

Every address a flow carries is replaced: source, destination, next hop, and the exporter (the
router's address, in the ``exporter`` column). IPv4 addresses (stored IPv4-mapped, RFC 4291
section 2.5.5.2) go through the 32-bit scheme and stay IPv4-mapped; other addresses through the
128-bit one. Prefixes are preserved, so an extract still shows which flows share a network,
while the real addresses stay in the mission. Everything else in the flow is kept.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from cyberpeace.share.cryptopan import CryptoPAn
from cyberpeace.telemetry.archive import FlowArchive
from cyberpeace.telemetry.schema import (
    ADDRESS,
    FLOW_SCHEMA,
    V4_MAPPED_PREFIX,
    address_column,
    addresses_of,
    as_flow_schema,
    v4_mapped,
    v4_of,
)

ADDRESS_COLUMNS = ("src_addr", "dst_addr", "next_hop")


class ExtractError(ValueError):
    """A file that is not a flow table in the Flow schema."""


@dataclass(frozen=True)
class Extract:
    path: Path
    flows: int
    anonymised: bool


def anonymise_addresses(pan: CryptoPAn, addresses: NDArray[np.bytes_]) -> NDArray[np.bytes_]:
    """16-byte addresses anonymised: IPv4-mapped ones as IPv4, the others as IPv6."""
    raw = np.frombuffer(np.ascontiguousarray(addresses, dtype="S16").tobytes(), dtype=np.uint8)
    raw = raw.reshape(-1, 16)
    is_v4 = np.all(raw[:, :12] == np.frombuffer(V4_MAPPED_PREFIX, dtype=np.uint8), axis=1)
    out = np.ascontiguousarray(addresses, dtype="S16").copy()
    out[is_v4] = v4_mapped(pan.anonymise_v4(v4_of(out[is_v4])))
    out[~is_v4] = pan.anonymise_v6(out[~is_v4])
    return out


def anonymise_flows(pan: CryptoPAn, flows: pa.Table) -> pa.Table:
    """The same flows with every address anonymised (nulls stay null)."""
    if not flows.schema.equals(FLOW_SCHEMA):
        raise ExtractError("flows to anonymise must be in the Flow schema")
    table = flows
    for name in ADDRESS_COLUMNS:
        column = table.column(name).combine_chunks()
        replaced = address_column(anonymise_addresses(pan, addresses_of(column)))
        if column.null_count:
            replaced = pc.if_else(pc.is_null(column), pa.nulls(len(column), ADDRESS), replaced)
        table = _replace(table, name, replaced)
    return _replace(table, "exporter", _anonymise_exporters(pan, table["exporter"]))


def _replace(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    """``table`` with one column replaced, keeping the schema's field (and its nullability)."""
    return table.set_column(table.schema.get_field_index(name), FLOW_SCHEMA.field(name), column)


def _anonymise_exporters(pan: CryptoPAn, column: pa.ChunkedArray) -> pa.Array:
    """Exporter names that are addresses, anonymised; the few distinct names done once each."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    names = encoded.dictionary.to_pylist()
    packed = np.array([_packed(name) for name in names], dtype="S16")
    is_address = np.array([_packed(name) is not None for name in names], dtype=bool)
    renamed = list(names)
    if is_address.any():
        hidden = anonymise_addresses(pan, packed[is_address])
        for i, value in zip(np.flatnonzero(is_address), hidden, strict=True):
            renamed[i] = _text(bytes(value))
    return pc.take(pa.array(renamed, pa.string()), encoded.indices)


def _packed(name: str) -> bytes | None:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if address.version == 4:
        return V4_MAPPED_PREFIX + address.packed
    return address.packed


def _text(packed: bytes) -> str:
    address = ipaddress.IPv6Address(packed.ljust(16, b"\0"))
    return str(address.ipv4_mapped or address)


def read_flow_file(path: Path) -> pa.Table:
    """A Parquet file of flows; anything else is refused with the reason."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ExtractError(f"{path}: not a readable Parquet file ({exc})") from None
    try:
        return as_flow_schema(table)
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ExtractError(f"{path}: not flows in the Flow schema ({exc})") from None


def write_extract(flows: pa.Table, out: Path, pan: CryptoPAn | None) -> Extract:
    """Write flows to a Parquet file, anonymised when ``pan`` is given (atomically)."""
    table = anonymise_flows(pan, flows) if pan is not None else flows
    partial = out.with_suffix(out.suffix + ".tmp")
    pq.write_table(table, partial, compression="zstd", row_group_size=1_000_000)
    partial.rename(out)
    return Extract(out, table.num_rows, pan is not None)


def extract_from_archive(
    archive: FlowArchive,
    out: Path,
    pan: CryptoPAn | None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    protocol: int | None = None,
    port: int | None = None,
) -> Extract:
    """The archived flows that match, written as one extract."""
    flows = archive.scan(FLOW_SCHEMA.names, start=start, end=end, protocol=protocol, port=port)
    return write_extract(flows.cast(FLOW_SCHEMA), out, pan)
