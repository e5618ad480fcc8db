"""Adaptive baselines: they follow a slow ramp, raise on a step after the minimum duration, stay
silent while learning, and carry their state from batch to batch."""

from __future__ import annotations

import ipaddress
from datetime import datetime

import numpy as np
import pytest

from cyberpeace.detect import analyse
from cyberpeace.detect.baselines import Baselines, BaselineSettings
from cyberpeace.mission import Borders
from tests.detect.records import T0, batch_of, records

HOST = "198.18.10.10"  # the demo mandate's hospital portal


def seconds_of(rates: np.ndarray, at: float = T0, dst: str = HOST):
    """One record a second towards ``dst`` carrying ``rates[i]`` packets in second ``i``."""
    start = at + np.arange(len(rates)) + 0.25
    packets = np.maximum(np.round(rates), 1).astype(np.int64)
    return batch_of(records(len(rates), start=start, dst=dst, packets=packets, bytes=packets * 100))


def noisy(level: np.ndarray, seed: int = 1) -> np.ndarray:
    return level * (1 + 0.05 * np.random.default_rng(seed).standard_normal(len(level)))


def feed(baselines: Baselines, rates: np.ndarray, batch_s: int = 100, borders=None) -> list:
    """Hand ``rates`` to ``baselines`` as consecutive batches of ``batch_s`` seconds."""
    found = []
    for at in range(0, len(rates), batch_s):
        found += baselines.observe(seconds_of(rates[at : at + batch_s], T0 + at), borders)
    return found


def test_a_slow_ramp_is_followed_without_firing() -> None:
    baselines = Baselines()
    ramp = noisy(np.linspace(2_000, 6_000, 2_400))  # tripling over forty minutes
    assert feed(baselines, ramp) == []
    mean, _, learnt = baselines.baseline(f"host {HOST}")
    assert mean == pytest.approx(6_000, rel=0.1)
    assert learnt == 2_400


@pytest.mark.parametrize(("seconds", "fires"), [(2, False), (3, True), (30, True)])
def test_a_step_fires_after_the_minimum_duration(seconds: int, fires: bool) -> None:
    baselines = Baselines()
    quiet = noisy(np.full(700, 310.0))
    step = np.full(seconds, 8_400.0)
    rates = np.concatenate([quiet, step, noisy(np.full(20, 310.0), 2)])
    found = feed(baselines, rates, batch_s=50)  # the step straddles batches
    assert len(found) == int(fires)
    if fires:
        (detection,) = found
        assert detection.target == HOST
        assert detection.start.timestamp() == T0 + 700
        summary = detection.explanation["summary"]
        assert "rate 8,400 pkt/s against a baseline of 3" in summary
        assert "learnt over 700 s" in summary
        baseline = detection.explanation["baseline"]
        assert baseline["mean_pps"] == pytest.approx(310, rel=0.05)
        assert 0 < baseline["deviation_pps"] < 40
        assert detection.magnitude["windows"] == 3


def test_a_rise_says_when_it_started_and_peaked() -> None:
    """The explanation's timeline (read by the incident timeline) names the run's highest
    second, not its first or last."""
    quiet = noisy(np.full(700, 310.0))
    rise = np.array([6_000.0, 9_500.0, 7_000.0])
    (detection,) = feed(Baselines(), np.concatenate([quiet, rise]), batch_s=50)
    course = detection.explanation["timeline"]
    at = {name: datetime.fromisoformat(course[name]).timestamp() for name in course}
    assert at == {"start": T0 + 700, "peak": T0 + 701, "end": T0 + 703}
    assert detection.magnitude["peak_pps"] == pytest.approx(9_500, rel=0.01)


def test_the_floor_keeps_a_tiny_host_quiet() -> None:
    baselines = Baselines()
    rates = np.concatenate([np.full(700, 2.0), np.full(10, 400.0)])  # 200 times, yet tiny
    assert feed(baselines, rates) == []
    lower = Baselines(BaselineSettings(floor_pps=100))
    assert len(feed(lower, rates)) == 1


