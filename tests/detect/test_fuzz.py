"""Whatever arrives, detect() refuses what is impossible and never crashes."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cyberpeace.detect import Thresholds, analyse
from cyberpeace.mission import Borders
from cyberpeace.telemetry import FLOW_DTYPE, Flows
from tests.detect.records import T0

# Tiny thresholds, so that random plausible records make detectors fire.
EAGER = Thresholds(
    volumetric_pps=5,
    volumetric_bps=1e4,
    volumetric_fps=3,
    reflection_pps=2,
    reflection_bps=1e3,
    reflection_sources=2,
    vertical_ports=2,
    horizontal_hosts=2,
    scan_window_s=5,
    episode_gap_s=1,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(flows: Flows, borders: Borders | None, thresholds: Thresholds) -> None:
    result = analyse(flows, borders, thresholds, allow_list=["198.18.250.0/28"])
    counts = result.counts
    assert counts.examined + counts.allow_listed + sum(counts.impossible.values()) == len(flows)
    for found in result.detections:
        assert found.start <= found.end
        assert all(0 <= s.share <= 1 for s in found.sources)
        assert len(found.sources) <= 10
        assert 0 < found.confidence <= 0.99
        found.model_dump_json()


@FUZZ
@given(st.binary(max_size=FLOW_DTYPE.itemsize * 40))
def test_random_bytes(raw: bytes) -> None:
    usable = len(raw) - len(raw) % FLOW_DTYPE.itemsize
    check(np.frombuffer(raw[:usable], dtype=FLOW_DTYPE).copy(), None, EAGER)


@FUZZ
@given(arrays(FLOW_DTYPE, st.integers(0, 30)))
def test_random_records(flows: Flows) -> None:
    check(flows, None, EAGER)


@st.composite
def plausible(draw: st.DrawFn) -> Flows:
    """Records that pass intake: few addresses and ports, so that windows fill up."""
    n = draw(st.integers(1, 80))
    ints = st.integers
    flows = np.zeros(n, dtype=FLOW_DTYPE)
    flows["start"] = T0 + np.array(draw(st.lists(st.floats(0, 30), min_size=n, max_size=n)))
    length = draw(st.lists(st.sampled_from([0.0, 0.2, 1.0, 3.7]), min_size=n, max_size=n))
    flows["end"] = flows["start"] + np.array(length)
    for field, choices in {
        "src": [0xC6130001, 0xC6130002, 0xCB007105, 0x08080808, 0xC612FA01],
        "dst": [0xC6120A0A, 0xC612140A, 0xC612140B, 0x01010101],
        "sport": [53, 123, 443, 40000],
        "dport": [22, 80, 443, 3389],
        "proto": [6, 17, 1],
        "tcp_flags": [0x02, 0x12, 0x14, 0x1B, 0x00],
    }.items():
        flows[field] = draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n))
    sizes = st.one_of(ints(1, 3), ints(1, 5_000))  # probes, and more
    flows["packets"] = draw(st.lists(sizes, min_size=n, max_size=n))
    flows["bytes"] = flows["packets"] * draw(ints(20, 1_500))
    return flows


@FUZZ
@given(flows=plausible())
def test_plausible_records_with_borders(flows: Flows, borders: Borders) -> None:
    check(flows, borders, EAGER)
    check(flows, borders, Thresholds())
