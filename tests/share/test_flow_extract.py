"""Flow extracts leaving the mission: anonymised (Crypto-PAn) unless the policy says not."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.share.cryptopan import CryptoPAn
from cyberpeace.share.cryptopan_key import mission_key
from cyberpeace.share.flow_extract import anonymise_flows
from cyberpeace.telemetry.archive import FlowArchive, address_text
from cyberpeace.telemetry.schema import FLOW_SCHEMA, to_batch

EXAMPLES = Path(__file__).parents[2] / "src" / "cyberpeace" / "mission" / "examples"
T0 = int(datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp() * 1_000_000)
ADDRESSES = [
    ("203.0.113.7", "198.18.10.10"),
    ("203.0.113.8", "198.18.10.10"),
    ("2001:db8:c000::9", "2001:db8:a000::1"),
]


def _packed(text: str) -> bytes:
    address = ipaddress.ip_address(text)
    return (bytes(10) + b"\xff\xff" + address.packed) if address.version == 4 else address.packed


def flows(exporter: str = "192.0.2.1") -> pa.Table:
    n = len(ADDRESSES)
    columns = {
        "start": np.full(n, T0, dtype=np.int64),
        "end": np.full(n, T0 + 1_000_000, dtype=np.int64),
        "ip_version": np.array([4, 4, 6], dtype=np.uint8),
        "src_addr": np.array([_packed(s) for s, _ in ADDRESSES], dtype="S16"),
        "dst_addr": np.array([_packed(d) for _, d in ADDRESSES], dtype="S16"),
        "src_port": np.array([123, 123, 53], dtype=np.uint16),
        "dst_port": np.array([40000, 40001, 40002], dtype=np.uint16),
        "protocol": np.full(n, 17, dtype=np.uint8),
        "packets": np.array([10, 20, 30], dtype=np.uint64),
        "bytes": np.array([1000, 2000, 3000], dtype=np.uint64),
        "next_hop": np.array([_packed("198.18.0.1")] * n, dtype="S16"),
    }
    return pa.Table.from_batches([to_batch(columns, exporter, has_next_hop=True)])


def _texts(table: pa.Table, column: str) -> list[str | None]:
    return [None if v is None else address_text(v) for v in table.column(column).to_pylist()]


def test_every_address_is_anonymised_and_the_rest_kept() -> None:
    pan = CryptoPAn(bytes(range(32)))
    table = flows()
    out = anonymise_flows(pan, table)
    assert out.schema.equals(FLOW_SCHEMA)
    sources = _texts(out, "src_addr")
    expected_v4 = pan.anonymise_v4(
        np.array([int(ipaddress.IPv4Address("203.0.113.7"))], dtype=np.uint32)
    )
    assert sources[0] == str(ipaddress.IPv4Address(int(expected_v4[0])))
    assert all(s is not None and "." in s for s in sources[:2])  # IPv4 stays IPv4
    assert ":" in str(sources[2])
    assert sources[2] != "2001:db8:c000::9"
    # prefix preserved: the two IPv4 sources share 28 bits before and after
    a, b = (int(ipaddress.IPv4Address(s)) for s in sources[:2])
    assert (a ^ b).bit_length() == 4  # 203.0.113.7 ^ .8 = 0b1111: a 28-bit prefix shared
    assert _texts(out, "dst_addr")[0] == _texts(out, "dst_addr")[1] != "198.18.10.10"
    assert out.column("exporter").to_pylist() != ["192.0.2.1"] * 3
    assert len(set(out.column("exporter").to_pylist())) == 1
    for name in ("start", "src_port", "dst_port", "protocol", "packets", "bytes", "ip_version"):
        assert out.column(name).equals(table.column(name))


def test_null_next_hops_and_named_exporters_are_kept() -> None:
    table = flows(exporter="sensor-north")
    table = table.set_column(
        table.schema.get_field_index("next_hop"),
        FLOW_SCHEMA.field("next_hop"),
        pa.nulls(table.num_rows, FLOW_SCHEMA.field("next_hop").type),
    )
    out = anonymise_flows(CryptoPAn(bytes(32)), table)
    assert out.column("next_hop").null_count == table.num_rows
    assert out.column("exporter").to_pylist() == ["sensor-north"] * 3


@pytest.fixture
def archived(tmp_path: Path) -> Path:
    archive = FlowArchive(tmp_path / "data" / "flows")
    archive.write(flows())
    archive.flush()
    return tmp_path / "data"


def test_flows_extract_anonymises_under_the_mission_key(archived: Path, tmp_path: Path) -> None:
    out = tmp_path / "extract.parquet"
    result = CliRunner().invoke(
        app,
        [
            "flows",
            "extract",
            str(out),
            "--mandate",
            str(EXAMPLES / "demo.yaml"),
            "--data-dir",
            str(archived),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 flows" in result.output
    assert "anonymised (Crypto-PAn)" in result.output
    table = pq.read_table(out)
    pan = CryptoPAn(mission_key(archived, "demo-mission"))
    assert sorted(_texts(table, "src_addr")) == sorted(
        _texts(anonymise_flows(pan, flows()), "src_addr")
    )
    assert "203.0.113.7" not in _texts(table, "src_addr")


def test_flows_extract_keeps_addresses_when_the_policy_allows(
    archived: Path, tmp_path: Path
) -> None:
    text = (
        (EXAMPLES / "demo.yaml")
        .read_text()
        .replace("anonymise_exports: true", "anonymise_exports: false")
    )
    mandate = tmp_path / "open.yaml"
    mandate.write_text(text)
    out = tmp_path / "raw.parquet"
    result = CliRunner().invoke(
        app,
        ["flows", "extract", str(out), "--mandate", str(mandate), "--data-dir", str(archived)],
    )
    assert result.exit_code == 0, result.output
    assert "NOT anonymised" in result.output
    assert sorted(_texts(pq.read_table(out), "src_addr")) == sorted(s for s, _ in ADDRESSES)


def test_flows_anonymise_a_file_and_refuse_what_is_not_flows(tmp_path: Path) -> None:
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(flows(), source)
    args = ["--mandate", str(EXAMPLES / "demo.yaml"), "--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(app, ["flows", "anonymise", str(source), str(out), *args])
    assert result.exit_code == 0, result.output
    assert "203.0.113.7" not in _texts(pq.read_table(out), "src_addr")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 not really")
    result = CliRunner().invoke(app, ["flows", "anonymise", str(junk), str(out), *args])
    assert result.exit_code == 1
    assert "not a readable Parquet file" in result.output
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), other)
    result = CliRunner().invoke(app, ["flows", "anonymise", str(other), str(out), *args])
    assert result.exit_code == 1
    assert "not flows in the Flow schema" in result.output
