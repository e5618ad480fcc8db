"""The engine: every level reachable, unknown and contradictory facts give "cannot tell"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cyberpeace.law import assess, facts_from_dict, load_facts
from cyberpeace.mission import load_mandate

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "src" / "cyberpeace" / "law" / "examples" / "hospital-ddos.yaml"
DEMO = ROOT / "src" / "cyberpeace" / "mission" / "examples" / "demo.yaml"
WIPER: dict[str, Any] = {
    "victim": {"sector": "energy", "critical_infrastructure": True, "governmental_function": False},
    "effects": {
        "destruction": True,
        "disruption": True,
        "physical_damage": False,
        "injury_or_death": False,
        "data_altered_or_deleted": True,
    },
    "operation": {"type": "wiper", "without_right": True},
    "attribution": {"actor": {"value": "state-organ", "confidence": 0.9}},
    "intent": {"deliberate_targeting": True},
    "context": {"armed_conflict": "none", "nexus": False},
    "consent": False,
}


def _with(base: dict[str, Any], **groups: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for group, values in groups.items():
        out[group] = {**out.get(group, {}), **values}
    return out


def level(data: dict[str, Any], rule: str) -> str:
    return assess(facts_from_dict(data)).finding(rule).level


def test_every_level_is_reachable() -> None:
    assert level(WIPER, "tallinn-4") == "breached"
    moderate = _with(WIPER, attribution={"actor": {"value": "state-organ", "confidence": 0.6}})
    assert level(moderate, "tallinn-4") == "likely breached"
    weak = _with(WIPER, attribution={"actor": {"value": "state-organ", "confidence": 0.3}})
    assert level(weak, "tallinn-4") == "possibly breached"
    criminal = _with(WIPER, attribution={"actor": "non-state"})
    assert level(criminal, "tallinn-4") == "not engaged"
    unknown = _with(WIPER, attribution={"actor": "unknown"})
    assert level(unknown, "tallinn-4") == "cannot tell"


def test_unknown_facts_give_cannot_tell_with_the_missing_facts() -> None:
    found = assess(facts_from_dict({"effects": {"disruption": True}})).finding("gge-13f")
    assert found.level == "cannot tell"
    assert "attribution.actor" in found.missing
    assert "victim.critical_infrastructure" in found.missing


def test_a_partly_known_finding_names_what_would_raise_it() -> None:
    data = _with(WIPER, intent={"deliberate_targeting": "unknown", "indiscriminate": "unknown"})
    found = assess(facts_from_dict(data)).finding("gge-13f")
    assert found.level == "possibly breached"
    assert found.missing == ["intent.deliberate_targeting", "intent.indiscriminate"]


def test_contradictory_facts_are_set_aside() -> None:
    data = _with(
        WIPER,
        effects={
            "destruction": False,
            "data_altered_or_deleted": False,
            "disruption": False,
            "disruption_hours": 12,
            "data_theft": False,
        },
    )
    result = assess(facts_from_dict(data))
    assert any(c.startswith("disruption-duration") for c in result.contradictions)
    found = result.finding("tallinn-4")
    assert found.level == "cannot tell"
    assert "effects.disruption" in found.missing
    assert "effects.disruption" in found.contradicted


def test_consent_precludes_the_sovereignty_breach() -> None:
    assert level({**WIPER, "consent": True}, "tallinn-4") == "not engaged"


def test_use_of_force_and_armed_attack_with_schmitt_factors() -> None:
    data = _with(
        WIPER,
        effects={
            "physical_damage": True,
            "injury_or_death": True,
            "scale": "national",
            "immediate": True,
            "direct": True,
        },
        operation={"ongoing": True},
    )
    result = assess(facts_from_dict(data))
    armed = next(t for t in result.thresholds if t.question == "armed-attack")
    assert armed.level == "breached"
    factors = {f.factor: f.level for f in armed.factors}
    assert len(factors) == 8
    assert factors["severity"] == factors["immediacy"] == factors["state-involvement"] == "high"
    assert result.response("self-defence").status == "open"


def test_ihl_rules_apply_only_in_armed_conflict() -> None:
    medical = _with(WIPER, victim={"medical": True, "military_objective": False})
    assert level(medical, "tallinn-132") == "not engaged"
    war = _with(medical, context={"armed_conflict": "international", "nexus": True})
    result = assess(facts_from_dict(war))
    assert result.finding("tallinn-132").level == "breached"
    assert result.finding("tallinn-92").level == "likely breached"


def test_the_mandate_terms_and_the_responses() -> None:
    result = assess(load_facts(EXAMPLE), load_mandate(DEMO))
    term = result.finding("mandate-ceasefire-cyber-1")
    assert term.level == "likely breached"  # the attribution's confidence is 0.6
    assert "budapest-5" in result.offences
    assert result.response("countermeasures").status == "open"
    assert result.response("self-defence").status == "not open"
    assert result.response("mutual-assistance").status == "open"
    outside = _with(
        load_facts(EXAMPLE).model_dump(mode="json"),
        context={"occurred_at": "2026-01-01T00:00:00Z"},
    )
    before = assess(facts_from_dict(outside), load_mandate(DEMO))
    assert before.finding("mandate-ceasefire-cyber-1").level == "not engaged"


def test_the_assessment_round_trips_through_json() -> None:
    result = assess(load_facts(EXAMPLE))
    again = type(result).model_validate_json(result.model_dump_json())
    assert again == result
    assert again.knowledge_version.startswith("sha256:")


@pytest.mark.parametrize("rule", ["tallinn-69", "tallinn-71", "tallinn-92"])
def test_thresholds_are_reported(rule: str) -> None:
    result = assess(load_facts(EXAMPLE))
    assert rule in {t.rule for t in result.thresholds}
