"""Zeek conn.log, TSV and JSON, against values worked out by hand from the sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberpeace.telemetry.archive import address_text
from cyberpeace.telemetry.formats import ReadError, detect_format, read_flows
from cyberpeace.telemetry.schema import FLOW_SCHEMA

SAMPLE = Path(__file__).parent.parent / "samples" / "conn.log"


def _rows(path: Path) -> list[tuple[str, int, str, int, int, int, int, int]]:
    flows = read_flows(path).flows
    return [
        (
            address_text(r["src_addr"]),
            r["src_port"],
            address_text(r["dst_addr"]),
            r["dst_port"],
            r["protocol"],
            r["tcp_flags"],
            r["packets"],
            r["bytes"],
        )
        for r in flows.to_pylist()
    ]


def test_tsv_connections_become_flows_in_each_direction() -> None:
    assert detect_format(SAMPLE) == "zeek-conn"
    result = read_flows(SAMPLE)
    assert result.flows.schema.equals(FLOW_SCHEMA)
    rows = _rows(SAMPLE)
    assert ("198.51.100.7", 51234, "198.18.10.10", 443, 6, 27, 12, 1141) in rows
    assert ("198.18.10.10", 443, "198.51.100.7", 51234, 6, 27, 10, 4620) in rows
    assert ("198.19.66.6", 40000, "198.18.20.5", 22, 6, 2, 1, 60) in rows  # unanswered SYN
    assert not any(r[0] == "198.18.20.5" for r in rows)  # no reverse flow for it
    assert ("2001:db8:b000::9", 5353, "2001:db8:a000::53", 53, 17, 8, 1, 88) in rows
    assert ("198.51.100.9", 8, "198.18.10.1", 0, 1, 0, 1, 84) in rows  # ICMP echo request
    assert len(rows) == 7
    assert result.malformed == 2
    assert result.errors == [
        "row 5: expected 21 fields",
        "flows refused for unset required fields: 1",
    ]
    first = result.flows.to_pylist()[0]
    assert first["start"].timestamp() == pytest.approx(1764000000.123456)
    assert (first["end"] - first["start"]).total_seconds() == pytest.approx(2.5)


def test_json_lines_give_the_same_flows(tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    names = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    records = []
    for line in lines:
        if line.startswith("#") or line.count("\t") != len(names) - 1:
            continue
        values = dict(zip(names, line.split("\t"), strict=True))
        record = {k: v for k, v in values.items() if v != "-"}
        for key in ("ts", "duration"):
            if key in record:
                record[key] = float(record[key])
        for key in (
            "id.orig_p",
            "id.resp_p",
            "orig_pkts",
            "orig_ip_bytes",
            "resp_pkts",
            "resp_ip_bytes",
            "orig_bytes",
            "resp_bytes",
            "missed_bytes",
        ):
            if key in record:
                record[key] = int(record[key])
        if "id.orig_h" in record:
            records.append(record)
    path = tmp_path / "conn.json"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert detect_format(path) == "zeek-conn-json"
    assert sorted(_rows(path)) == sorted(_rows(SAMPLE))


def test_a_log_without_fields_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text("#separator \\x09\n#path\tconn\n1\t2\n")
    with pytest.raises(ReadError, match="without a #fields line"):
        read_flows(path)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(0, len(SAMPLE.read_bytes())), noise=st.binary(max_size=40))
def test_truncated_or_corrupted_logs_never_crash(cut: int, noise: bytes, tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_bytes(SAMPLE.read_bytes()[:cut] + noise)
    try:
        rows = read_flows(path, "zeek-conn").flows.num_rows
    except ReadError as exc:
        rows, message = 0, str(exc)
    else:
        message = str(path)
    assert rows <= 7
    assert str(path) in message
