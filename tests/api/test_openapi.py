"""The OpenAPI document describes every route and the bearer scheme."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import API, TestClient
from tests.api.test_auth import TEMPLATES

# The correlation router's own routes (correlation/correlation_routes.py).
CORRELATION = {
    ("GET", "/incidents/{incident_id}/correlations"),
    ("POST", "/incidents/{incident_id}/indicators"),
}
# The case file and evidence locker routes (their 401/403 checks are in test_cases_api.py).
CASES = {
    ("GET", "/incidents/{incident_id}/timeline"),
    ("GET", "/incidents/{incident_id}/notes"),
    ("POST", "/incidents/{incident_id}/notes"),
    ("GET", "/incidents/{incident_id}/tasks"),
    ("POST", "/incidents/{incident_id}/tasks"),
    ("POST", "/tasks/{task_id}/assign"),
    ("POST", "/tasks/{task_id}/complete"),
    ("GET", "/incidents/{incident_id}/links"),
    ("POST", "/incidents/{incident_id}/links"),
    ("GET", "/incidents/{incident_id}/victims"),
    ("POST", "/incidents/{incident_id}/victims"),
    ("POST", "/incidents/{incident_id}/severity"),
    ("POST", "/incidents/{incident_id}/evidence"),
    ("GET", "/incidents/{incident_id}/evidence"),
    ("GET", "/evidence/{evidence_id}"),
    ("GET", "/evidence/{evidence_id}/content"),
    ("POST", "/evidence/{evidence_id}/transfer"),
    ("GET", "/evidence/{evidence_id}/custody"),
    ("POST", "/incidents/import"),
}
# The block-list feed (respond/feed_routes.py; its tests are in tests/respond/test_feed_api.py).
RESPOND = {("GET", "/blocklist")}
# Messages and their acknowledgement (api/message_routes.py; checks in tests/store/).
MESSAGES = {
    ("GET", "/messages"),
    ("GET", "/messages/{message_id}"),
    ("POST", "/messages/{message_id}/ack"),
}


def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_every_route_is_documented(client: TestClient) -> None:
    paths = document(client)["paths"]
    listed = {
        (method.upper(), path.removeprefix(API))
        for path, operations in paths.items()
        for method in operations
    }
    routes = TEMPLATES | CORRELATION | CASES | RESPOND | MESSAGES
    assert routes | {("GET", "/health")} == listed, "console routes stay out of the schema"


def test_bearer_scheme(client: TestClient) -> None:
    doc = document(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `cyberpeace token create`.",
        }
    }
    for method, path in TEMPLATES | CORRELATION | CASES | MESSAGES:
        operation = doc["paths"][API + path][method.lower()]
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        assert {"401", "403", "404"} <= set(operation["responses"]), (method, path)
    assert "security" not in doc["paths"][f"{API}/health"]["get"]


def test_models_are_published(client: TestClient) -> None:
    doc = document(client)
    schemas = doc["components"]["schemas"]
    assert {"IncidentIn", "StatusIn", "IncidentOut", "IncidentDetailOut", "ErrorOut"} <= set(
        schemas
    )
    assert schemas["IncidentIn"]["additionalProperties"] is False
    assert set(schemas["IncidentIn"]["required"]) == {"title", "party", "first_seen"}
    create = doc["paths"][f"{API}/incidents"]["post"]
    assert "201" in create["responses"]
    change = doc["paths"][f"{API}/incidents/{{incident_id}}/status"]["post"]
    assert "409" in change["responses"]
