"""Attribution records: the scale, the bases and their weights, the audit, the legal facts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyberpeace.investigate.attribution import (
    AttributionDraft,
    AttributionError,
    Basis,
    basis,
    check,
    scale,
    weighted_support,
)
from cyberpeace.store import (
    SYSTEM,
    Forbidden,
    NotFound,
    Store,
    Viewer,
    add_attribution,
    assess_incident,
    derive_technical,
    list_attributions,
    revise_attribution,
)
from cyberpeace.store import audit as audit
from tests.investigate.planted import plant

ANALYST = Viewer("staff", name="analyst-ana")


def _responsibility(**changes: object) -> AttributionDraft:
    fields: dict[str, object] = {
        "kind": "responsibility",
        "candidate": "borduria",
        "confidence": "moderate",
        "bases": (basis("infrastructure"), basis("government-statements", 0.7, "Arcadia MFA")),
        "actor": "state-directed",
        "state": "XB",
        "party": "borduria",
        "raise_if": "a second state's statement; tooling shared with known Bordurian units",
        "lower_if": "the /24 found to be a rented proxy pool",
    }
    return AttributionDraft(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_scale_is_documented_and_ordered() -> None:
    levels = scale().scale
    assert list(levels) == ["low", "moderate", "high"]
    numbers = [level.fact_confidence for level in levels.values()]
    assert numbers == sorted(numbers)
    assert all(len(level.definition) > 40 for level in levels.values())
    assert set(scale().bases) == {
        "technical-indicators",
        "infrastructure",
        "tooling",
        "behaviour",
        "political-context",
        "claims",
        "government-statements",
        "third-party-statements",
    }


def test_a_basis_takes_the_default_weight_of_its_kind() -> None:
    assert basis("tooling").weight == scale().bases["tooling"].weight
    assert basis("claims", 0.9).weight == 0.9
    assert weighted_support([Basis("a", 0.5), Basis("b", 0.5)]) == 0.75


@pytest.mark.parametrize(
    ("kind", "weight", "message"),
    [
        ("horoscope", None, "unknown basis kind 'horoscope'"),
        ("tooling", 1.5, "weight 1.5 is outside 0.0 to 1.0"),
        ("tooling", -0.1, "weight -0.1 is outside"),
        ("tooling", float("nan"), "weight must be a number"),
        ("tooling", True, "weight must be a number"),
    ],
)
def test_a_bad_basis_is_refused_by_name(kind: str, weight: float | None, message: str) -> None:
    with pytest.raises(AttributionError, match=message):
        basis(kind, weight)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"confidence": "certain"}, "unknown confidence 'certain'"),
        ({"kind": "rumour"}, "unknown attribution kind 'rumour'"),
        ({"bases": ()}, "at least one basis"),
        ({"bases": (Basis("horoscope", 0.5),)}, "unknown basis kind"),
        ({"bases": (Basis("tooling", 2.0),)}, "weight 2.0 is outside"),
        ({"actor": "aliens"}, "unknown actor 'aliens'"),
        ({"candidate": " "}, "candidate must be"),
        ({"summary": "a\x00b"}, "summary must not contain NUL"),
        ({"kind": "technical"}, "a technical attribution names where"),
    ],
)
def test_an_unsound_draft_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(AttributionError, match=message):
        check(_responsibility(**changes))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_weight_is_accepted_only_within_the_range(weight: float) -> None:
    if 0.0 <= weight <= 1.0:
        assert basis("behaviour", weight).weight == weight
    else:
        with pytest.raises(AttributionError, match="weight"):
            basis("behaviour", weight)


def test_an_attribution_is_stored_revised_and_audited(store: Store) -> None:
    planted = plant(store)
    incident = planted.hospital_campaign[0]
    with store.session() as session:
        row = add_attribution(session, ANALYST, incident, _responsibility())
        attribution_id = row.id
    with store.session() as session:
        revise_attribution(
            session, ANALYST, attribution_id, _responsibility(confidence="high"), "second source"
        )
    with store.session() as session:
        (stored,) = list_attributions(session, SYSTEM, incident)
        assert (stored.confidence, stored.version, stored.created_by) == ("high", 2, "analyst-ana")
        assert stored.bases[1] == {
            "kind": "government-statements",
            "weight": 0.7,
            "detail": "Arcadia MFA",
        }
        entries = audit.entries(session, subject=f"attribution:{attribution_id}")
        assert [e.action for e in entries] == ["attribution.create", "attribution.revise"]
        change = json.loads(entries[1].detail)
        assert change["changes"]["confidence"] == {"from": "moderate", "to": "high"}
        assert change["reason"] == "second source"
        assert audit.verify(session).ok


def test_refusals_name_the_problem_and_store_nothing(store: Store) -> None:
    planted = plant(store)
    with store.session() as session, pytest.raises(NotFound, match="no incident 9999"):
        add_attribution(session, ANALYST, 9999, _responsibility())
    with store.session() as session, pytest.raises(Forbidden):
        add_attribution(
            session, Viewer("party", party_id="arcadia"), planted.unrelated[0], _responsibility()
        )
    with store.session() as session, pytest.raises(AttributionError, match="weight 3"):
        add_attribution(
            session, ANALYST, planted.unrelated[0], _responsibility(bases=(Basis("claims", 3),))
        )
    with store.session() as session:
        assert list_attributions(session, SYSTEM, planted.unrelated[0]) == []


def test_the_technical_attribution_comes_from_the_traceback(store: Store) -> None:
    planted = plant(store)
    with store.session() as session:
        row = derive_technical(session, SYSTEM, planted.hospital_campaign[0])
        assert row is not None
        assert (row.kind, row.party, row.state, row.actor) == ("technical", "borduria", "XB", None)
        assert row.bases[0]["kind"] == "technical-indicators"
        # Derived again with the same traceback: the same record, not a new one.
        assert derive_technical(session, SYSTEM, planted.hospital_campaign[0]) is row
        # No party holds the unrelated incidents' sources: nothing to attribute.
        assert derive_technical(session, SYSTEM, planted.unrelated[0]) is None


def test_the_legal_engine_reads_origin_and_responsibility_apart(store: Store) -> None:
    planted = plant(store)
    incident = planted.hospital_campaign[0]
    with store.session() as session:
        derive_technical(session, SYSTEM, incident)
        add_attribution(session, ANALYST, incident, _responsibility())
        facts = assess_incident(session, ANALYST, incident).facts
    assert facts["origin"]["state"]["value"] == "XB"
    assert facts["origin"]["state"]["source"].endswith("(technical)")
    held = facts["attribution"]
    assert held["actor"]["value"] == "state-directed"
    assert held["actor"]["confidence"] == scale().scale["moderate"].fact_confidence
    assert held["party"]["value"] == "borduria"
    assert held["basis"]["value"] == "government-statements, infrastructure"
