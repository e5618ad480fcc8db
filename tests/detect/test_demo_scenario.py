"""The engine on the demo mission's ten minutes: the attacks found, nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cyberpeace.detect import Analysis, Detection, analyse, detect, read_flows
from cyberpeace.mission import Borders
from cyberpeace.telemetry import Attack, Scenario, demo_scenario
from tests.detect.records import ip

SLACK = timedelta(seconds=3)


@pytest.fixture(scope="module")
def analysis(
    scenario: Scenario, borders: Borders, allow_list: list[str], criticality: dict[str, str]
) -> Analysis:
    return analyse(scenario.flows, borders, allow_list=allow_list, criticality=criticality)


def only(analysis: Analysis, kind: str) -> Detection:
    found = [d for d in analysis.detections if d.kind == kind]
    assert len(found) == 1, [d.explanation["summary"] for d in found]
    return found[0]


def truth(scenario: Scenario, kind: str) -> Attack:
    return next(a for a in scenario.attacks if a.kind == kind)


def assert_same_time(detection: Detection, attack: Attack) -> None:
    assert abs(detection.start - attack.start) <= SLACK
    assert abs(detection.end - attack.end) <= SLACK


def test_one_reflection_on_the_hospital(analysis: Analysis, scenario: Scenario) -> None:
    found = only(analysis, "udp-reflection")
    assert (found.detector, found.target) == ("reflection", "198.18.10.10")
    assert (found.party, found.safe_area) == ("arcadia", "arcadia-central-hospital")
    assert found.severity == "critical"
    assert found.confidence >= 0.9
    assert_same_time(found, truth(scenario, "udp-reflection"))
    assert found.magnitude["peak_bps"] > 2e9  # several Gbit/s
    assert found.magnitude["sources"] == pytest.approx(2_000, abs=5)
    assert set(found.explanation["details"]["amplifiers"]) == {"53", "123"}


def test_reflection_sources_are_reflectors(analysis: Analysis, scenario: Scenario) -> None:
    found = only(analysis, "udp-reflection")
    flows, _ = read_flows(scenario.flows)
    towards = flows.take((flows.dst == ip("198.18.10.10")) & (flows.protocol == 17))
    reflectors = set(towards.src[np.isin(towards.src_port, [53, 123])].tolist())
    assert len(found.sources) == 10
    assert all(ip(s.address) in reflectors for s in found.sources)
    assert {s.port for s in found.sources} <= {53, 123}
    assert [s.bytes for s in found.sources] == sorted(
        (s.bytes for s in found.sources), reverse=True
    )
    assert 0 < sum(s.share for s in found.sources) < 0.2  # ~2,000 reflectors share the load


def test_the_scan_of_the_election_commission(analysis: Analysis, scenario: Scenario) -> None:
    vertical, horizontal = only(analysis, "port-scan"), only(analysis, "host-sweep")
    assert (vertical.target, horizontal.target) == ("198.18.20.5", "198.18.20.0/24")
    for found in (vertical, horizontal):
        assert found.safe_area == "arcadia-election-commission"
        assert found.severity == "high"  # a precursor against a critical safe area
        assert [(s.address, s.party, s.share) for s in found.sources] == [
            ("198.19.66.6", "borduria", 1.0)
        ]
        assert_same_time(found, truth(scenario, found.kind))
    assert vertical.magnitude["ports"] >= 1_024
    assert horizontal.magnitude["hosts"] == 254
    assert horizontal.explanation["details"]["ports"] == [443, 3389]


def test_nothing_else(analysis: Analysis) -> None:
    """No detection on the background; the volumetric one of the same flood is left out, and
    the reflection detection says so."""
    assert sorted((d.kind, d.target) for d in analysis.detections) == [
        ("host-sweep", "198.18.20.0/24"),
        ("port-scan", "198.18.20.5"),
        ("udp-reflection", "198.18.10.10"),
    ]
    flood = only(analysis, "udp-reflection")
    (left_out,) = flood.explanation["suppressed"]
    assert left_out["kind"] == "volumetric-flood"
    assert left_out["peak_pps"] >= 20_000  # it did reach the volumetric threshold
    assert "volumetric" in flood.explanation["suppressed_note"]
    assert "related" not in flood.explanation


def test_the_mission_scanner_is_allow_listed(
    analysis: Analysis, scenario: Scenario, borders: Borders
) -> None:
    assert analysis.counts.allow_listed == 508  # 254 hosts x 2 ports
    assert analysis.counts.impossible == {}
    unfiltered = detect(scenario.flows, borders, detectors=["horizontal-scan"])
    assert {(d.target, d.sources[0].address) for d in unfiltered} == {
        ("198.18.10.0/24", "198.18.250.3"),
        ("198.18.20.0/24", "198.19.66.6"),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_background_alone_is_quiet(seed: int, borders: Borders, allow_list: list[str]) -> None:
    """Five minutes (no attacks), at different times of day, with other random draws."""
    start = datetime(2026, 9, 15, 4 * seed, 30, tzinfo=UTC)
    quiet = demo_scenario(start, seed=seed, minutes=5)
    assert quiet.attacks == ()
    assert detect(quiet.flows, borders, allow_list=allow_list) == []


def test_detections_store_as_json(analysis: Analysis) -> None:
    for found in analysis.detections:
        again = Detection.model_validate_json(found.model_dump_json())
        assert again == found
        json.dumps(found.explanation, allow_nan=False)


def test_explanation_names_rule_numbers_and_windows(analysis: Analysis) -> None:
    found = only(analysis, "udp-reflection")
    rules = {r["metric"]: r for r in found.explanation["rules"]}
    assert rules["sources"]["required"] is True
    assert rules["pps"]["threshold"] == 10_000
    assert rules["pps"]["peak"] == pytest.approx(found.magnitude["peak_pps"], rel=0.01)
    assert rules["pps"]["windows_reached"] >= 175
    windows = found.explanation["windows"]
    assert windows["runs_total"] == 1
    assert windows["count"] == found.magnitude["windows"]
    assert found.explanation["summary"].startswith("udp-reflection against 198.18.10.10")
