"""Reading flows in our own schema (Parquet, CSV), ingesting many files, and the commands."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.telemetry.ingest import ingest
from cyberpeace.telemetry.readers import ReadError, detect_format, read_flows
from cyberpeace.telemetry.schema import FLOW_SCHEMA
from tests.conftest import EXAMPLES
from tests.telemetry.archive.test_archive import flows

HEADER = ",".join(FLOW_SCHEMA.names)


def _row(src: str, dst: str, size: int) -> str:
    values = dict.fromkeys(FLOW_SCHEMA.names, "0")
    values |= {
        "start": "2026-11-24T12:00:00Z",
        "end": "2026-11-24T12:00:01Z",
        "exporter": "192.0.2.1",
        "ip_version": "4" if "." in src else "6",
        "src_addr": src,
        "dst_addr": dst,
        "protocol": "17",
        "src_port": "53",
        "packets": "3",
        "bytes": str(size),
        "sampling_rate": "1",
        "next_hop": "",
    }
    return ",".join(values[name] for name in FLOW_SCHEMA.names)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "flows.csv"
    lines = [
        HEADER,
        _row("8.8.4.4", "198.18.10.10", 1).replace(",3,1,", ",,1,"),
        _row("8.8.8.8", "198.18.10.10", 1200),
        "too,few,columns",
        _row("2001:db8::1", "2001:db8:a000::5", 90),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_keeps_good_rows_and_names_the_bad_line(csv_file: Path) -> None:
    assert detect_format(csv_file) == "csv"
    result = read_flows(csv_file)
    assert result.flows.schema.equals(FLOW_SCHEMA)
    assert result.flows.column("bytes").to_pylist() == [1200, 90]
    assert result.malformed == 2
    assert result.errors == [
        "line 4: 'too,few,columns': expected 24 columns, found 3",
        "rows with empty required values: 1",
    ]
    assert result.flows.column("src_addr")[0].as_py() == bytes(10) + b"\xff\xff" + bytes([8] * 4)


def test_csv_rows_with_an_invalid_address_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    rows = [_row("8.8.8.999", "198.18.10.10", 1), _row("8.8.8.8", "198.18.10.10", 7)]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    result = read_flows(path)
    assert result.flows.column("bytes").to_pylist() == [7]
    assert result.malformed == 1


def test_csv_with_a_wrong_type_is_refused_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "\n" + _row("8.8.8.8", "198.18.10.10", 1).replace(",17,", ",udp,") + "\n"
    )
    with pytest.raises(ReadError, match="'protocol'"):
        read_flows(path)


def test_parquet_round_trip_and_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "flows.parquet"
    pq.write_table(
        pa.Table.from_batches([flows(["1.1.1.1", "2.2.2.2"], ["198.18.10.10"] * 2)]), path
    )
    assert detect_format(path) == "parquet"
    assert read_flows(path).flows.num_rows == 2
    partial = tmp_path / "partial.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["bytes", "packets"]), partial)
    with pytest.raises(ReadError, match="missing column\\(s\\) packets, bytes"):
        read_flows(partial)


def test_unknown_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(ReadError, match="not a format cyberpeace reads"):
        read_flows(junk)
    with pytest.raises(ReadError, match="no such file"):
        read_flows(tmp_path / "absent.csv")


def test_ingest_keeps_good_files_when_one_is_bad(csv_file: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"nothing useful")
    result = ingest([junk, csv_file])
    assert result.flows.num_rows == 2
    assert [f.error != "" for f in result.files] == [True, False]
    assert result.files[1].malformed == 2


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(noise=st.binary(max_size=300))
def test_csv_reader_never_crashes_on_garbage(noise: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(HEADER.encode() + b"\n" + noise)
    try:
        result = read_flows(path, "csv")
    except ReadError as exc:
        message = str(exc)
    else:
        message = str(path)
        assert result.flows.schema.equals(FLOW_SCHEMA)
    assert str(path) in message


def test_commands_ingest_archive_and_query(csv_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out, archive = tmp_path / "out.parquet", tmp_path / "archive"
    done = runner.invoke(
        app, ["ingest", str(csv_file), "--out", str(out), "--archive", str(archive)]
    )
    assert done.exit_code == 0, done.output
    assert "csv, 2 flows, 2 malformed records skipped" in done.output
    assert pq.read_table(out).num_rows == 2
    top = runner.invoke(app, ["flows", "query", "top-talkers", "--archive", str(archive)])
    assert top.exit_code == 0
    assert top.output.splitlines()[1].split()[:2] == ["8.8.8.8", "1,200"]
    traffic = runner.invoke(
        app,
        [
            "flows",
            "query",
            "traffic",
            "--archive",
            str(archive),
            "--mandate",
            str(EXAMPLES / "demo.yaml"),
        ],
    )
    assert traffic.exit_code == 0
    hospital = next(line for line in traffic.output.splitlines() if "hospital" in line)
    assert hospital.split()[1:] == ["1,200", "3", "1"]
    kept = runner.invoke(
        app,
        ["flows", "retention", "--archive", str(archive), "--mandate", str(EXAMPLES / "demo.yaml")],
    )
    assert kept.exit_code == 0
    assert "removed" in kept.output
    refused = runner.invoke(app, ["ingest", str(tmp_path / "absent.csv")])
    assert refused.exit_code == 1
    assert "refused" in refused.output
