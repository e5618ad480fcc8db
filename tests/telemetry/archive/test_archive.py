"""The flow archive on real Parquet files and a real DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.mission import Borders, Mandate, v4_array
from cyberpeace.telemetry.archive import FlowArchive, address_text
from cyberpeace.telemetry.schema import FLOW_SCHEMA, empty_columns, to_batch, v4_mapped

T0 = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


def flows(
    sources: list[str],
    destinations: list[str],
    *,
    at: datetime = T0,
    sizes: list[int] | None = None,
    protocol: int = 17,
    port: int = 53,
) -> pa.RecordBatch:
    n = len(sources)
    columns = empty_columns(n)
    columns["start"][:] = int(at.timestamp() * 1_000_000)
    columns["end"][:] = columns["start"] + 1_000_000
    columns["ip_version"][:] = 4
    columns["src_addr"] = v4_mapped(v4_array(sources))
    columns["dst_addr"] = v4_mapped(v4_array(destinations))
    columns["protocol"][:] = protocol
    columns["src_port"][:] = port
    columns["packets"][:] = 2
    columns["bytes"][:] = np.array(sizes or [100] * n, dtype=np.uint64)
    return to_batch(columns, "192.0.2.1")


def test_write_partitions_by_hour_and_reads_back(tmp_path: Path) -> None:
    archive = FlowArchive(tmp_path)
    archive.write(flows(["1.1.1.1"], ["198.18.10.10"]))
    archive.write(flows(["2.2.2.2", "3.3.3.3"], ["198.18.10.10"] * 2, at=T0 + timedelta(hours=1)))
    assert archive.files() == []  # buffered until flush
    written = archive.flush()
    assert sorted(p.parent.name for p in written) == ["hour=12", "hour=13"]
    assert all(p.parent.parent.name == "date=2026-11-24" for p in written)
    table = archive.scan(["src_addr", "bytes"])
    assert table.num_rows == 3
    later = archive.scan(["src_addr"], start=T0 + timedelta(minutes=45))
    assert sorted(address_text(a) for a in later.column("src_addr").to_pylist()) == [
        "2.2.2.2",
        "3.3.3.3",
    ]


def test_top_talkers_and_filters(tmp_path: Path) -> None:
    archive = FlowArchive(tmp_path)
    archive.write(
        flows(
            ["1.1.1.1", "1.1.1.1", "2.2.2.2", "3.3.3.3"],
            ["198.18.10.10"] * 4,
            sizes=[500, 500, 800, 10],
        )
    )
    archive.write(flows(["9.9.9.9"], ["198.18.10.11"], sizes=[5000], protocol=6, port=443))
    archive.flush()
    top = archive.top_talkers(limit=3)
    assert [(t.address, t.bytes, t.flows) for t in top] == [
        ("9.9.9.9", 5000, 1),
        ("1.1.1.1", 1000, 2),
        ("2.2.2.2", 800, 1),
    ]
    udp = archive.top_talkers(protocol=17, metric="flows", limit=1)
    assert [t.address for t in udp] == ["1.1.1.1"]
    by_destination = archive.top_talkers(by="dst", port=443)
    assert [(t.address, t.packets) for t in by_destination] == [("198.18.10.11", 2)]
    assert archive.top_talkers(start=T0 + timedelta(hours=2)) == []


def test_traffic_to_parties_and_safe_areas(tmp_path: Path, demo_mandate: Mandate) -> None:
    archive = FlowArchive(tmp_path)
    archive.write(
        flows(
            ["8.8.8.8"] * 3, ["198.18.10.10", "198.18.99.1", "198.19.30.5"], sizes=[100, 200, 400]
        )
    )
    archive.flush()
    totals = archive.traffic_to(Borders.from_mandate(demo_mandate))
    assert totals["arcadia"] == {"bytes": 300, "packets": 4, "flows": 2}
    assert totals["arcadia-central-hospital"] == {"bytes": 100, "packets": 2, "flows": 1}
    assert totals["borduria-power-utility"]["bytes"] == 400
    assert totals["calvinia"]["flows"] == 0


def test_retention_removes_whole_old_hours(tmp_path: Path) -> None:
    archive = FlowArchive(tmp_path)
    archive.write(flows(["1.1.1.1"], ["198.18.10.10"], at=T0 - timedelta(days=40)))
    archive.write(flows(["1.1.1.1"], ["198.18.10.10"]))
    archive.flush()
    removed = archive.apply_retention(timedelta(days=30), now=T0)
    assert len(removed) == 1
    assert len(archive.files()) == 1
    assert archive.scan(["start"]).num_rows == 1


def test_refuses_other_schemas_and_queries_an_empty_archive(tmp_path: Path) -> None:
    archive = FlowArchive(tmp_path)
    with pytest.raises(ValueError, match="FLOW_SCHEMA"):
        archive.write(pa.table({"start": [1]}))
    assert archive.top_talkers() == []
    assert archive.scan(["bytes"]).num_rows == 0
    assert archive.flush() == []
    assert FLOW_SCHEMA.names[0] == "start"


def test_address_text_handles_both_families() -> None:
    assert address_text(bytes(10) + b"\xff\xff" + bytes([198, 18, 0, 1])) == "198.18.0.1"
    assert address_text(bytes.fromhex("20010db8000000000000000000000001")) == "2001:db8::1"
