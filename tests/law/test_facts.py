"""The facts model: bare and full facts, unknown as a value, errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberpeace.law import FactsError, facts_from_dict, load_facts

EXAMPLE = (
    Path(__file__).parents[2] / "src" / "cyberpeace" / "law" / "examples" / "hospital-ddos.yaml"
)


def test_the_example_loads_with_sources_and_confidence() -> None:
    facts = load_facts(EXAMPLE)
    actor = facts.fact("attribution.actor")
    assert actor.value == "state-directed"
    assert actor.confidence == 0.6
    assert "traceback" in actor.source
    assert not facts.fact("effects.injury_or_death").known


def test_an_empty_file_is_all_unknown() -> None:
    facts = facts_from_dict({})
    assert facts.fact("effects.physical_damage").value == "unknown"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"effects": {"disruption_hours": -1}}, "effects.disruption_hours"),
        ({"effects": {"physical_damage": "maybe"}}, "effects.physical_damage"),
        ({"victim": {"sector": "spaceflight"}}, "victim.sector"),
        ({"attribution": {"actor": "aliens"}}, "attribution.actor"),
        ({"effects": {"scale": {"value": "global", "confidence": 2}}}, "effects.scale.confidence"),
        ({"operation": {"techniques": ["X1"]}}, "operation.techniques[0]"),
        ({"victim": {"colour": "red"}}, "victim.colour"),
    ],
)
def test_a_bad_field_is_named(data: dict[str, object], path: str) -> None:
    with pytest.raises(FactsError) as caught:
        facts_from_dict(data)
    assert [p for p, _ in caught.value.problems] == [path]


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "facts.yaml"
    bad.write_text("effects: {physical_damage: [\n")
    with pytest.raises(FactsError, match="not valid YAML"):
        load_facts(bad)
