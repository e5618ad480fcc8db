"""Whatever arrives, detect() refuses what is impossible and never crashes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cyberpeace.detect import Thresholds, analyse
from cyberpeace.mission import Borders
from cyberpeace.telemetry.schema import COLUMN_DTYPES, to_batch
from tests.detect.records import NOW, T0, records

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
    syn_flood_pps=3,
    syn_flood_fps=2,
    icmp_flood_pps=3,
    icmp_flood_bps=1e4,
    brute_sessions=2,
    brute_window_s=5,
    episode_gap_s=1,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_RANDOM = ("start", "end", "src_addr", "dst_addr", "src_port", "dst_port", "protocol")
_RANDOM += ("tcp_flags", "packets", "bytes")


def check(flows: pa.Table, borders: Borders | None, thresholds: Thresholds) -> None:
    result = analyse(flows, borders, thresholds, allow_list=["198.18.250.0/28"], now=NOW)
    counts = result.counts
    assert counts.examined + counts.allow_listed + sum(counts.impossible.values()) == len(flows)
    for found in result.detections:
        assert found.start <= found.end
        assert all(0 <= s.share <= 1 for s in found.sources)
        assert len(found.sources) <= 10
        assert 0 < found.confidence <= 0.99
        found.model_dump_json()


@st.composite
def random_tables(draw: st.DrawFn) -> pa.Table:
    """Every needed column filled with arbitrary values of its type, addresses any 16 bytes."""
    n = draw(st.integers(0, 30))
    columns = {name: draw(arrays(COLUMN_DTYPES[name], n)) for name in _RANDOM}
    if draw(st.booleans()):  # make some addresses IPv4-mapped, as most are
        raw = columns["src_addr"].view(np.uint8).reshape(-1, 16).copy()
        raw[:, :10], raw[:, 10:12] = 0, 0xFF
        columns["src_addr"] = raw.view("S16").ravel()
    return pa.Table.from_batches([to_batch(columns, "fuzz")])


@FUZZ
@given(random_tables())
def test_random_records(flows: pa.Table) -> None:
    check(flows, None, EAGER)


@st.composite
def plausible(draw: st.DrawFn) -> pa.Table:
    """Records that pass intake: few addresses and ports, so that windows fill up."""
    n = draw(st.integers(1, 80))
    ints = st.integers

    def some(choices: list[object]) -> list[object]:
        return draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n))

    start = T0 + np.array(draw(st.lists(st.floats(0, 30), min_size=n, max_size=n)))
    length = np.array(some([0.0, 0.2, 1.0, 3.7]), dtype=np.float64)
    packets = np.array(
        draw(st.lists(st.one_of(ints(1, 3), ints(1, 5_000)), min_size=n, max_size=n))
    )
    return records(
        n,
        start=start,
        end=start + length,
        src=some(
            ["198.19.0.1", "198.19.0.2", "203.0.113.5", "8.8.8.8", "198.18.250.1", "2001:db8::7"]
        ),
        dst=some(["198.18.10.10", "198.18.20.10", "198.18.20.11", "1.1.1.1", "2001:db8:1::1"]),
        sport=some([53, 123, 443, 40000]),
        dport=some([22, 80, 443, 3389]),
        proto=some([6, 17, 1, 58]),
        tcp_flags=some([0x02, 0x12, 0x14, 0x1B, 0x00]),
        packets=packets,
        bytes=packets * draw(ints(40, 1_500)),
    )


@FUZZ
@given(flows=plausible())
def test_plausible_records_with_borders(flows: pa.Table, borders: Borders) -> None:
    check(flows, borders, EAGER)
    check(flows, borders, Thresholds())
