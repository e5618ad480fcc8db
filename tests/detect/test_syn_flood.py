"""The SYN flood detector: records in, detections out."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.detect import Thresholds, detect
from cyberpeace.mission import Borders
from cyberpeace.telemetry import ACK, FIN, PSH, RST, SYN
from tests.detect.records import T0, join, records

ONLY = ["syn-flood"]
PORTAL = "198.18.10.10"


def syns(n: int, at: float = T0, dst: str = PORTAL, sources: int = 500) -> pa.Table:
    """``n`` one-packet SYN records in one second from ``sources`` spoofed addresses."""
    when = at + np.linspace(0, 1, n, endpoint=False)
    src = [f"203.0.{i // 250}.{i % 250 + 1}" for i in range(sources)]
    return records(
        n,
        start=when,
        src=[src[i % sources] for i in range(n)],
        dst=dst,
        sport=np.arange(n) % 30_000 + 20_000,
        dport=443,
        proto=6,
        tcp_flags=SYN,
        bytes=60,
    )


def handshakes(n: int, at: float = T0, dst: str = PORTAL) -> pa.Table:
    """``n`` complete client connections in one second (SYN, ACK, data, FIN)."""
    when = at + np.linspace(0, 1, n, endpoint=False)
    return records(
        n,
        start=when,
        end=when + 0.5,
        src=[f"192.0.2.{i % 200 + 1}" for i in range(n)],
        dst=dst,
        sport=np.arange(n) % 20_000 + 40_000,
        dport=443,
        proto=6,
        tcp_flags=SYN | ACK | PSH | FIN,
        packets=12,
        bytes=12 * 400,
    )


@pytest.mark.parametrize(("n", "fires"), [(999, False), (1_000, True)])
def test_syn_only_flows_per_second(n: int, fires: bool) -> None:
    assert len(detect(syns(n), detectors=ONLY)) == int(fires)


def test_syn_packets_per_second_from_few_records() -> None:
    """One source retrying on 10 tuples: 10 records, 2,000 SYN packets in the second."""
    flood = records(
        10,
        start=T0 + 0.1,
        end=T0 + 0.9,
        src="198.19.66.6",
        dst=PORTAL,
        sport=np.arange(10) + 50_000,
        dport=80,
        proto=6,
        tcp_flags=SYN,
        packets=200,
        bytes=200 * 60,
    )
    (found,) = detect(flood, detectors=ONLY)
    rules = {r["metric"]: r for r in found.explanation["rules"]}
    assert rules["syn_pps"]["peak"] == pytest.approx(2_000)
    assert rules["syn_pps"]["windows_reached"] == 1
    assert rules["syn_fps"]["windows_reached"] == 0
    assert found.sources[0].address == "198.19.66.6"


def test_a_busy_server_is_no_flood() -> None:
    """3,000 completed connections a second and 1,000 unanswered SYNs: handshakes complete."""
    assert detect(join(handshakes(3_000), syns(1_000)), detectors=ONLY) == []
    lower = Thresholds(syn_flood_share=0.2)
    assert len(detect(join(handshakes(3_000), syns(1_000)), thresholds=lower, detectors=ONLY)) == 1


def test_the_hosts_answers_are_not_counted() -> None:
    """SYN-ACKs and resets from the host go towards the clients, and carry ACK anyway."""
    answers = records(
        2_000,
        start=T0 + np.linspace(0, 1, 2_000, endpoint=False),
        src=PORTAL,
        dst=[f"203.0.{i // 250}.{i % 250 + 1}" for i in range(2_000)],
        sport=443,
        dport=40_000,
        proto=6,
        tcp_flags=[SYN | ACK, RST | ACK] * 1_000,
        bytes=60,
    )
    assert detect(answers, detectors=ONLY) == []


def test_a_syn_flood_on_a_safe_area(borders: Borders, criticality: dict[str, str]) -> None:
    flood = join(*(syns(3_000, at=T0 + s) for s in range(5)), handshakes(100))
    (found,) = detect(flood, borders, criticality=criticality, detectors=ONLY)
    assert (found.kind, found.target, found.safe_area) == (
        "syn-flood",
        PORTAL,
        "arcadia-central-hospital",
    )
    assert found.severity == "critical"
    assert found.magnitude["windows"] == 5
    assert found.magnitude["peak_fps"] == pytest.approx(3_100)  # and the completed 100
    details = found.explanation["details"]
    assert details["syn_only_flows"] == 15_000
    assert details["flows_with_ack"] == 100
    assert "99% of its TCP records never saw an ACK (100 did)" in found.explanation["summary"]
    assert found.explanation["fires_when"] == (
        "a window fired when syn_share reached its threshold "
        "and any of syn_pps, syn_fps reached its threshold"
    )


def test_an_ipv6_syn_flood() -> None:
    flood = syns(1_500, dst="2001:db8:a000::10")
    (found,) = detect(flood, detectors=ONLY)
    assert found.target == "2001:db8:a000::10"
