"""The volumetric detector: records in, detections out."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.detect import Thresholds, detect
from cyberpeace.mission import Borders
from tests.detect.records import T0, hosts, join, records

ONLY = ["volumetric"]


def burst(
    packets: int, sources: int = 10, at: float = T0, size: int = 100, short: int = 0
) -> pa.Table:
    """``packets`` packets towards 198.18.1.1 within one second, spread over ``sources``; the
    last record ``short`` bytes short."""
    each = np.full(sources, packets // sources)
    each[: packets % sources] += 1
    size_of = each * size
    size_of[-1] -= short
    return records(
        sources,
        start=at + 0.25,
        end=at + 0.75,
        src=hosts("203.0.113.0/24", sources),
        sport=443,
        dport=50_000,
        proto=6,
        tcp_flags=0x18,
        packets=each,
        bytes=size_of,
    )


@pytest.mark.parametrize(("packets", "fires"), [(19_999, False), (20_000, True)])
def test_packets_per_second_at_the_default_threshold(packets: int, fires: bool) -> None:
    assert len(detect(burst(packets), detectors=ONLY)) == int(fires)


@pytest.mark.parametrize(("bits", "fires"), [(999_999_992, False), (1_000_000_000, True)])
def test_bits_per_second(bits: int, fires: bool) -> None:
    # 10,000 packets of 12,500 bytes make 1 Gbit; take one byte off the last to stay below.
    flows = burst(10_000, size=12_500, short=(1_000_000_000 - bits) // 8)
    found = detect(flows, detectors=ONLY)
    assert len(found) == int(fires)
    if fires:
        rules = {r["metric"]: r for r in found[0].explanation["rules"]}
        assert rules["bps"]["windows_reached"] == 1
        assert rules["pps"]["windows_reached"] == 0


@pytest.mark.parametrize(("flows", "fires"), [(3_499, False), (3_500, True)])
def test_new_flows_per_second(flows: int, fires: bool) -> None:
    assert len(detect(burst(flows, sources=flows), detectors=ONLY)) == int(fires)


def test_a_long_record_is_spread_over_its_seconds() -> None:
    """30,000 packets over two seconds are 15,000 packets/s, under the threshold."""
    flows = records(start=T0, end=T0 + 2, packets=30_000, bytes=3_000_000)
    assert detect(flows, detectors=ONLY) == []
    lower = Thresholds(volumetric_pps=15_000)
    (found,) = detect(flows, thresholds=lower, detectors=ONLY)
    assert found.magnitude["windows"] == 2
    assert found.magnitude["peak_pps"] == pytest.approx(15_000)


def test_one_detection_per_episode_and_target(borders: Borders) -> None:
    """Bursts 4 s apart are one flood (gap of 5 s); 20 s later another one begins."""
    flows = join(*(burst(25_000, at=T0 + s) for s in (0, 1, 2, 6, 7, 27)))
    first, second = detect(flows, borders, detectors=ONLY)
    assert (first.target, first.party, first.safe_area) == ("198.18.1.1", "arcadia", None)
    assert first.severity == "medium"  # a party's host outside any safe area
    assert first.magnitude["windows"] == 5
    assert first.explanation["windows"]["runs_total"] == 2
    assert (second.start - first.start).total_seconds() == pytest.approx(27, abs=1)
    assert first.sources[0].party == "calvinia"
    assert first.sources[0].port == 443
    assert sum(s.share for s in first.sources) == pytest.approx(1.0)


def test_without_borders_nothing_is_named() -> None:
    (found,) = detect(burst(30_000), detectors=ONLY)
    assert (found.party, found.safe_area, found.severity) == (None, None, "low")
    assert all(s.party is None for s in found.sources)


def test_an_ipv6_flood_beside_ipv4_traffic(borders: Borders) -> None:
    v6 = records(
        10,
        start=T0 + 0.25,
        end=T0 + 0.75,
        src=[f"2001:db8:c000::{i}" for i in range(1, 11)],
        dst="2001:db8:a000::443",
        packets=3_000,
        bytes=3_000 * 1_200,
    )
    (found,) = detect(join(v6, burst(1_000)), borders, detectors=ONLY)
    assert (found.target, found.party) == ("2001:db8:a000::443", "arcadia")
    assert found.magnitude["peak_pps"] == pytest.approx(30_000)
    assert {s.party for s in found.sources} == {"calvinia"}
