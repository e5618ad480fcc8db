"""Suricata EVE JSON: flow events in both directions, alerts kept apart, bad lines counted."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberpeace.telemetry.archive import address_text
from cyberpeace.telemetry.formats import ReadError, detect_format, read_flows
from cyberpeace.telemetry.schema import FLOW_SCHEMA

SAMPLE = Path(__file__).parent.parent / "samples" / "eve.json"


def test_flow_events_become_flows_and_alerts_are_kept() -> None:
    assert detect_format(SAMPLE) == "suricata-eve"
    result = read_flows(SAMPLE)
    assert result.flows.schema.equals(FLOW_SCHEMA)
    rows = [
        (
            address_text(r["src_addr"]),
            r["src_port"],
            address_text(r["dst_addr"]),
            r["dst_port"],
            r["protocol"],
            r["tcp_flags"],
            r["icmp_type"],
            r["packets"],
            r["bytes"],
        )
        for r in result.flows.to_pylist()
    ]
    assert rows == [
        ("198.51.100.7", 51234, "198.18.10.10", 443, 6, 0x1B, 0, 12, 1309),
        ("2001:db8:b000::9", 5353, "2001:db8:a000::53", 53, 17, 0, 0, 1, 102),
        ("198.51.100.9", 0, "198.18.10.1", 0, 1, 0, 8, 3, 294),
        ("198.18.10.10", 443, "198.51.100.7", 51234, 6, 0x1B, 0, 10, 4760),
        ("198.18.10.1", 0, "198.51.100.9", 0, 1, 0, 8, 3, 294),
    ]
    first = result.flows.to_pylist()[0]
    assert (first["end"] - first["start"]).total_seconds() == 2.5
    assert result.errors == [
        "lines that are not JSON: 1",
        "flow events without the fields a flow needs: 1",
    ]
    assert result.malformed == 2
    assert result.alerts is not None
    alert = result.alerts.to_pylist()[0]
    assert (alert["signature_id"], alert["src"], alert["severity"]) == (2001219, "198.19.66.6", 2)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(0, len(SAMPLE.read_bytes())), noise=st.binary(max_size=40))
def test_truncated_or_corrupted_eve_never_crashes(cut: int, noise: bytes, tmp_path: Path) -> None:
    path = tmp_path / "eve.json"
    path.write_bytes(SAMPLE.read_bytes()[:cut] + noise)
    try:
        rows = read_flows(path, "suricata-eve").flows.num_rows
    except ReadError as exc:
        rows, message = 0, str(exc)
    else:
        message = str(path)
    assert rows <= 5
    assert str(path) in message
