"""The attribution and patterns routes: success, refusal with a clear message, 404, 403."""

from __future__ import annotations

from typing import Any

from cyberpeace.store import Store
from tests.api.conftest import API, TestClient
from tests.investigate.planted import plant

BODY: dict[str, Any] = {
    "candidate": "borduria",
    "confidence": "moderate",
    "actor": "state-directed",
    "state": "XB",
    "party": "borduria",
    "bases": [{"kind": "infrastructure"}, {"kind": "tooling", "weight": 0.8, "detail": "loader"}],
    "raise_if": "a matching sample from a Bordurian network",
}


def test_staff_record_list_and_revise_an_attribution(
    client: TestClient, store: Store, staff: dict[str, str], arcadia: dict[str, str]
) -> None:
    incident = plant(store).hospital_campaign[0]
    created = client.post(f"{API}/incidents/{incident}/attributions", json=BODY, headers=staff)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["bases"][0] == {"kind": "infrastructure", "weight": 0.5, "detail": ""}
    revised = client.put(
        f"{API}/attributions/{record['id']}",
        json={**BODY, "confidence": "high", "reason": "second sample"},
        headers=staff,
    )
    assert revised.status_code == 200, revised.text
    assert (revised.json()["confidence"], revised.json()["version"]) == ("high", 2)
    seen = client.get(f"{API}/incidents/{incident}/attributions", headers=arcadia)
    assert [r["confidence"] for r in seen.json()] == ["high"]


def test_unsound_attributions_are_refused_with_the_reason(
    client: TestClient, store: Store, staff: dict[str, str]
) -> None:
    incident = plant(store).hospital_campaign[0]
    url = f"{API}/incidents/{incident}/attributions"
    cases = [
        ({**BODY, "bases": [{"kind": "astrology"}]}, "unknown basis kind 'astrology'"),
        ({**BODY, "bases": [{"kind": "claims", "weight": 7}]}, "weight 7.0 is outside"),
        ({**BODY, "confidence": "sure"}, "unknown confidence 'sure'"),
    ]
    for body, message in cases:
        response = client.post(url, json=body, headers=staff)
        assert response.status_code == 422
        assert message in response.json()["detail"]
    assert client.post(url, json={**BODY, "bases": "x"}, headers=staff).status_code == 422
    assert client.get(url, headers=staff).json() == []


def test_unknown_incident_other_party_and_party_writes(
    client: TestClient,
    store: Store,
    staff: dict[str, str],
    arcadia: dict[str, str],
    borduria: dict[str, str],
) -> None:
    incident = plant(store).hospital_campaign[0]
    missing = client.post(f"{API}/incidents/99999/attributions", json=BODY, headers=staff)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no incident 99999"
    url = f"{API}/incidents/{incident}/attributions"
    assert client.get(url, headers=borduria).status_code == 403
    assert client.post(url, json=BODY, headers=arcadia).status_code == 403


def test_the_technical_attribution_and_the_patterns(
    client: TestClient, store: Store, staff: dict[str, str], borduria: dict[str, str]
) -> None:
    planted = plant(store)
    derived = client.post(
        f"{API}/incidents/{planted.hospital_campaign[0]}/attributions/technical", headers=staff
    )
    assert derived.json()["kind"] == "technical"
    assert derived.json()["party"] == "borduria"
    report = client.get(f"{API}/patterns", headers=staff).json()
    assert [c["members"] for c in report["campaigns"]] == [
        planted.hospital_campaign,
        planted.election_campaign,
    ]
    assert report["source_countries"][0] == {"value": "XB", "incidents": 5}
    theirs = client.get(f"{API}/patterns", headers=borduria).json()
    assert theirs["incidents"] == 0
    assert client.get(f"{API}/patterns?since=2026-01-01", headers=staff).status_code == 422
