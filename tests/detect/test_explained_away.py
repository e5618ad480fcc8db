"""A volumetric detection that a more specific flood detection explains is left out of the
results, and the specific one says so; one the specific flood does not explain is kept."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cyberpeace.detect import Thresholds, detect
from tests.detect.records import T0, hosts, join, records

VICTIM = "198.18.1.1"


def flood(pps: int, seconds: int = 5, **columns: object) -> pa.Table:
    """``pps`` packets a second towards VICTIM from 50 sources, one record per source a second."""
    n = 50 * seconds
    start = T0 + np.repeat(np.arange(seconds), 50) + 0.2
    values: dict[str, object] = {"src": hosts("203.0.113.0/24", 50) * seconds, "dst": VICTIM}
    values |= {"packets": pps // 50, "bytes": pps // 50 * 100}
    return records(n, start=start, end=start + 0.5, **(values | columns))


def syn(pps: int) -> pa.Table:
    return flood(pps, proto=6, sport=40_000, dport=80, tcp_flags=0x02, bytes=pps // 50 * 40)


def udp(pps: int) -> pa.Table:
    return flood(pps, proto=17, sport=40_000, dport=9)


def test_a_syn_flood_is_one_syn_flood_detection() -> None:
    found = detect(syn(30_000))  # over the volumetric and the SYN thresholds
    assert [d.kind for d in found] == ["syn-flood"]
    (left_out,) = found[0].explanation["suppressed"]
    assert left_out["detector"] == "volumetric"
    assert left_out["peak_pps"] >= Thresholds().volumetric_pps


def test_a_plain_udp_flood_stays_volumetric() -> None:
    found = detect(udp(30_000))
    assert [d.kind for d in found] == ["volumetric-flood"]
    assert "suppressed" not in found[0].explanation


def test_a_small_syn_flood_does_not_explain_a_big_udp_flood() -> None:
    """3,000 SYN/s inside 40,000 packets/s of UDP: both are reported."""
    found = detect(join(syn(3_000), udp(37_000)))
    assert sorted(d.kind for d in found) == ["syn-flood", "volumetric-flood"]
    volumetric = next(d for d in found if d.kind == "volumetric-flood")
    assert [r["kind"] for r in volumetric.explanation["related"]] == ["syn-flood"]


def test_the_share_is_a_threshold() -> None:
    mixed = join(syn(15_000), udp(15_000))  # the SYN flood carries half the packets
    assert sorted(d.kind for d in detect(mixed)) == ["syn-flood"]
    stricter = Thresholds(explained_share=0.9)
    assert sorted(d.kind for d in detect(mixed, thresholds=stricter)) == [
        "syn-flood",
        "volumetric-flood",
    ]


def test_a_fragment_flood_explains_the_volumetric_detection_of_it() -> None:
    """6,000 datagrams/s cut in two, each from new ports: 6,000 new flows/s reach the volumetric
    flows/s threshold, and the fragment flood detector (later fragments only: half the packets)
    still explains it."""
    seconds, per_second = 4, 6_000
    start = T0 + np.repeat(np.arange(seconds), per_second) + 0.1
    n = len(start)
    rng = np.random.default_rng(7)
    first = records(
        n, start=start, dst=VICTIM, src=hosts("203.0.113.0/24", 50) * (n // 50), proto=17,
        sport=rng.integers(1_024, 65_535, n), dport=rng.integers(1, 65_535, n),
        packets=1, bytes=1_500,
    )  # fmt: skip
    later = flood(per_second, seconds, proto=17, sport=0, dport=0, bytes=per_second // 50 * 1_420)
    found = detect(join(first, later))
    assert [d.kind for d in found] == ["fragment-flood"]
    (left_out,) = found[0].explanation["suppressed"]
    assert left_out["kind"] == "volumetric-flood"
