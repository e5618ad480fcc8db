"""The reflection detector: records in, detections out."""

from __future__ import annotations

import pytest

from cyberpeace.detect import Thresholds, detect
from cyberpeace.mission import Borders
from tests.detect.records import T0, hosts, join, records

ONLY = ["reflection"]
HOSPITAL = "198.18.10.10"


def answers(
    sources: int, pps: int, sport: int = 123, proto: int = 17, size: int = 468, first: int = 1
):
    """``sources`` NTP servers each sending ``pps`` packets in one second to the hospital."""
    return records(
        sources,
        start=T0 + 0.1,
        end=T0 + 0.9,
        src=hosts("203.0.113.0/24", sources, first),
        dst=HOSPITAL,
        sport=sport,
        dport=80,
        proto=proto,
        packets=pps,
        bytes=pps * size,
    )


@pytest.mark.parametrize(("pps", "fires"), [(999, False), (1_000, True)])
def test_packets_per_second_from_ten_reflectors(pps: int, fires: bool) -> None:
    assert len(detect(answers(10, pps), detectors=ONLY)) == int(fires)


def test_nine_reflectors_are_not_enough() -> None:
    assert detect(answers(9, 5_000), detectors=ONLY) == []
    fewer = Thresholds(reflection_sources=9)
    assert len(detect(answers(9, 5_000), thresholds=fewer, detectors=ONLY)) == 1


@pytest.mark.parametrize(("size", "fires"), [(62_499, False), (62_500, True)])
def test_bits_per_second(size: int, fires: bool) -> None:
    """10 sources x 20 packets x 62,500 bytes x 8 bits = 100 Mbit/s at only 200 packets/s."""
    flows = answers(10, 20, sport=11211, size=size)
    assert len(detect(flows, detectors=ONLY)) == int(fires)


@pytest.mark.parametrize(("sport", "proto"), [(443, 17), (123, 6), (8080, 17)])
def test_only_udp_from_amplifier_ports_counts(sport: int, proto: int) -> None:
    assert detect(answers(20, 2_000, sport=sport, proto=proto), detectors=ONLY) == []


def test_a_reflection_on_a_safe_area(borders: Borders, criticality: dict[str, str]) -> None:
    # other reflectors answer DNS
    flows = join(answers(12, 1_500), answers(12, 1_000, sport=53, size=1_200, first=101))
    (found,) = detect(flows, borders, criticality=criticality, detectors=ONLY)
    assert (found.kind, found.target) == ("udp-reflection", HOSPITAL)
    assert (found.party, found.safe_area, found.severity) == (
        "arcadia",
        "arcadia-central-hospital",
        "critical",
    )
    mix = found.explanation["details"]["amplifiers"]
    assert list(mix) == ["53", "123"]  # DNS carried more bytes
    assert mix["123"]["protocol"] == "NTP"
    assert mix["123"]["reflectors"] == 12
    assert found.sources[0].port == 53
    assert all(s.party == "calvinia" for s in found.sources)
    assert found.magnitude["sources"] == 24
    assert found.explanation["fires_when"] == (
        "a window fired when sources reached its threshold "
        "and any of pps, bps reached its threshold"
    )


def test_safe_area_without_stated_criticality_is_high(borders: Borders) -> None:
    (found,) = detect(answers(10, 2_000), borders, detectors=ONLY)
    assert found.severity == "high"
