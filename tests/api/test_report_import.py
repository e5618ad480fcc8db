"""Parties file incidents from STIX 2.1 bundles and MISP events over HTTP (POST
/incidents/import), on SQLite and PostgreSQL: filed, updated, correlated, in the timeline; another
party's incident refused (403); bad input refused with its reason and nothing half-stored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from cyberpeace.store import SYSTEM, Store, share_incident
from cyberpeace.store.case_tables import StixIncidentRow
from cyberpeace.store.correlation_tables import IncidentIndicatorRow
from cyberpeace.store.misp_events import MispEventRow
from cyberpeace.store.tables import IncidentRow, StixObjectRow
from tests.api.conftest import API, TestClient
from tests.investigate.test_evidence_export import lose_connection_at_commit
from tests.share.test_misp_import import DATA

STIX = {"Content-Type": "application/stix+json;version=2.1"}
MISP = {"Content-Type": "application/json"}
INCIDENT = "incident--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e001"
INDICATOR = "indicator--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e002"
DOMAIN = "domain-name--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e003"
OBSERVED = "observed-data--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e004"
SIGHTING = "sighting--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e005"
MADE = "2026-11-20T10:00:00.000Z"


def bundle(name: str = "NTP reflection against the water utility") -> dict[str, Any]:
    common = {"spec_version": "2.1", "created": MADE, "modified": MADE}
    return {
        "type": "bundle",
        "id": "bundle--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e000",
        "objects": [
            {"type": "incident", "id": INCIDENT, "name": name, "description": "Seen by us."}
            | common,
            {
                "type": "indicator",
                "id": INDICATOR,
                "pattern": "[ipv4-addr:value = '203.0.113.7']",
                "pattern_type": "stix",
                "valid_from": MADE,
            }
            | common,
            {"type": "domain-name", "spec_version": "2.1", "id": DOMAIN, "value": "Booter.Example"},
            {
                "type": "observed-data",
                "id": OBSERVED,
                "first_observed": "2026-11-20T08:00:00Z",
                "last_observed": "2026-11-20T09:30:00Z",
                "number_observed": 40,
                "object_refs": [DOMAIN],
            }
            | common,
            {
                "type": "sighting",
                "id": SIGHTING,
                "sighting_of_ref": INDICATOR,
                "first_seen": "2026-11-20T08:05:00Z",
                "last_seen": "2026-11-20T09:00:00Z",
            }
            | common,
        ],
    }


def post(client: TestClient, body: Any, headers: dict[str, str], **params: str) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"{API}/incidents/import", content=content, headers=headers, params=params)


def counts(store: Store) -> tuple[int, ...]:
    with store.session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (
                IncidentRow,
                IncidentIndicatorRow,
                StixObjectRow,
                StixIncidentRow,
                MispEventRow,
            )
        )


def test_a_party_files_a_stix_bundle_and_a_misp_event_that_correlate(
    client: TestClient, store: Store, arcadia: dict[str, str]
) -> None:
    made = post(client, bundle(), {**arcadia, **STIX})
    assert made.status_code == 201, made.text
    [filed] = made.json()
    assert filed["outcome"] == "created"
    assert filed["source"] == f"stix:{INCIDENT}"
    assert filed["added"] == 2  # the indicator's address and the observed domain
    incident = client.get(f"{API}/incidents/{filed['incident_id']}", headers=arcadia).json()
    assert incident["party_id"] == "arcadia"
    assert incident["reported_by"] == "party:arcadia"
    assert incident["title"] == "NTP reflection against the water utility"
    assert incident["first_seen"].startswith("2026-11-20T08:00:00")  # the observed data's span
    assert incident["last_seen"].startswith("2026-11-20T09:30:00")
    timeline = client.get(f"{API}/incidents/{filed['incident_id']}/timeline", headers=arcadia)
    reports = [e for e in timeline.json() if e["kind"] == "report"]
    assert len(reports) == 2  # the incident reported by the party, and the filing note
    assert any("STIX bundle bundle--" in e["summary"] for e in reports)

    event = (DATA / "misp_event.json").read_bytes()
    misp = post(client, event, {**arcadia, **MISP})
    assert misp.status_code == 201, misp.text
    [from_misp] = misp.json()
    assert from_misp["outcome"] == "created"
    assert from_misp["added"] > 5
    with store.session() as session:
        kept = session.get(MispEventRow, from_misp["source"].removeprefix("misp:"))
        assert kept is not None
        assert kept.incident_id == from_misp["incident_id"]
    correlated = client.get(
        f"{API}/incidents/{filed['incident_id']}/correlations", headers=arcadia
    ).json()
    linked = {link["incident_id"]: link for link in correlated["incidents"]}
    assert from_misp["incident_id"] in linked
    shared = {(v["kind"], v["ours"]) for v in linked[from_misp["incident_id"]]["shared"]}
    assert ("address", "203.0.113.7") in shared
    assert ("domain", "booter.example") in shared


def test_the_same_stix_incident_again_updates_its_incident(
    client: TestClient, store: Store, arcadia: dict[str, str]
) -> None:
    first = post(client, bundle(), {**arcadia, **STIX}).json()[0]
    later = bundle("NTP reflection against the water utility, second wave")
    later["objects"][1]["pattern"] = "[ipv4-addr:value = '203.0.113.80']"
    again = post(client, later, {**arcadia, **STIX})
    assert again.status_code == 201, again.text
    [second] = again.json()
    assert second["outcome"] == "updated"
    assert second["incident_id"] == first["incident_id"]
    assert second["added"] == 1  # the new address; the domain is seen again
    assert second["widened"] == 1
    incident = client.get(f"{API}/incidents/{first['incident_id']}", headers=arcadia).json()
    assert incident["title"].endswith("second wave")
    notes = client.get(f"{API}/incidents/{first['incident_id']}/notes", headers=arcadia).json()
    assert [n["body"].split(" from ")[0] for n in notes] == ["Report created", "Report updated"]
    assert counts(store)[0] == 1 + counts_before_seed(store)


def counts_before_seed(store: Store) -> int:
    """Incidents other than those filed from reports (none: these tests seed nothing)."""
    with store.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IncidentRow)
                .where(~IncidentRow.id.in_(select(StixIncidentRow.incident_id)))
            )
            or 0
        )


def test_a_party_files_for_itself_only(
    client: TestClient,
    store: Store,
    arcadia: dict[str, str],
    borduria: dict[str, str],
    staff: dict[str, str],
) -> None:
    for_other = post(client, bundle(), {**borduria, **STIX}, party="arcadia")
    assert for_other.status_code == 403
    assert counts(store) == (0, 0, 0, 0, 0)
    filed = post(client, bundle(), {**arcadia, **STIX}).json()[0]
    taken = post(client, bundle("Borduria says it is theirs"), {**borduria, **STIX})
    assert taken.status_code == 403
    assert "filed by another party" in taken.json()["detail"]
    event = (DATA / "misp_event.json").read_bytes()
    from_misp = post(client, event, {**arcadia, **MISP}).json()[0]
    with store.session() as session:  # borduria may see it, but it is not borduria's to file
        share_incident(session, SYSTEM, from_misp["incident_id"], "borduria")
    newer = json.loads(event)
    newer["Event"]["timestamp"] = str(int(newer["Event"]["timestamp"]) + 60)
    refused = post(client, newer, {**borduria, **MISP})
    assert refused.status_code == 403
    assert "filed by another party" in refused.json()["detail"]
    title = client.get(f"{API}/incidents/{filed['incident_id']}", headers=arcadia).json()["title"]
    assert title == "NTP reflection against the water utility"
    no_party = post(client, bundle(), {**staff, **STIX})
    assert no_party.status_code == 422
    assert "?party=" in no_party.json()["detail"]
    on_behalf = post(client, bundle(), {**staff, **STIX}, party="arcadia")
    assert on_behalf.status_code == 201
    assert on_behalf.json()[0]["outcome"] == "updated"


def _bad(case: str) -> tuple[bytes, dict[str, str]]:
    good = bundle()
    if case == "not json":
        return b'{"type": "bundle", "objects": [', STIX
    if case == "not a bundle":
        return json.dumps({"type": "report", "objects": []}).encode(), STIX
    if case == "invalid object":
        broken = copy.deepcopy(good)
        del broken["objects"][1]["pattern"]
        return json.dumps(broken).encode(), STIX
    if case == "no incident":
        good["objects"] = good["objects"][1:]
        return json.dumps(good).encode(), STIX
    if case == "two incidents":
        twin = dict(good["objects"][0], id="incident--6c0b2d54-5f44-4b57-9d43-8cb6a2f1e0ff")
        good["objects"].append(twin)
        return json.dumps(good).encode(), STIX
    if case == "too many values":  # passes the parser; refused late, after the incident was made
        good["objects"] += [
            {
                "type": "ipv4-addr",
                "spec_version": "2.1",
                "id": f"ipv4-addr--{n:08x}-0000-4000-8000-000000000000",
                "value": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            }
            for n in range(10_001)
        ]
        return json.dumps(good).encode(), STIX
    if case == "misp without uuid":
        event = json.loads((DATA / "misp_event.json").read_bytes())
        del event["Event"]["uuid"]
        return json.dumps(event).encode(), MISP
    if case == "too large":
        return b" " * (16 * 1024 * 1024 + 1), STIX
    return json.dumps(good).encode(), {"Content-Type": "text/plain"}


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("not json", 422, "not valid JSON"),
        ("not a bundle", 422, "expected 'bundle'"),
        ("invalid object", 422, f"invalid object(s): object 1 ({INDICATOR})"),
        ("no incident", 422, "exactly one incident object; this one holds 0"),
        ("two incidents", 422, "this one holds 2"),
        ("too many values", 422, "at most 10000"),
        ("misp without uuid", 422, "no valid uuid"),
        ("too large", 413, "limit of 16,777,216 bytes"),
        ("wrong content type", 415, "application/stix+json"),
    ],
)
def test_bad_reports_are_refused_with_the_reason_and_nothing_stored(
    client: TestClient,
    store: Store,
    arcadia: dict[str, str],
    case: str,
    code: int,
    message: str,
) -> None:
    before = counts(store)
    body, media = _bad(case)
    response = post(client, body, {**arcadia, **media})
    assert response.status_code == code, response.text
    assert message in response.json()["detail"]
    assert counts(store) == before


def test_a_lost_connection_while_filing_keeps_nothing(
    app: FastAPI, store: Store, arcadia: dict[str, str]
) -> None:
    before = counts(store)
    lose_connection_at_commit(store)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert post(client, bundle(), {**arcadia, **STIX}).status_code == 500
        assert counts(store) == before
        assert post(client, bundle(), {**arcadia, **STIX}).json()[0]["outcome"] == "created"
