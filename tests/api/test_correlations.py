"""GET /incidents/{id}/correlations and POST /incidents/{id}/indicators: success, 404, 403, and
a party seeing only what it may see; ``cyberpeace correlate``; STIX imports as intelligence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cyberpeace.cli import app as cli_app
from cyberpeace.config import Settings
from cyberpeace.share.stix_import import import_file
from cyberpeace.store import Store
from tests.api.conftest import API, Seed, TestClient

WHEN = {"first_seen": "2026-11-24T10:00:00Z", "last_seen": "2026-11-24T11:00:00Z"}
SHARED_C2 = {"kind": "domain", "value": "c2.evil.example"}


def report(
    client: TestClient, headers: dict[str, str], incident: int, *items: dict[str, str]
) -> Any:
    return client.post(
        f"{API}/incidents/{incident}/indicators",
        headers=headers,
        json={"indicators": list(items), **WHEN},
    )


@pytest.fixture
def linked(client: TestClient, staff: dict[str, str], seeded: Seed) -> Seed:
    """The hospital, elections, power and shared incidents all name the same C2 domain; the
    hospital and the power incident also share an address, seen inside a reported prefix."""
    for incident in (seeded.hospital, seeded.elections, seeded.power, seeded.shared):
        assert report(client, staff, incident, SHARED_C2).status_code == 201
    assert (
        report(client, staff, seeded.hospital, {"kind": "ipv4", "value": "203.0.113.9"}).status_code
        == 201
    )
    assert (
        report(
            client, staff, seeded.power, {"kind": "prefix", "value": "203.0.113.0/24"}
        ).status_code
        == 201
    )
    return seeded


def test_staff_see_every_correlation_ranked(
    client: TestClient, staff: dict[str, str], linked: Seed
) -> None:
    response = client.get(f"{API}/incidents/{linked.hospital}/correlations", headers=staff)
    assert response.status_code == 200
    body = response.json()
    assert body["incident_id"] == linked.hospital
    ids = [link["incident_id"] for link in body["incidents"]]
    assert set(ids) == {linked.elections, linked.power, linked.shared}
    assert ids[0] == linked.power  # the domain and the address inside its prefix
    power = body["incidents"][0]
    assert {(s["kind"], s["ours"], s["theirs"], s["relation"]) for s in power["shared"]} == {
        ("domain", "c2.evil.example", "c2.evil.example", "same"),
        ("address", "203.0.113.9", "203.0.113.0/24", "inside"),
    }
    scores = [link["score"] for link in body["incidents"]]
    assert scores == sorted(scores, reverse=True)


def test_a_party_sees_only_incidents_it_may_see(
    client: TestClient, arcadia: dict[str, str], borduria: dict[str, str], linked: Seed
) -> None:
    response = client.get(f"{API}/incidents/{linked.hospital}/correlations", headers=arcadia)
    assert response.status_code == 200
    ids = {link["incident_id"] for link in response.json()["incidents"]}
    # Arcadia's own elections incident and the one shared with it; not Borduria's power incident.
    assert ids == {linked.elections, linked.shared}
    response = client.get(f"{API}/incidents/{linked.power}/correlations", headers=borduria)
    assert {link["incident_id"] for link in response.json()["incidents"]} == {linked.shared}


def test_another_partys_incident_is_forbidden_and_unknown_is_not_found(
    client: TestClient, borduria: dict[str, str], staff: dict[str, str], linked: Seed
) -> None:
    response = client.get(f"{API}/incidents/{linked.hospital}/correlations", headers=borduria)
    assert response.status_code == 403
    assert report(client, borduria, linked.hospital, SHARED_C2).status_code == 403
    assert client.get(f"{API}/incidents/999999/correlations", headers=staff).status_code == 404
    assert client.get(f"{API}/incidents/0/correlations", headers=staff).status_code == 422
    assert client.get(f"{API}/incidents/{linked.hospital}/correlations").status_code == 401


def test_reported_indicators_refuse_bad_values_and_keep_good_ones(
    client: TestClient, arcadia: dict[str, str], seeded: Seed
) -> None:
    response = report(
        client,
        arcadia,
        seeded.hospital,
        {"kind": "ja3", "value": "E7D705A3286E19EA42F587B344EE6865"},
        {"kind": "ja3", "value": "not-hex"},
        {"kind": "planet", "value": "mars"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["added"] == 1
    assert len(body["refused"]) == 2
    assert "32 hexadecimal digits" in body["refused"][0]
    assert "unknown indicator kind" in body["refused"][1]
    too_many = {"indicators": [SHARED_C2] * 10_001, **WHEN}
    response = client.post(
        f"{API}/incidents/{seeded.hospital}/indicators", headers=arcadia, json=too_many
    )
    assert response.status_code == 422
    backwards = {
        "indicators": [SHARED_C2],
        "first_seen": WHEN["last_seen"],
        "last_seen": WHEN["first_seen"],
    }
    response = client.post(
        f"{API}/incidents/{seeded.hospital}/indicators", headers=arcadia, json=backwards
    )
    assert response.status_code == 422
    assert "before first_seen" in response.json()["detail"]


def test_stix_intelligence_is_linked_with_its_stix_id(
    client: TestClient, staff: dict[str, str], store: Store, linked: Seed, tmp_path: Path
) -> None:
    indicator_id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    bundle = {
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created": "2026-11-01T00:00:00.000Z",
                "modified": "2026-11-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '203.0.113.0/25']",
                "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00Z",
            }
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    assert import_file(store, path).reflected["indicator"] == 1
    body = client.get(f"{API}/incidents/{linked.hospital}/correlations", headers=staff).json()
    [intel] = body["intelligence"]
    assert intel["stix_ids"] == [indicator_id]
    assert intel["shared"] == [
        {"kind": "address", "ours": "203.0.113.9", "theirs": "203.0.113.0/25", "relation": "inside"}
    ]


def test_the_cli_prints_what_the_api_returns(
    client: TestClient,
    staff: dict[str, str],
    linked: Seed,
    settings: Settings,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CYBERPEACE_DATABASE_URL", store_url)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["correlate", str(linked.hospital), "--json"])
    assert result.exit_code == 0, result.output
    api = client.get(
        f"{API}/incidents/{linked.hospital}/correlations?limit=20", headers=staff
    ).json()
    assert json.loads(result.output) == api
    text = runner.invoke(cli_app, ["correlate", str(linked.hospital)])
    assert text.exit_code == 0
    assert f"incident {linked.power}" in text.output
    assert "address 203.0.113.9 inside 203.0.113.0/24" in text.output
    missing = runner.invoke(cli_app, ["correlate", "999999"])
    assert missing.exit_code == 1
    assert "no incident 999999" in missing.output
