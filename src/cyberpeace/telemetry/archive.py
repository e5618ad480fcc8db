"""The flow archive: Parquet files partitioned by hour, queried with DuckDB.

Layout (Hive-style, so DuckDB prunes partitions by path)::

    ROOT/date=2026-11-24/hour=13/part-<uuid>.parquet

Writes are buffered and cut into hours with one sort, so a file holds one hour and large row
groups (zstd). Queries read only the columns they need. Retention removes whole hour directories.
"""

from __future__ import annotations

import ipaddress
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cyberpeace.mission import NO_MATCH, Borders
from cyberpeace.telemetry.schema import (
    FLOW_SCHEMA,
    TTL_COLUMNS,
    TTL_UNKNOWN,
    addresses_of,
    v4_of,
)

HOUR_US = 3_600_000_000
ROW_GROUP = 1_000_000
Metric = Literal["bytes", "packets", "flows"]
Side = Literal["src", "dst"]


@dataclass(frozen=True)
class Talker:
    address: str
    bytes: int
    packets: int
    flows: int


class FlowArchive:
    """Append flows; query them by time, address, port and protocol; forget old hours."""

    def __init__(self, root: Path | str, *, buffer_rows: int = 2_000_000) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self._limit = buffer_rows

    def write(self, flows: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch]) -> None:
        """Buffer flows (FLOW_SCHEMA); files are written when the buffer fills or on flush."""
        if isinstance(flows, pa.Table):
            batches = flows.to_batches()
        elif isinstance(flows, pa.RecordBatch):
            batches = [flows]
        else:
            batches = list(flows)
        for batch in batches:
            if not batch.schema.equals(FLOW_SCHEMA):
                raise ValueError("the archive takes flows in FLOW_SCHEMA only")
            self._buffer.append(batch)
            self._buffered += batch.num_rows
        if self._buffered >= self._limit:
            self.flush()

    def flush(self) -> list[Path]:
        """Write everything buffered, one file per hour; return the files written."""
        if not self._buffered:
            return []
        table = pa.Table.from_batches(self._buffer, schema=FLOW_SCHEMA)
        self._buffer, self._buffered = [], 0
        hours = pc.divide(table.column("start").cast(pa.int64()), HOUR_US).to_numpy()
        order = np.argsort(hours, kind="stable")
        hours = hours[order]
        table = table.take(pa.array(order))
        cuts = np.flatnonzero(np.diff(hours)) + 1
        written = []
        for first, after in zip(np.r_[0, cuts], np.r_[cuts, len(hours)], strict=True):
            written.append(self._write_hour(int(hours[first]), table.slice(first, after - first)))
        return written

    def _write_hour(self, hour: int, table: pa.Table) -> Path:
        moment = datetime.fromtimestamp(hour * 3600, UTC)
        folder = self.root / f"date={moment:%Y-%m-%d}" / f"hour={moment:%H}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{uuid.uuid4().hex}.parquet"
        partial = path.with_suffix(".tmp")
        pq.write_table(table, partial, compression="zstd", row_group_size=ROW_GROUP)
        partial.rename(path)  # readers never see half a file
        return path

    def files(self) -> list[Path]:
        return sorted(self.root.glob("date=*/hour=*/*.parquet"))

    def scan(
        self,
        columns: Sequence[str],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        protocol: int | None = None,
        port: int | None = None,
    ) -> pa.Table:
        """The chosen columns of the flows that overlap [start, end) and match the filters."""
        if not self.files():
            return FLOW_SCHEMA.empty_table().select(list(columns))
        where, params = _conditions(start, end, protocol, port)
        with duckdb.connect() as con:
            names, source = ", ".join(f'"{c}"' for c in columns), "hive_partitioning = false"
            if any(c in TTL_COLUMNS for c in columns):
                names, source = _ttl_tolerant(con, self._glob(), columns)
            sql = f"SELECT {names} FROM read_parquet(?, {source}) {where}"  # noqa: S608 - names come from the schema
            return con.sql(sql, params=[self._glob(), *params]).to_arrow_table()

    def top_talkers(
        self,
        *,
        by: Side = "src",
        metric: Metric = "bytes",
        limit: int = 10,
        start: datetime | None = None,
        end: datetime | None = None,
        protocol: int | None = None,
        port: int | None = None,
    ) -> list[Talker]:
        """The addresses that sent (``by="src"``) or received the most, DuckDB doing the sums."""
        if not self.files():
            return []
        where, params = _conditions(start, end, protocol, port)
        column = "src_addr" if by == "src" else "dst_addr"
        order = {"bytes": "b", "packets": "p", "flows": "f"}[metric]
        sql = (
            f"SELECT {column} AS a, sum(bytes) AS b, sum(packets) AS p, count(*) AS f "  # noqa: S608 - fixed names
            f"FROM read_parquet(?, hive_partitioning = false) {where} "
            f"GROUP BY 1 ORDER BY {order} DESC, a LIMIT ?"
        )
        with duckdb.connect() as con:
            rows = con.execute(sql, [self._glob(), *params, limit]).fetchall()
        return [Talker(address_text(a), int(b), int(p), int(f)) for a, b, p, f in rows]

    def traffic_to(
        self,
        borders: Borders,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[str, dict[str, int]]:
        """Bytes, packets and flows towards each party and safe area (borders lookup in numpy)."""
        table = self.scan(["ip_version", "dst_addr", "bytes", "packets"], start=start, end=end)
        addresses = addresses_of(table.column("dst_addr"))
        is_v4 = table.column("ip_version").to_numpy() == 4
        parties = np.full(len(addresses), NO_MATCH, dtype=np.int32)
        areas = np.full(len(addresses), NO_MATCH, dtype=np.int32)
        parties[is_v4] = borders.party_v4(v4_of(addresses[is_v4]))
        areas[is_v4] = borders.safe_area_v4(v4_of(addresses[is_v4]))
        parties[~is_v4] = borders.party_v6(addresses[~is_v4])
        areas[~is_v4] = borders.safe_area_v6(addresses[~is_v4])
        sizes = table.column("bytes").to_numpy()
        packets = table.column("packets").to_numpy()
        out: dict[str, dict[str, int]] = {}
        for names, labels in ((borders.party_ids, parties), (borders.safe_area_ids, areas)):
            out |= _totals(names, labels, sizes, packets)
        return out

    def apply_retention(self, keep: timedelta, now: datetime | None = None) -> list[Path]:
        """Delete the hours that ended more than ``keep`` ago; return the folders removed."""
        cutoff = (now or datetime.now(UTC)) - keep
        removed = []
        for folder in sorted(self.root.glob("date=*/hour=*")):
            moment = _hour_of(folder)
            if moment is not None and moment + timedelta(hours=1) <= cutoff:
                shutil.rmtree(folder)
                removed.append(folder)
        for day in self.root.glob("date=*"):
            if day.is_dir() and not any(day.iterdir()):
                day.rmdir()
        return removed

    def _glob(self) -> str:
        return str(self.root / "date=*" / "hour=*" / "*.parquet")


def _ttl_tolerant(
    con: duckdb.DuckDBPyConnection, glob: str, columns: Sequence[str]
) -> tuple[str, str]:
    """The select list and read options for a scan that wants the TTL columns: files written
    before those columns existed read as TTL not seen (0), whether some or all files lack them."""
    source = "hive_partitioning = false, union_by_name = true"
    sql = f"DESCRIBE SELECT * FROM read_parquet(?, {source})"  # noqa: S608 - fixed text
    present = {row[0] for row in con.sql(sql, params=[glob]).fetchall()}
    names = []
    for c in columns:
        if c not in TTL_COLUMNS:
            names.append(f'"{c}"')
        elif c in present:
            names.append(f'COALESCE("{c}", {TTL_UNKNOWN})::UTINYINT AS "{c}"')
        else:
            names.append(f'{TTL_UNKNOWN}::UTINYINT AS "{c}"')
    return ", ".join(names), source


def _conditions(
    start: datetime | None, end: datetime | None, protocol: int | None, port: int | None
) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    if start is not None:
        parts.append('"end" >= ?')
        params.append(start)
    if end is not None:
        parts.append("start < ?")
        params.append(end)
    if protocol is not None:
        parts.append("protocol = ?")
        params.append(protocol)
    if port is not None:
        parts.append("(src_port = ? OR dst_port = ?)")
        params += [port, port]
    return ("WHERE " + " AND ".join(parts)) if parts else "", params


def _totals(
    names: list[str], labels: np.ndarray, sizes: np.ndarray, packets: np.ndarray
) -> dict[str, dict[str, int]]:
    known = labels >= 0
    count = len(names)
    flows = np.bincount(labels[known], minlength=count)
    octets = np.bincount(labels[known], weights=sizes[known], minlength=count)
    pkts = np.bincount(labels[known], weights=packets[known], minlength=count)
    return {
        name: {"bytes": int(octets[i]), "packets": int(pkts[i]), "flows": int(flows[i])}
        for i, name in enumerate(names)
    }


def _hour_of(folder: Path) -> datetime | None:
    try:
        day = folder.parent.name.removeprefix("date=")
        hour = int(folder.name.removeprefix("hour="))
        return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC, hour=hour)
    except ValueError:
        return None


def address_text(packed: bytes) -> str:
    """One 16-byte address as text: dotted quad for IPv4-mapped, RFC 5952 form otherwise."""
    raw = bytes(packed).rjust(16, b"\0")
    address = ipaddress.IPv6Address(raw)
    mapped = address.ipv4_mapped
    return str(mapped) if mapped is not None else str(address)