def test_learning_is_silent() -> None:
    baselines = Baselines(BaselineSettings(learning_s=600))
    rates = np.concatenate([noisy(np.full(300, 310.0)), np.full(60, 50_000.0)])
    assert feed(baselines, rates) == []
    assert baselines.baseline(f"host {HOST}")[2] == 360


def test_safe_areas_have_baselines_too(borders: Borders) -> None:
    baselines = Baselines()
    rates = np.concatenate([noisy(np.full(700, 310.0)), np.full(5, 8_400.0)])
    found = feed(baselines, rates, borders=borders)
    # The host's detection names its party and safe area; the area's its area (the store knows
    # the area's party).
    assert sorted((d.target, d.party, d.safe_area) for d in found) == [
        (HOST, "arcadia", "arcadia-central-hospital"),
        ("arcadia-central-hospital", None, "arcadia-central-hospital"),
    ]
    assert len(baselines) == 2


def test_seconds_not_settled_are_left_for_the_next_batch() -> None:
    baselines = Baselines()
    batch = seconds_of(np.full(100, 500.0))
    baselines.observe(batch, until=T0 + 60)
    assert baselines.baseline(f"host {HOST}")[2] == 60
    baselines.observe(batch)  # the same window again, later: only the seconds left are learnt
    assert baselines.baseline(f"host {HOST}")[2] == 100


def test_a_batch_seen_again_is_not_learnt_twice() -> None:
    baselines = Baselines()
    batch = seconds_of(np.full(10, 300.0))
    baselines.observe(batch)
    baselines.observe(batch)
    assert baselines.baseline(f"host {HOST}")[2] == 10


def test_analyse_feeds_the_baselines() -> None:
    baselines = Baselines(BaselineSettings(learning_s=60))
    start = T0 + np.arange(70) + 0.25
    packets = np.concatenate([np.full(66, 300), np.full(4, 9_000)])
    flows = records(70, start=start, dst=HOST, packets=packets, bytes=packets * 100)
    found = analyse(flows, detectors=[], baselines=baselines)
    assert [d.detector for d in found.detections] == ["baseline"]


def test_established_tcp_is_not_counted() -> None:
    """A download burst (TCP with ACK) to a quiet host is its own doing: no rate anomaly; the
    same step of UDP is one."""
    rates = np.concatenate([noisy(np.full(700, 50.0)), np.full(10, 5_000.0)])
    start = T0 + np.arange(len(rates)) + 0.25
    packets = np.maximum(np.round(rates), 1).astype(np.int64)

    def flows(proto: int, flags: int):
        return batch_of(
            records(len(rates), start=start, dst=HOST, packets=packets, bytes=packets * 1_000,
                    proto=proto, tcp_flags=flags)
        )  # fmt: skip

    assert Baselines().observe(flows(6, 0x18)) == []
    assert [d.target for d in Baselines().observe(flows(17, 0))] == [HOST]


def test_a_rise_must_be_a_multiple_of_the_mean() -> None:
    """A busy, steady host (small deviation) rising by half is no anomaly; by four times is."""
    for step, fires in ((1.5, False), (4.0, True)):
        rates = np.concatenate([np.full(700, 5_000.0), np.full(10, 5_000.0 * step)])
        found = feed(Baselines(), noisy(rates, seed=3))
        assert bool(found) is fires, step


