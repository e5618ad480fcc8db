"""Authentication: every API route answers 401, with a WWW-Authenticate header, to no token,
a token of the wrong scheme, an unknown token and a revoked one; and writes nothing then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import update

from cyberpeace.api.routes import router
from cyberpeace.investigate.routes import router as investigate_router
from cyberpeace.report.routes import router as report_router
from cyberpeace.store import Store
from cyberpeace.store.tables import TokenRow
from tests.api.conftest import API, TestClient, Tokens, counts

NEW_INCIDENT = {
    "title": "Defacement of the ministry portal",
    "party": "arcadia",
    "first_seen": "2026-11-24T09:00:00Z",
}
# Every route of api/routes.py, with ids that exist once ``seeded`` ran (incident 1 exists).
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/parties", None),
    ("GET", "/parties/arcadia", None),
    ("GET", "/safe-areas", None),
    ("GET", "/safe-areas/arcadia-central-hospital", None),
    ("GET", "/detections", None),
    ("GET", "/detections/1", None),
    ("GET", "/incidents", None),
    ("POST", "/incidents", NEW_INCIDENT),
    ("GET", "/incidents/1", None),
    ("POST", "/incidents/1/status", {"status": "triage"}),
    ("GET", "/incidents/1/assessment", None),
    ("GET", "/incidents/1/assessments", None),
    ("POST", "/incidents/1/assessment", {"facts": {"victim.cert": False}}),
    ("GET", "/audit", None),
    ("GET", "/audit/verify", None),
    ("GET", "/actions", None),
    ("GET", "/actions/1", None),
    ("POST", "/actions/1/approve", {"reason": "ok"}),
    ("POST", "/actions/1/reject", {"reason": "no"}),
    ("POST", "/actions/1/revoke", {"reason": "over"}),
    ("GET", "/incidents/1/attributions", None),
    ("POST", "/incidents/1/attributions", {"candidate": "x", "confidence": "low", "bases": []}),
    ("POST", "/incidents/1/attributions/technical", None),
    ("PUT", "/attributions/1", {"candidate": "x", "confidence": "low", "bases": []}),
    ("GET", "/patterns", None),
    ("GET", "/reports/incidents/1", None),
    ("GET", "/reports/situation?since=2026-11-24&until=2026-11-25", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]
TEMPLATES = {
    ("GET", "/parties"),
    ("GET", "/parties/{party_id}"),
    ("GET", "/safe-areas"),
    ("GET", "/safe-areas/{area_id}"),
    ("GET", "/detections"),
    ("GET", "/detections/{detection_id}"),
    ("GET", "/incidents"),
    ("POST", "/incidents"),
    ("GET", "/incidents/{incident_id}"),
    ("POST", "/incidents/{incident_id}/status"),
    ("GET", "/incidents/{incident_id}/assessment"),
    ("GET", "/incidents/{incident_id}/assessments"),
    ("POST", "/incidents/{incident_id}/assessment"),
    ("GET", "/audit"),
    ("GET", "/audit/verify"),
    ("GET", "/actions"),
    ("GET", "/actions/{action_id}"),
    ("POST", "/actions/{action_id}/approve"),
    ("POST", "/actions/{action_id}/reject"),
    ("POST", "/actions/{action_id}/revoke"),
    ("GET", "/incidents/{incident_id}/attributions"),
    ("POST", "/incidents/{incident_id}/attributions"),
    ("POST", "/incidents/{incident_id}/attributions/technical"),
    ("PUT", "/attributions/{attribution_id}"),
    ("GET", "/patterns"),
    ("GET", "/reports/incidents/{incident_id}"),
    ("GET", "/reports/situation"),
}


def test_the_tables_cover_every_api_route() -> None:
    """A new route must be added to ROUTES (and so to every matrix built on it)."""
    found = {
        (method, route.path.removeprefix(API))
        for route in [*router.routes, *investigate_router.routes, *report_router.routes]
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert found == TEMPLATES
    assert len(ROUTES) == len(TEMPLATES)


def call(client: TestClient, method: str, path: str, body: dict[str, Any] | None, **kw: Any) -> Any:
    return client.request(method, API + path, json=body, **kw)


BAD_CREDENTIALS = {
    "no header": ({}, "missing bearer token", "Bearer"),
    "wrong scheme": (
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "missing bearer token",
        "Bearer",
    ),
    "empty bearer": ({"Authorization": "Bearer "}, "missing bearer token", "Bearer"),
    "bogus token": (
        {"Authorization": "Bearer cp_not-a-real-token"},
        "unknown or revoked token",
        'Bearer error="invalid_token"',
    ),
}


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS), ids=list(BAD_CREDENTIALS))
def test_401_without_a_valid_token(
    client: TestClient,
    store: Store,
    credentials: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    headers, message, challenge = BAD_CREDENTIALS[credentials]
    before = counts(store)
    response = call(client, method, path, body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": message}
    assert response.headers["WWW-Authenticate"] == challenge
    assert counts(store) == before


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_401_with_a_revoked_token(
    client: TestClient,
    store: Store,
    staff: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    assert client.get(f"{API}/parties", headers=staff).status_code == 200
    with store.session() as session:
        session.execute(update(TokenRow).values(revoked_at=datetime.now(UTC)))
    before = counts(store)
    response = call(client, method, path, body, headers=staff)
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "unknown or revoked token"}
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert counts(store) == before


def test_a_token_is_accepted_without_regard_to_the_scheme_case(
    client: TestClient, tokens: Tokens
) -> None:
    response = client.get(f"{API}/parties", headers={"Authorization": f"bearer {tokens.staff}"})
    assert response.status_code == 200


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
