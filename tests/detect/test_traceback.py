"""Traceback: ASNs, parties and countries of the sources, and the signs of spoofing."""

from __future__ import annotations

import ipaddress
import json

import numpy as np
import pytest

from cyberpeace.detect import Analysis, analyse, detect
from cyberpeace.detect.summary import summary
from cyberpeace.detect.traceback import bogons, countries_of
from cyberpeace.mission import Borders, Mandate
from cyberpeace.telemetry import SYN, Scenario
from tests.detect.records import T0, records

PORTAL = "198.18.10.10"
ONLY = ["syn-flood"]


def syn_flood(sources: list[int] | np.ndarray, n: int = 6_000, src_as: int = 0):
    """``n`` SYN records in one second towards the portal, from ``sources`` in turn."""
    when = T0 + np.linspace(0, 1, n, endpoint=False)
    src = np.asarray(sources, dtype=np.uint32)[np.arange(n) % len(sources)]
    return records(
        n, start=when, src=src, dst=PORTAL, dport=443, proto=6, tcp_flags=SYN, bytes=60,
        src_as=src_as,
    )  # fmt: skip


def public(count: int, seed: int = 1) -> np.ndarray:
    """``count`` distinct addresses from a few public-looking /16s (a botnet's clustering)."""
    rng = np.random.default_rng(seed)
    networks = np.array([int(ipaddress.IPv4Address(f"{o}.{p}.0.0")) for o, p in
                         [(23, 4), (45, 77), (81, 9), (91, 200), (185, 31)]])  # fmt: skip
    return networks[rng.integers(0, 5, count)] + rng.choice(65_536, count, replace=False)


@pytest.fixture(scope="module")
def demo(
    scenario: Scenario,
    borders: Borders,
    allow_list: list[str],
    criticality: dict[str, str],
    demo_mandate: Mandate,
) -> Analysis:
    return analyse(
        scenario.flows,
        borders,
        allow_list=allow_list,
        criticality=criticality,
        countries=countries_of(demo_mandate),
    )


def test_reflectors_are_told_apart_from_the_origin(demo: Analysis) -> None:
    (found,) = [d for d in demo.detections if d.kind == "udp-reflection"]
    traced = found.traceback
    assert traced is not None
    assert traced.reflectors
    assert {s.role for s in traced.sources} == {"reflector"}
    assert [s.address for s in traced.sources] == [s.address for s in found.sources]
    assert "abused, not attackers" in traced.explanation
    assert "victim's address was spoofed" in traced.explanation
    assert traced.distinct_sources == found.magnitude["sources"]


def test_a_scanner_is_named_with_party_and_country(demo: Analysis, demo_mandate: Mandate) -> None:
    (scan,) = [d for d in demo.detections if d.kind == "port-scan"]
    assert scan.traceback is not None
    (source,) = scan.traceback.sources
    country = countries_of(demo_mandate)["borduria"]
    assert (source.address, source.party, source.country) == ("198.19.66.6", "borduria", country)
    assert source.role == "source"
    assert source.special_purpose is None  # benchmarking space, but a party claims it
    assert scan.traceback.spoofing_signs == []


def test_the_traceback_is_in_the_json(demo: Analysis) -> None:
    for found in demo.detections:
        line = json.loads(json.dumps(summary(found), allow_nan=False))
        assert line["traceback"]["sources"][0]["address"] == found.sources[0].address


def test_asn_from_the_exporter() -> None:
    (found,) = detect(syn_flood(public(50), src_as=64_500), detectors=ONLY)
    assert found.traceback is not None
    assert {s.asn for s in found.traceback.sources} == {64_500}
    (without,) = detect(syn_flood(public(50)), detectors=ONLY)
    assert without.traceback is not None
    assert {s.asn for s in without.traceback.sources} == {None}


def test_private_sources_are_spoofed() -> None:
    private = [int(ipaddress.IPv4Address("10.1.2.3")) + i for i in range(100)]
    (found,) = detect(syn_flood(private), detectors=ONLY)
    traced = found.traceback
    assert traced is not None
    assert traced.special_purpose_share == 1.0
    assert "special-purpose" in traced.spoofing_signs[0]
    assert traced.sources[0].special_purpose == "Private-Use 10.0.0.0/8 (RFC 1918)"
    assert "likely spoofed" in traced.explanation


def test_uniformly_random_sources_are_spoofed() -> None:
    rng = np.random.default_rng(3)
    spread = rng.choice(1 << 32, 5_000, replace=False)
    (found,) = detect(syn_flood(spread), detectors=ONLY)
    assert found.traceback is not None
    assert any("spread evenly" in sign for sign in found.traceback.spoofing_signs)


def test_whole_networks_sending_at_once_are_implausible() -> None:
    base = int(ipaddress.IPv4Address("45.77.10.0"))
    dense = base + np.arange(8 * 256)  # every address of eight /24s
    (found,) = detect(syn_flood(dense), detectors=ONLY)
    assert found.traceback is not None
    assert any("fill 100% of each /24" in sign for sign in found.traceback.spoofing_signs)


def test_a_clustered_botnet_shows_no_sign() -> None:
    (found,) = detect(syn_flood(public(3_000)), detectors=ONLY)
    assert found.traceback is not None
    assert found.traceback.spoofing_signs == []
    assert "No sign of spoofing" in found.traceback.explanation


def test_the_bogon_table_cites_its_sources() -> None:
    blocks, named = bogons()
    assert len(blocks) == len(named) >= 20
    assert all(rfc.startswith("RFC ") for _, _, rfc in named)
    assert ("2001:db8::/32", "Documentation", "RFC 3849") in named