def test_the_detect_command_runs_the_baselines(tmp_path) -> None:
    """``cyberpeace detect`` over a file: the host's rate learnt over the file, then a step."""
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from cyberpeace.cli import app

    rates = np.concatenate([noisy(np.full(700, 300.0)), np.full(5, 8_400.0)])
    start = T0 + np.arange(len(rates)) + 0.25
    packets = np.maximum(np.round(rates), 1).astype(np.int64)
    path = tmp_path / "flows.parquet"
    pq.write_table(
        records(len(rates), start=start, dst=HOST, packets=packets, bytes=packets * 100), path
    )
    result = CliRunner().invoke(app, ["detect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(d["detector"], d["target"]) for d in found] == [("baseline", HOST)]


def test_with_borders_only_hosts_of_the_territory_get_a_baseline(borders: Borders) -> None:
    """Answers to the internet's clients go to hosts the mission does not protect: with borders
    they get no baseline (and cost nothing); without borders every host gets one."""
    outside = "100.64.0.9"  # no party's
    start = T0 + np.repeat(np.arange(30), 2) + 0.25
    dst = [HOST, outside] * 30
    batch = batch_of(records(60, start=start, dst=dst, packets=50, bytes=5_000))
    with_borders = Baselines()
    with_borders.observe(batch, borders)
    assert with_borders.baseline(f"host {HOST}")[2] == 30
    with pytest.raises(KeyError):
        with_borders.baseline(f"host {outside}")
    bare = Baselines()
    bare.observe(batch)
    assert bare.baseline(f"host {outside}")[2] == 30


def test_a_safe_area_that_splits_its_24_watches_its_half_only() -> None:
    """A safe area of a /25 outside any territory: its /24 is split, and its hosts are told
    from their neighbours in the other half (which the first cut by /24 lets through)."""
    area = ipaddress.IPv4Network("192.0.2.128/25")
    borders = Borders(["p"], [(ipaddress.IPv4Network("198.18.0.0/16"), 0)], ["a"], [(area, 0)])
    watched, neighbour, territory = "192.0.2.200", "192.0.2.20", HOST
    start = T0 + np.repeat(np.arange(20), 3) + 0.25
    dst = [watched, neighbour, territory] * 20
    batch = batch_of(records(60, start=start, dst=dst, packets=50, bytes=5_000))
    baselines = Baselines()
    baselines.observe(batch, borders)
    assert baselines.baseline(f"host {watched}")[2] == 20
    assert baselines.baseline(f"host {territory}")[2] == 20
    with pytest.raises(KeyError):
        baselines.baseline(f"host {neighbour}")


def test_hosts_past_the_limit_get_no_baseline_and_are_counted() -> None:
    hosts = [f"198.18.1.{i}" for i in range(1, 11)]
    start = T0 + np.arange(10) + 0.25
    batch = batch_of(records(10, start=start, dst=hosts))
    baselines = Baselines(BaselineSettings(max_hosts=4))
    baselines.observe(batch)
    assert len(baselines) == 4
    assert baselines.hosts_refused == 6
    learnt = [baselines.baseline(f"host {h}")[2] for h in hosts[:4]]
    assert learnt == [10, 10, 10, 10]  # seconds without its traffic count as zero


def test_a_long_batch_is_stepped_in_chunks_with_the_same_result() -> None:
    """One batch of 800 s (stepped in chunks of seconds) learns and fires as 16 of 50 s."""
    quiet = noisy(np.full(700, 310.0))
    rates = np.concatenate([quiet, np.full(30, 8_400.0), noisy(np.full(70, 310.0), 2)])
    one, many = Baselines(), Baselines()
    (a,) = feed(one, rates, batch_s=800)
    (b,) = feed(many, rates, batch_s=50)
    assert a.model_dump() == b.model_dump()
    assert one.baseline(f"host {HOST}") == many.baseline(f"host {HOST}")


def test_an_ipv6_host_is_named_by_its_address() -> None:
    host = "2001:db8:a000::1"
    rates = np.concatenate([noisy(np.full(700, 310.0)), np.full(5, 8_400.0)])
    found = []
    baselines = Baselines()
    for at in range(0, len(rates), 100):
        found += baselines.observe(seconds_of(rates[at : at + 100], T0 + at, dst=host))
    assert [d.target for d in found] == [host]
    assert baselines.baseline(f"host {host}")[2] == 700
