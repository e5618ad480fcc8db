"""The demo scenario: what it holds, as the flow records show it."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.telemetry import SYN, TCP, UDP, Scenario, demo_scenario
from cyberpeace.telemetry.scenario import public_addresses
from cyberpeace.telemetry.schema import FLOW_SCHEMA, V4_MAPPED_PREFIX, addresses_of, v4_of

START = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def ip(address: str) -> int:
    return int(ipaddress.IPv4Address(address))


# The Arrow columns as one numpy record array, so that the tests below can index rows.
_ROWS = np.dtype(
    [
        ("start", "<f8"),
        ("end", "<f8"),
        ("src", "<u4"),
        ("dst", "<u4"),
        ("sport", "<u2"),
        ("dport", "<u2"),
        ("proto", "u1"),
        ("tcp_flags", "u1"),
        ("packets", "<u8"),
        ("bytes", "<u8"),
    ]
)


def rows(table: pa.Table) -> np.ndarray:
    out = np.zeros(table.num_rows, dtype=_ROWS)
    for name in ("start", "end"):
        out[name] = np.asarray(table.column(name).cast(pa.int64())) * 1e-6
    for name in ("src", "dst"):
        out[name] = v4_of(addresses_of(table.column(f"{name}_addr")))
    for name, column in (("sport", "src_port"), ("dport", "dst_port"), ("proto", "protocol")):
        out[name] = np.asarray(table.column(column))
    for name in ("tcp_flags", "packets", "bytes"):
        out[name] = np.asarray(table.column(name))
    return out


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return demo_scenario(START)


@pytest.fixture(scope="module")
def flows(scenario: Scenario) -> np.ndarray:
    return rows(scenario.flows)


def seconds(flows: np.ndarray) -> np.ndarray:
    return flows["start"] - START.timestamp()


def test_flow_schema_ipv4_mapped(scenario: Scenario) -> None:
    assert scenario.flows.schema == FLOW_SCHEMA
    addresses = addresses_of(scenario.flows.column("dst_addr"))
    assert all(a.startswith(V4_MAPPED_PREFIX) for a in addresses[:1000].tolist())
    assert set(scenario.flows.column("ip_version").unique().to_pylist()) == {4}


def test_sorted_possible_and_in_time(scenario: Scenario, flows: np.ndarray) -> None:
    assert np.all(np.diff(flows["start"]) >= 0)
    assert np.all(flows["end"] >= flows["start"])
    assert np.all(flows["packets"] > 0)
    assert np.all(flows["bytes"] >= 20 * flows["packets"])
    assert np.all(flows["bytes"] <= 65_535 * flows["packets"])
    assert seconds(flows).min() >= 0
    assert seconds(flows).max() < 600
    assert (scenario.start, scenario.end) == (START, START + timedelta(minutes=10))


def test_the_same_seed_gives_the_same_flows() -> None:
    a, b = demo_scenario(START, seed=3, minutes=2), demo_scenario(START, seed=3, minutes=2)
    assert a.flows.equals(b.flows)
    assert not a.flows.equals(demo_scenario(START, seed=4, minutes=2).flows)


def test_background_rate_and_mix() -> None:
    quiet = demo_scenario(START, minutes=5)
    every = rows(quiet.flows)
    background = every[every["src"] != ip("198.18.250.3")]
    per_second = np.bincount((background["start"] - START.timestamp()).astype(int))
    assert 100 <= per_second.mean() <= 300
    assert per_second.min() >= 50
    udp = background[background["proto"] == UDP]
    assert set(np.unique(udp["dport"][udp["dport"] < 1024]).tolist()) == {53, 123}
    tcp = background[background["proto"] == TCP]
    assert len(np.unique(tcp["tcp_flags"])) >= 4  # full, reset, mid-flow, unanswered
    assert tcp["bytes"].max() > 100 * np.median(tcp["bytes"])  # heavy tail
    hospital = background["dst"] == ip("198.18.10.10")
    assert 2 <= hospital.sum() / 300 <= 30  # the portal's ordinary visitors, per second


def test_the_reflection_attack(scenario: Scenario, flows: np.ndarray) -> None:
    attack = flows[(flows["dst"] == ip("198.18.10.10")) & (flows["proto"] == UDP)]
    assert set(np.unique(attack["sport"]).tolist()) == {53, 123}
    at = (attack["start"] - START.timestamp()).astype(int)
    assert (at.min(), at.max()) == (180, 359)
    assert np.all(attack["end"] - attack["start"] == 1.0)
    assert 1_900 <= len(np.unique(attack["src"])) <= 2_000
    gbits = attack["bytes"].sum() * 8 / 180 / 1e9
    assert 2 <= gbits <= 8
    ntp = attack[attack["sport"] == 123]
    assert np.all(ntp["bytes"] == 468 * ntp["packets"])
    dns = attack[attack["sport"] == 53]
    assert np.all(dns["bytes"] / dns["packets"] > 1_000)  # fragments of 3-4 KB answers
    reflection = scenario.attacks[0]
    assert (reflection.kind, reflection.target) == ("udp-reflection", "198.18.10.10")
    assert reflection.start == START + timedelta(minutes=3)
    assert reflection.end == START + timedelta(minutes=6)


def test_some_reflectors_lie_in_the_parties(flows: np.ndarray) -> None:
    attack = flows[(flows["dst"] == ip("198.18.10.10")) & (flows["proto"] == UDP)]
    first_octets = np.unique(attack["src"]) >> 24
    assert 10 <= np.isin(first_octets, [192, 198, 203]).sum() <= 50


def test_the_scan(scenario: Scenario, flows: np.ndarray) -> None:
    scanner = flows[flows["src"] == ip("198.19.66.6")]
    assert np.all((scanner["tcp_flags"] & SYN) != 0)
    assert np.all(scanner["packets"] <= 2)
    at = (scanner["start"] - START.timestamp()).astype(int)
    assert at.min() >= 420
    assert at.max() < 480
    vertical = scanner[scanner["dst"] == ip("198.18.20.5")]
    assert set(range(1, 1025)) <= set(vertical["dport"].tolist())
    sweep = scanner[np.isin(scanner["dport"], [443, 3389])]
    assert len(np.unique(sweep["dst"])) == 254
    answers = flows[flows["dst"] == ip("198.19.66.6")]
    assert len(answers) == 1024
    kinds = [(a.kind, a.target, a.source) for a in scenario.attacks[1:]]
    assert kinds == [
        ("port-scan", "198.18.20.5", "198.19.66.6"),
        ("host-sweep", "198.18.20.0/24", "198.19.66.6"),
    ]


def test_the_authorised_sweep(scenario: Scenario) -> None:
    (check,) = scenario.authorised
    assert (check.kind, check.target) == ("host-sweep", "198.18.10.0/24")
    assert check.source == "198.18.250.3"
    assert START + timedelta(minutes=1) <= check.start < check.end < START + timedelta(minutes=2)


def test_short_scenarios_leave_out_what_does_not_fit() -> None:
    assert demo_scenario(START, minutes=1).authorised == ()
    assert [a.kind for a in demo_scenario(START, minutes=7).attacks] == ["udp-reflection"]
    with pytest.raises(ValueError, match="at least one minute"):
        demo_scenario(START, minutes=0)


def test_naive_start_is_utc() -> None:
    naive = demo_scenario(datetime(2026, 9, 15, 12, 0), minutes=1)
    assert naive.start == START


def test_public_addresses_avoid_reserved_space() -> None:
    first = public_addresses(np.random.default_rng(0), 10_000) >> 24
    assert not np.isin(first, [0, 10, 100, 127, 169, 172, 192, 198, 203]).any()
    assert first.max() <= 223
