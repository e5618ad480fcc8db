"""Legal assessments over the API: made from the incident, versioned, facts set by analysts,
each version saying what changed and who changed it; refused requests write nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cyberpeace.law import load_knowledge
from cyberpeace.store import Store, add_detection, file_detection
from cyberpeace.store.tables import AssessmentRow, AuditRow
from tests.api.conftest import API, T0, Seed, TestClient, Tokens, detection


def url(incident: int, many: bool = False) -> str:
    return f"{API}/incidents/{incident}/assessment{'s' if many else ''}"


def written(store: Store) -> tuple[int, int]:
    """How many assessments and audit entries the store holds."""
    with store.session() as session:
        rows = session.scalar(select(func.count()).select_from(AssessmentRow))
        entries = session.scalar(select(func.count()).select_from(AuditRow))
    return int(rows or 0), int(entries or 0)


def post(client: TestClient, headers: dict[str, str], incident: int, **body: Any) -> Any:
    return client.post(url(incident), json=body, headers=headers)


def fact(body: dict[str, Any], path: str) -> dict[str, Any]:
    group, _, name = path.partition(".")
    found: dict[str, Any] = body["facts"][group][name] if name else body["facts"][group]
    return found


def finding(body: dict[str, Any], rule: str) -> dict[str, Any]:
    everything = [*body["assessment"]["mandate"], *body["assessment"]["findings"]]
    return next(f for f in everything if f["rule"] == rule)


def test_staff_assess_an_incident_from_its_detections(
    client: TestClient, store: Store, staff: dict[str, str], tokens: Tokens, seeded: Seed
) -> None:
    before = written(store)
    response = post(client, staff, seeded.hospital)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["incident_id"] == seeded.hospital
    assert body["version"] == 1
    assert body["created_by"] == tokens.staff_actor
    assert body["knowledge_version"] == load_knowledge().version
    assert body["assessment"]["knowledge_version"] == body["knowledge_version"]

    # Facts from the detections (both udp-reflection, five minutes each, ten minutes apart).
    assert fact(body, "operation.type")["value"] == "ddos"
    assert fact(body, "operation.type")["source"].startswith("detection ")
    assert fact(body, "operation.techniques")["value"] == ["T1498.002"]
    assert fact(body, "effects.disruption")["value"] is True
    assert fact(body, "effects.disruption_hours")["value"] == pytest.approx(10 / 60, abs=1e-3)
    assert fact(body, "victim.safe_area_id") == {
        "value": "arcadia-central-hospital",
        "source": "mandate (safe area arcadia-central-hospital)",
    }
    assert fact(body, "victim.medical")["value"] is True
    assert "attribution" not in body["facts"], "attribution is never guessed from traffic"

    # The term binds a party the conduct is not attributed to yet; Budapest Art. 5 matches.
    assert finding(body, "mandate-ceasefire-cyber-1")["level"] == "cannot tell"
    assert "attribution.party" in finding(body, "mandate-ceasefire-cyber-1")["missing"]
    assert finding(body, "budapest-5")["level"] == "breached"
    assert {r["option"] for r in body["assessment"]["responses"]} >= {"countermeasures"}

    changed = {c["fact"] for c in body["changes"]}
    assert {"operation.type", "effects.disruption", "victim.party"} <= changed
    assert all(c["from"] is None and c["by"] == tokens.staff_actor for c in body["changes"])
    assert written(store) == (before[0] + 1, before[1] + 1)

    entries = client.get(f"{API}/audit", params={"after": before[1]}, headers=staff).json()
    assert [(e["action"], e["subject"]) for e in entries] == [
        ("assessment.create", f"incident:{seeded.hospital}")
    ]
    latest = client.get(url(seeded.hospital), headers=staff)
    assert latest.status_code == 200
    assert latest.json() == body


def test_assessing_again_without_changes_writes_no_new_version(
    client: TestClient, store: Store, staff: dict[str, str], seeded: Seed
) -> None:
    first = post(client, staff, seeded.hospital).json()
    before = written(store)
    again = post(client, staff, seeded.hospital)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == first["version"] == 1
    assert written(store) == before


def test_an_analysts_facts_make_a_version_that_records_them(
    client: TestClient, store: Store, staff: dict[str, str], tokens: Tokens, seeded: Seed
) -> None:
    post(client, staff, seeded.hospital)
    attribution = {"attribution.party": {"value": "borduria", "confidence": 0.7}}
    response = post(client, staff, seeded.hospital, facts=attribution, reason="traceback")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["changes"] == [
        {
            "fact": "attribution.party",
            "from": None,
            "to": {
                "value": "borduria",
                "source": f"analyst:{tokens.staff_actor}",
                "confidence": 0.7,
            },
            "by": tokens.staff_actor,
            "reason": "traceback",
        }
    ]
    term = finding(body, "mandate-ceasefire-cyber-1")
    assert term["level"] == "likely breached", "confidence 0.7 caps it below breached"
    assert any("analyst:" in reason for reason in term["reasons"])

    versions = client.get(url(seeded.hospital, many=True), headers=staff).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert "facts" not in versions[0]
    first = client.get(url(seeded.hospital), params={"version": 1}, headers=staff).json()
    assert finding(first, "mandate-ceasefire-cyber-1")["level"] == "cannot tell"

    withdrawn = post(client, staff, seeded.hospital, facts={"attribution.party": None})
    assert withdrawn.status_code == 201, withdrawn.text
    assert withdrawn.json()["version"] == 3
    assert [c["to"] for c in withdrawn.json()["changes"]] == [None]
    assert finding(withdrawn.json(), "mandate-ceasefire-cyber-1")["level"] == "cannot tell"


def test_new_detections_change_the_facts_but_keep_the_analysts(
    client: TestClient, store: Store, staff: dict[str, str], tokens: Tokens, seeded: Seed
) -> None:
    post(client, staff, seeded.hospital, facts={"effects.injury_or_death": False})
    with store.session() as session:
        row = add_detection(
            session,
            detection(
                "198.18.10.5", "arcadia", "arcadia-central-hospital", T0 + timedelta(minutes=20)
            ),
        )
        incident = file_detection(session, row, tlp="TLP:AMBER")
        assert incident is not None
        assert incident.id == seeded.hospital
    response = post(client, staff, seeded.hospital)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 2
    assert fact(body, "effects.injury_or_death")["value"] is False
    assert fact(body, "effects.disruption_hours")["value"] == pytest.approx(15 / 60, abs=1e-3)
    changed = {c["fact"] for c in body["changes"]}
    assert "effects.disruption_hours" in changed
    assert "effects.injury_or_death" not in changed


def test_a_party_reads_the_assessment_of_its_own_and_shared_incidents(
    client: TestClient, staff: dict[str, str], arcadia: dict[str, str], seeded: Seed
) -> None:
    for incident in (seeded.hospital, seeded.shared):
        assert post(client, staff, incident).status_code == 201
        response = client.get(url(incident), headers=arcadia)
        assert response.status_code == 200, response.text
        assert response.json()["incident_id"] == incident
        assert client.get(url(incident, many=True), headers=arcadia).status_code == 200


@pytest.mark.parametrize(
    ("method", "many"), [("GET", False), ("GET", True), ("POST", False)], ids=str
)
def test_no_token_is_401(client: TestClient, seeded: Seed, method: str, many: bool) -> None:
    response = client.request(method, url(seeded.hospital, many), json={})
    assert response.status_code == 401
    assert response.json() == {"detail": "missing bearer token"}


@pytest.mark.parametrize("many", [False, True])
def test_another_partys_assessment_is_403(
    client: TestClient, staff: dict[str, str], borduria: dict[str, str], seeded: Seed, many: bool
) -> None:
    post(client, staff, seeded.hospital)
    response = client.get(url(seeded.hospital, many), headers=borduria)
    assert response.status_code == 403
    assert "is not shared with you" in response.json()["detail"]


def test_a_party_may_not_assess_even_its_own_incident(
    client: TestClient, store: Store, arcadia: dict[str, str], seeded: Seed
) -> None:
    before = written(store)
    response = post(client, arcadia, seeded.hospital, facts={"victim.cert": True})
    assert response.status_code == 403
    assert response.json() == {"detail": "this needs a mission staff token"}
    assert written(store) == before


def test_unknown_incident_and_unassessed_incident_are_404(
    client: TestClient, store: Store, staff: dict[str, str], seeded: Seed
) -> None:
    before = written(store)
    for response in (
        client.get(url(999_999), headers=staff),
        client.get(url(999_999, many=True), headers=staff),
        post(client, staff, 999_999),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "no incident 999999"}
    unassessed = client.get(url(seeded.power), headers=staff)
    assert unassessed.status_code == 404
    assert unassessed.json() == {"detail": f"incident {seeded.power} has not been assessed yet"}
    post(client, staff, seeded.power)
    missing = client.get(url(seeded.power), params={"version": 7}, headers=staff)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"incident {seeded.power} has no assessment version 7"}
    assert written(store)[0] == before[0] + 1


MALFORMED: dict[str, tuple[Any, list[Any], str]] = {
    "an unknown fact": (
        {"facts": {"effects.nope": True}},
        ["body", "facts", "effects.nope"],
        "no such fact",
    ),
    "a value of the wrong type": (
        {"facts": {"effects.disruption_hours": "long"}},
        ["body", "facts", "effects.disruption_hours"],
        "valid number",
    ),
    "a confidence above one": (
        {"facts": {"victim.cert": {"value": True, "confidence": 1.5}}},
        ["body", "facts", "victim.cert.confidence"],
        "less than or equal to 1",
    ),
    "a source of one's own": (
        {"facts": {"victim.cert": {"value": True, "source": "me"}}},
        ["body", "facts", "victim.cert"],
        "only value and confidence",
    ),
    "an unknown technique": (
        {"facts": {"operation.techniques": ["X1"]}},
        ["body", "facts", "operation.techniques[0]"],
        "not an ATT&CK technique",
    ),
    "a NUL in text": (
        {"facts": {"attribution.basis": "a\x00b"}},
        ["body", "facts", "attribution.basis"],
        "NUL",
    ),
    "oversized text": (
        {"facts": {"attribution.basis": "x" * 5000}},
        ["body", "facts", "attribution.basis"],
        "longer than 2000",
    ),
    "facts that are not a mapping": ({"facts": ["victim.cert"]}, ["body", "facts"], "dictionary"),
    "too many facts": (
        {"facts": {f"f{i}": True for i in range(101)}},
        ["body", "facts"],
        "at most 100",
    ),
    "an unknown field": ({"facts": {}, "version": 3}, ["body", "version"], "Extra inputs"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=str)
def test_a_malformed_body_is_422_naming_the_field_and_writes_nothing(
    client: TestClient, store: Store, staff: dict[str, str], seeded: Seed, case: str
) -> None:
    body, loc, message = MALFORMED[case]
    post(client, staff, seeded.hospital)
    before = written(store)
    response = client.post(url(seeded.hospital), json=body, headers=staff)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors][:1] == [loc]
    assert message in errors[0]["msg"]
    assert written(store) == before
