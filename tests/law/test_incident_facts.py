"""Facts from an incident's detections and safe area, and the facts analysts set over them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cyberpeace.detect.registry import registered
from cyberpeace.law import (
    DetectionRecord,
    FactsError,
    IncidentRecord,
    SafeAreaRecord,
    assignments,
    facts_from_flat,
    incident_facts,
    parse_overrides,
)
from cyberpeace.law.incident_facts import table
from cyberpeace.mission.vocabulary import vocabulary

T0 = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
HOSPITAL = SafeAreaRecord(
    "arcadia-central-hospital", "Arcadia Central Hospital", "health", "critical"
)
MEDIA = SafeAreaRecord("arcadia-broadcaster", "Arcadia TV", "media", "medium")


def seen(
    ident: int, kind: str, minutes: tuple[int, int], confidence: float = 0.9
) -> DetectionRecord:
    start, end = (T0 + timedelta(minutes=m) for m in minutes)
    return DetectionRecord(ident, kind, "198.18.10.10", start, end, confidence)


def incident(
    *detections: DetectionRecord, area: SafeAreaRecord | None = HOSPITAL
) -> IncidentRecord:
    return IncidentRecord(1, "t", "arcadia", T0, area, list(detections))


def test_the_table_covers_every_sector_and_every_registered_detector() -> None:
    assert set(table().sectors) == set(vocabulary().sectors)
    import cyberpeace.detect  # noqa: F401  (registers the built-in detectors)

    assert {d.kind for d in registered().values()} <= set(table().kinds)
    conduct = set(vocabulary().conduct)
    assert all(set(k.conduct) <= conduct for k in table().kinds.values())


def test_a_reflection_flood_on_a_hospital() -> None:
    facts = incident_facts(incident(seen(7, "udp-reflection", (0, 30), confidence=0.97)))
    assert facts["operation.type"].value == "ddos"
    assert facts["operation.techniques"].value == ["T1498.002"]
    assert facts["operation.conduct"].value == ["ddos"]
    assert facts["effects.disruption"].source == "detection 7 (udp-reflection)"
    assert (
        facts["effects.disruption"].confidence == table().kinds["udp-reflection"].effects_confidence
    )
    assert facts["effects.disruption_hours"].value == 0.5
    assert facts["effects.essential_services_affected"].value is True
    assert facts["victim.medical"].value is True
    assert facts["victim.critical_infrastructure"].source.endswith("criticality critical")
    assert facts["victim.safe_area_id"].value == HOSPITAL.id
    assert facts["context.occurred_at"].value == T0
    assert not any(path.startswith(("attribution.", "intent.", "origin.")) for path in facts)
    facts_from_flat(facts)  # valid against the schema


def test_overlapping_floods_count_their_time_once_and_the_weaker_detection_caps_nothing() -> None:
    facts = incident_facts(
        incident(
            seen(1, "volumetric-flood", (0, 20), confidence=0.6),
            seen(2, "udp-reflection", (10, 40)),
            seen(3, "syn-flood", (60, 70)),
        )
    )
    assert facts["effects.disruption_hours"].value == pytest.approx(50 / 60, abs=1e-3)
    assert facts["effects.disruption_hours"].source.startswith("detections 1, 2, 3")
    assert facts["operation.techniques"].value == ["T1498.001", "T1498.002", "T1499.001"]
    assert facts["effects.disruption"].source == "detection 2 (udp-reflection)"


def test_a_scan_shows_the_operation_but_no_effects() -> None:
    facts = incident_facts(incident(seen(4, "port-scan", (0, 4)), seen(5, "host-sweep", (5, 9))))
    assert facts["operation.type"].value == "scanning"
    assert facts["operation.techniques"].value == ["T1046", "T1595", "T1595.001"]
    assert not any(path.startswith("effects.") for path in facts)


def test_a_scan_then_a_flood_is_named_for_the_flood() -> None:
    facts = incident_facts(incident(seen(4, "port-scan", (0, 4)), seen(5, "icmp-flood", (5, 9))))
    assert facts["operation.type"].value == "ddos"
    assert facts["operation.conduct"].value == ["ddos", "scanning"]


def test_brute_force_is_an_intrusion_only_possibly() -> None:
    facts = incident_facts(incident(seen(9, "brute-force", (0, 60))))
    assert facts["operation.type"].value == "intrusion"
    assert facts["operation.type"].confidence < 0.5


def test_outside_any_safe_area_and_in_a_non_essential_sector() -> None:
    outside = incident_facts(incident(seen(1, "syn-flood", (0, 5)), area=None))
    assert outside["victim.safe_area"].value is False
    assert "victim.sector" not in outside
    assert outside["effects.scale"].confidence < 0.8
    media = incident_facts(incident(seen(1, "syn-flood", (0, 5)), area=MEDIA))
    assert media["effects.essential_services_affected"].value is False
    assert media["victim.critical_infrastructure"].value is False


def test_a_reported_incident_without_detections_shows_only_its_victim() -> None:
    facts = incident_facts(incident(area=None))
    assert set(facts) == {"victim.party", "context.occurred_at"}
    assert facts["victim.party"].source == "incident report of arcadia"


def test_overrides_carry_the_analyst_as_source() -> None:
    found = parse_overrides(
        {
            "victim.cert": True,
            "attribution.actor": {"value": "state-organ", "confidence": 0.6},
            "consent": None,
        },
        "ana",
    )
    assert found["victim.cert"] is not None
    assert found["victim.cert"].source == "analyst:ana"
    assert found["attribution.actor"] is not None
    assert found["attribution.actor"].confidence == 0.6
    assert found["consent"] is None


@pytest.mark.parametrize(
    ("given", "path", "message"),
    [
        ({"victim.nope": 1}, "victim.nope", "no such fact"),
        ({"effects.disruption": "maybe"}, "effects.disruption", "valid boolean"),
        (
            {"victim.cert": {"value": True, "source": "x"}},
            "victim.cert",
            "only value and confidence",
        ),
        ({"operation.techniques": ["T1"] * 51}, "operation.techniques", "more than 50"),
        ({"attribution.basis": {"value": {"a": 1}}}, "attribution.basis", "cannot be a mapping"),
    ],
)
def test_bad_overrides_name_the_fact(given: dict[str, object], path: str, message: str) -> None:
    with pytest.raises(FactsError) as raised:
        parse_overrides(given, "ana")
    [(where, why)] = raised.value.problems
    assert where == path
    assert message in why


def test_assignments_read_values_as_yaml() -> None:
    assert assignments(["effects.disruption_hours=3", "victim.cert=null", "x=[T1498]"]) == {
        "effects.disruption_hours": 3,
        "victim.cert": None,
        "x": ["T1498"],
    }
    with pytest.raises(FactsError, match="expected FACT=VALUE"):
        assignments(["victim.cert"])
