"""The ICMP flood detector: records in, detections out."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.detect import detect
from cyberpeace.mission import Borders
from tests.detect.records import T0, hosts, join, records

ONLY = ["icmp-flood"]


def pings(sources: int, pps: int, size: int = 84, proto: int = 1, dst: str = "198.19.1.10"):
    """``sources`` hosts each sending ``pps`` echo requests of ``size`` bytes in one second."""
    return records(
        sources,
        start=T0 + 0.05,
        end=T0 + 0.95,
        src=hosts("203.0.113.0/24", sources),
        dst=dst,
        sport=0,
        dport=0x0800,  # type 8 (echo request), code 0, as NetFlow v5 carries it
        proto=proto,
        packets=pps,
        bytes=pps * size,
    )


@pytest.mark.parametrize(("pps", "fires"), [(199, False), (200, True)])
def test_packets_per_second(pps: int, fires: bool) -> None:
    assert len(detect(pings(10, pps), detectors=ONLY)) == int(fires)


@pytest.mark.parametrize(("size", "fires"), [(12_499, False), (12_500, True)])
def test_bits_per_second(size: int, fires: bool) -> None:
    """1,000 packets of 12,500 bytes (fragmented echo requests) are 100 Mbit in one second."""
    assert len(detect(pings(10, 100, size=size), detectors=ONLY)) == int(fires)


def test_monitoring_and_other_protocols_are_quiet() -> None:
    """50 monitors pinging every host of a /24 once a second, and a UDP burst: no flood."""
    monitors = records(
        50 * 254,
        start=T0 + 0.5,
        src=np.repeat(hosts("192.0.2.0/24", 50), 254).tolist(),
        dst=hosts("198.19.1.0/24", 254) * 50,
        proto=1,
        packets=1,
        bytes=84,
    )
    udp = pings(10, 1_000, proto=17)
    assert detect(join(monitors, udp), detectors=ONLY) == []


def test_an_icmpv6_flood_on_a_party(borders: Borders) -> None:
    flood = pings(20, 500, proto=58, size=1_280, dst="2001:db8:b000::1")
    (found,) = detect(flood, borders, detectors=ONLY)
    assert (found.kind, found.target, found.party) == ("icmp-flood", "2001:db8:b000::1", "borduria")
    assert found.severity == "medium"
    assert found.magnitude["peak_pps"] == pytest.approx(10_000)
    assert found.explanation["details"]["protocols"] == {"ICMPv6": 1.0}
    assert found.explanation["summary"].endswith(
        "ICMPv6 towards the host peaked at 10,000 packets/s (102 Mbit/s) "
        "from 20 sources over 1 one-second windows."
    )
    rules = {r["metric"]: r for r in found.explanation["rules"]}
    assert rules["pps"]["threshold"] == 2_000
    assert rules["bps"]["peak"] == pytest.approx(10_000 * 1_280 * 8)


def test_a_flood_over_several_seconds_is_one_detection() -> None:
    flood: pa.Table = join(*(pings(10, 300) for _ in range(1)))
    later = records(
        10,
        start=T0 + 3.05,
        end=T0 + 3.95,
        src=hosts("203.0.113.0/24", 10),
        dst="198.19.1.10",
        proto=1,
        packets=300,
        bytes=300 * 84,
    )
    (found,) = detect(join(flood, later), detectors=ONLY)
    assert found.magnitude["windows"] == 2
