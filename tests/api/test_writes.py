"""Writes: opening incidents and moving them along the workflow; malformed or refused
requests get a 4xx with a message and write nothing, successful ones land in the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from cyberpeace.store import Store
from tests.api.conftest import API, Seed, TestClient, Tokens, counts

VALID: dict[str, Any] = {
    "title": "DDoS on the election results portal",
    "party": "arcadia",
    "severity": "high",
    "safe_area": "arcadia-election-commission",
    "tlp": "TLP:GREEN",
    "first_seen": "2026-11-24T08:00:00Z",
    "last_seen": "2026-11-24T09:30:00+01:00",
    "summary": "Reported by the Arcadian CERT by phone.",
}


def audit_since(client: TestClient, staff: dict[str, str], after: int) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", params={"after": after, "limit": 1000}, headers=staff)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def assert_chain_ok(client: TestClient, staff: dict[str, str], entries: int) -> None:
    response = client.get(f"{API}/audit/verify", headers=staff)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "entries": entries, "first_bad_seq": None, "reason": ""}


# --- creating incidents -------------------------------------------------------------------


def test_staff_opens_an_incident(
    client: TestClient, store: Store, staff: dict[str, str], tokens: Tokens
) -> None:
    incidents, entries = counts(store)
    response = client.post(f"{API}/incidents", json=VALID, headers=staff)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == VALID["title"]
    assert body["party_id"] == "arcadia"
    assert body["safe_area_id"] == "arcadia-election-commission"
    assert body["sector"] == "elections"
    assert body["severity"] == "high"
    assert body["tlp"] == "TLP:GREEN"
    assert body["status"] == "new"
    assert body["reported_by"] == tokens.staff_actor
    assert body["detections"] == []
    assert datetime.fromisoformat(body["first_seen"]) == datetime.fromisoformat(
        "2026-11-24T08:00:00+00:00"
    )
    assert datetime.fromisoformat(body["last_seen"]) == datetime.fromisoformat(
        "2026-11-24T08:30:00+00:00"
    )
    assert counts(store) == (incidents + 1, entries + 1)

    stored = client.get(f"{API}/incidents/{body['id']}", headers=staff).json()
    assert {k: stored[k] for k in ("title", "party_id", "severity", "tlp", "summary")} == {
        k: body[k] for k in ("title", "party_id", "severity", "tlp", "summary")
    }
    assert datetime.fromisoformat(stored["last_seen"]) == datetime.fromisoformat(body["last_seen"])

    [entry] = audit_since(client, staff, entries)
    assert entry["action"] == "incident.create"
    assert entry["subject"] == f"incident:{body['id']}"
    assert entry["actor"] == tokens.staff_actor
    assert json.loads(entry["detail"]) == {
        "title": VALID["title"],
        "party": "arcadia",
        "severity": "high",
    }
    assert_chain_ok(client, staff, entries + 1)


def test_a_party_reports_against_itself_with_defaults(
    client: TestClient, store: Store, arcadia: dict[str, str], staff: dict[str, str]
) -> None:
    body = {"title": "  Phishing wave  ", "party": "arcadia", "first_seen": "2026-11-24T08:00:00Z"}
    response = client.post(f"{API}/incidents", json=body, headers=arcadia)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["title"] == "Phishing wave", "surrounding whitespace is stripped"
    assert created["reported_by"] == "party:arcadia"
    assert created["severity"] == "medium"
    assert created["tlp"] == "TLP:AMBER", "the mandate's data policy supplies the TLP"
    assert created["last_seen"] == created["first_seen"]
    assert created["safe_area_id"] is None
    assert created["sector"] is None
    # The reporting party sees it in its list; the other party does not.
    mine = client.get(f"{API}/incidents", headers=arcadia).json()
    assert created["id"] in [row["id"] for row in mine]
    [entry] = [e for e in audit_since(client, staff, 0) if e["action"] == "incident.create"]
    assert entry["actor"] == "party:arcadia"
    assert_chain_ok(client, staff, counts(store)[1])


# --- malformed incident reports -----------------------------------------------------------


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != key}


MALFORMED_INCIDENTS: dict[str, tuple[Any, str]] = {
    "not an object": ([VALID], "valid dictionary"),
    "missing title": (without("title"), "Field required"),
    "missing party": (without("party"), "Field required"),
    "missing first_seen": (without("first_seen"), "Field required"),
    "extra field": (VALID | {"status": "closed"}, "Extra inputs are not permitted"),
    "extra id": (VALID | {"id": 1}, "Extra inputs are not permitted"),
    "title not a string": (VALID | {"title": 42}, "valid string"),
    "title null": (VALID | {"title": None}, "valid string"),
    "title too short": (VALID | {"title": "  x  "}, "at least 3 characters"),
    "title too long": (VALID | {"title": "x" * 301}, "at most 300 characters"),
    "summary too long": (VALID | {"summary": "x" * 20_001}, "at most 20000 characters"),
    "summary not a string": (VALID | {"summary": ["a"]}, "valid string"),
    "empty party": (VALID | {"party": ""}, "at least 1 character"),
    "party too long": (VALID | {"party": "a" * 65}, "at most 64 characters"),
    "unknown severity": (VALID | {"severity": "catastrophic"}, "'low', 'medium', 'high'"),
    "unknown TLP": (VALID | {"tlp": "TLP:WHITE"}, "'TLP:CLEAR'"),
    "lower-case TLP": (VALID | {"tlp": "tlp:green"}, "'TLP:CLEAR'"),
    "naive first_seen": (VALID | {"first_seen": "2026-11-24T08:00:00"}, "UTC offset"),
    "naive last_seen": (VALID | {"last_seen": "2026-11-24T09:00:00"}, "UTC offset"),
    "last_seen before first_seen": (
        VALID | {"last_seen": "2026-11-24T07:59:59Z"},
        "last_seen is before first_seen",
    ),
    "last_seen before first_seen across zones": (
        VALID | {"last_seen": "2026-11-24T08:30:00+01:00"},
        "last_seen is before first_seen",
    ),
    "not a date": (VALID | {"first_seen": "last Tuesday"}, "valid datetime"),
    "NUL in the title": (VALID | {"title": "DDoS\x00"}, "NUL"),
    "NUL in the summary": (VALID | {"summary": "a\x00b"}, "NUL"),
    "malformed party id": (VALID | {"party": "Arcadia!"}, "pattern"),
}


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("case", list(MALFORMED_INCIDENTS), ids=list(MALFORMED_INCIDENTS))
def test_malformed_incident_is_422_and_writes_nothing(
    client: TestClient, store: Store, staff: dict[str, str], case: str
) -> None:
    body, message = MALFORMED_INCIDENTS[case]
    before = counts(store)
    response = client.post(f"{API}/incidents", json=body, headers=staff)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert counts(store) == before


RAW_BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "invalid JSON": (b'{"title": "DDoS", "party": ', {"Content-Type": "application/json"}),
    "not JSON at all": (b"title=DDoS&party=arcadia", {"Content-Type": "application/json"}),
    "empty body": (b"", {"Content-Type": "application/json"}),
    "JSON sent as text/plain": (json.dumps(VALID).encode(), {"Content-Type": "text/plain"}),
    "form-encoded": (
        b"title=DDoS+on+the+portal&party=arcadia",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
}


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("case", list(RAW_BODIES), ids=list(RAW_BODIES))
@pytest.mark.parametrize("path", ["/incidents", "/incidents/1/status"])
def test_unparseable_body_is_422_and_writes_nothing(
    client: TestClient, store: Store, staff: dict[str, str], case: str, path: str
) -> None:
    content, headers = RAW_BODIES[case]
    before = counts(store)
    response = client.post(API + path, content=content, headers=staff | headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["msg"]
    assert counts(store) == before


# --- the status workflow ------------------------------------------------------------------


def status_of(client: TestClient, staff: dict[str, str], incident: int) -> tuple[str, str]:
    body = client.get(f"{API}/incidents/{incident}", headers=staff).json()
    return body["status"], body["status_reason"]


def test_status_walks_the_workflow_and_is_audited(
    client: TestClient, store: Store, seeded: Seed, staff: dict[str, str], tokens: Tokens
) -> None:
    _, entries = counts(store)
    url = f"{API}/incidents/{seeded.hospital}/status"
    steps = [
        ("triage", ""),
        ("investigating", "traffic confirmed at two sensors"),
        ("assessed", ""),
        ("closed", "attack ended; report sent"),
        ("investigating", "attack resumed"),
    ]
    previous = "new"
    for status, reason in steps:
        response = client.post(url, json={"status": status, "reason": reason}, headers=staff)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["status_reason"]) == (status, reason)
        assert "detections" not in body
        assert status_of(client, staff, seeded.hospital) == (status, reason)
        [entry] = audit_since(client, staff, entries)
        entries += 1
        assert entry["action"] == "incident.status"
        assert entry["subject"] == f"incident:{seeded.hospital}"
        assert entry["actor"] == tokens.staff_actor
        assert json.loads(entry["detail"]) == {"from": previous, "to": status, "reason": reason}
        previous = status
    assert counts(store)[1] == entries
    assert_chain_ok(client, staff, entries)
    listed = client.get(f"{API}/incidents?status=investigating", headers=staff).json()
    assert [row["id"] for row in listed] == [seeded.hospital]


# (incident in the seed, body, status code, text the message must contain)
BAD_STATUS_CHANGES: dict[str, tuple[str, Any, int, str]] = {
    "unknown status": ("hospital", {"status": "resolved"}, 422, "'new', 'triage'"),
    "status not a string": ("hospital", {"status": 3}, 422, "'new', 'triage'"),
    "missing status": ("hospital", {"reason": "why not"}, 422, "Field required"),
    "extra field": ("hospital", {"status": "triage", "by": "me"}, 422, "Extra inputs"),
    "reason too long": (
        "hospital",
        {"status": "closed", "reason": "x" * 2001},
        422,
        "at most 2000 characters",
    ),
    "reason not a string": ("hospital", {"status": "closed", "reason": 1}, 422, "valid string"),
    "NUL in the reason": ("hospital", {"status": "closed", "reason": "a\x00"}, 422, "NUL"),
    "not an object": ("hospital", ["triage"], 422, "valid dictionary"),
    "skipping to assessed": (
        "hospital",
        {"status": "assessed"},
        409,
        "cannot go from 'new' to 'assessed'; allowed: ['closed', 'investigating', 'triage']",
    ),
    "back to new": (
        "elections",
        {"status": "new"},
        409,
        "cannot go from 'triage' to 'new'; allowed: ['closed', 'investigating']",
    ),
    "to the same status": (
        "elections",
        {"status": "triage"},
        409,
        "allowed: ['closed', 'investigating']",
    ),
    "closing without a reason": ("hospital", {"status": "closed"}, 409, "needs a reason"),
    "closing with a blank reason": (
        "hospital",
        {"status": "closed", "reason": "   "},
        409,
        "needs a reason",
    ),
}


@pytest.mark.parametrize("case", list(BAD_STATUS_CHANGES), ids=list(BAD_STATUS_CHANGES))
def test_bad_status_change_writes_nothing(
    client: TestClient, store: Store, seeded: Seed, staff: dict[str, str], case: str
) -> None:
    name, body, code, message = BAD_STATUS_CHANGES[case]
    incident = getattr(seeded, name)
    before, status_before = counts(store), status_of(client, staff, incident)
    response = client.post(f"{API}/incidents/{incident}/status", json=body, headers=staff)
    assert response.status_code == code, response.text
    assert message in response.text
    if code == 409:
        assert response.json() == {"detail": response.json()["detail"]}
    assert counts(store) == before
    assert status_of(client, staff, incident) == status_before


def test_a_closed_incident_only_reopens_to_investigating(
    client: TestClient, store: Store, seeded: Seed, staff: dict[str, str]
) -> None:
    url = f"{API}/incidents/{seeded.power}/status"
    closed = client.post(url, json={"status": "closed", "reason": "false positive"}, headers=staff)
    assert closed.status_code == 200, closed.text
    before = counts(store)
    response = client.post(url, json={"status": "assessed"}, headers=staff)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "cannot go from 'closed' to 'assessed'; allowed: ['investigating']"
    }
    assert counts(store) == before


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", ["/incidents/abc/status", "/incidents/0x1/status"])
def test_status_with_a_non_integer_id_is_422(
    client: TestClient, store: Store, staff: dict[str, str], path: str
) -> None:
    before = counts(store)
    response = client.post(API + path, json={"status": "triage"}, headers=staff)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["path", "incident_id"]
    assert counts(store) == before


# --- transactions -------------------------------------------------------------------------


def test_a_failed_commit_is_not_reported_as_success(
    app: FastAPI, store: Store, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's transaction commits before the response is sent, not after."""
    opened = store.session

    @contextmanager
    def failing_commit() -> Iterator[Session]:
        with opened() as session:
            yield session
            raise RuntimeError("the database went away at commit")

    before = counts(store)
    monkeypatch.setattr(store, "session", failing_commit)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(f"{API}/incidents", json=VALID, headers=staff)
    monkeypatch.undo()
    assert response.status_code == 500
    assert counts(store) == before
