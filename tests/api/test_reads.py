"""The read routes return the right bodies, and their filters and paging work."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import API, T0, Seed, TestClient


def get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    response = client.get(API + path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_party(client: TestClient, arcadia: dict[str, str]) -> None:
    body = get(client, "/parties/arcadia", arcadia)
    assert body == {
        "id": "arcadia",
        "name": "Republic of Arcadia",
        "country": "XA",
        "contact": body["contact"],
        "territory": body["territory"],
    }
    assert body["contact"]["email"] == "cert@arcadia.example"
    assert body["territory"]["prefixes"] == ["198.18.0.0/16", "2001:db8:a000::/36"]
    assert body["territory"]["asns"] == [64500, 64501]
    assert get(client, "/parties", arcadia) == [body]


def test_safe_area(client: TestClient, borduria: dict[str, str]) -> None:
    body = get(client, "/safe-areas/borduria-power-utility", borduria)
    assert body == {
        "id": "borduria-power-utility",
        "party_id": "borduria",
        "name": "Borduria National Power Utility",
        "sector": "energy",
        "criticality": "critical",
        "prefixes": ["198.19.30.0/24", "2001:db8:b030::/48"],
        "hosts": [],
        "domains": ["power.borduria.example"],
    }
    assert get(client, "/safe-areas", borduria) == [body]


def test_detection(client: TestClient, seeded: Seed, arcadia: dict[str, str]) -> None:
    body = get(client, f"/detections/{seeded.det_hospital}", arcadia)
    assert when(body.pop("start")) == T0
    assert when(body.pop("end")) == T0 + timedelta(minutes=5)
    assert body == {
        "id": seeded.det_hospital,
        "detector": "volumetric",
        "kind": "udp-reflection",
        "target": "198.18.10.5",
        "party_id": "arcadia",
        "safe_area_id": "arcadia-central-hospital",
        "severity": "high",
        "confidence": 0.9,
        "magnitude": {"packets_per_second": 120_000.0, "bits_per_second": 9.6e8},
        "sources": [
            {
                "address": "198.19.77.1",
                "share": 0.8,
                "packets": 1000,
                "bytes": 64_000,
                "party": None,
                "port": None,
            }
        ],
        "explanation": {"threshold": 10_000, "window": "PT1M"},
        "traceback": None,
    }


def test_incident_detail(client: TestClient, seeded: Seed, arcadia: dict[str, str]) -> None:
    body = get(client, f"/incidents/{seeded.hospital}", arcadia)
    assert body["id"] == seeded.hospital
    assert body["title"] == "UDP reflection against 198.18.10.5"
    assert body["status"] == "new"
    assert body["status_reason"] == ""
    assert body["severity"] == "critical", "the later, critical detection raised the severity"
    assert body["tlp"] == "TLP:AMBER"
    assert body["party_id"] == "arcadia"
    assert body["safe_area_id"] == "arcadia-central-hospital"
    assert body["sector"] == "health"
    assert body["reported_by"] == "system"
    assert when(body["first_seen"]) == T0
    assert when(body["last_seen"]) == T0 + timedelta(minutes=15)
    assert when(body["opened_at"]).tzinfo is not None
    assert [d["id"] for d in body["detections"]] == [
        seeded.det_hospital,
        seeded.det_hospital_later,
    ]
    listed = {row["id"]: row for row in get(client, "/incidents", arcadia)}
    assert listed[seeded.hospital] == {k: v for k, v in body.items() if k != "detections"}


def test_shared_incident_detail(client: TestClient, seeded: Seed, arcadia: dict[str, str]) -> None:
    body = get(client, f"/incidents/{seeded.shared}", arcadia)
    assert body["party_id"] == "borduria"
    assert body["tlp"] == "TLP:RED"
    assert body["sector"] == "energy"
    assert body["summary"].startswith("Shared with Arcadia")
    assert body["detections"] == []


# --- filters ------------------------------------------------------------------------------

INCIDENT_FILTERS: dict[str, tuple[str, list[str]]] = {
    "status new": ("status=new", ["power", "hospital", "shared"]),
    "status triage": ("status=triage", ["elections"]),
    "status closed": ("status=closed", []),
    "party": ("party=arcadia", ["elections", "hospital"]),
    "safe area": ("safe_area=borduria-power-utility", ["power", "shared"]),
    "severity critical": ("severity=critical", ["hospital"]),
    "severity low": ("severity=low", ["elections"]),
    "since (aware)": ("since=2026-11-24T10:30:00Z", ["elections", "power"]),
    "since (offset)": ("since=2026-11-24T11:30:00%2B01:00", ["elections", "power"]),
    "combined": ("party=borduria&severity=medium&status=new", ["power"]),
    "limit": ("limit=2", ["elections", "power"]),
    "offset": ("limit=2&offset=1", ["power", "hospital"]),
    "offset past the end": ("offset=100", []),
    "limit at the maximum": ("limit=1000", ["elections", "power", "hospital", "shared"]),
}


@pytest.mark.parametrize("case", list(INCIDENT_FILTERS), ids=list(INCIDENT_FILTERS))
def test_incident_filters(
    client: TestClient, seeded: Seed, staff: dict[str, str], case: str
) -> None:
    query, expected = INCIDENT_FILTERS[case]
    rows = get(client, f"/incidents?{query}", staff)
    assert [row["id"] for row in rows] == [getattr(seeded, name) for name in expected]


DETECTION_FILTERS: dict[str, tuple[str, list[str]]] = {
    "kind": ("kind=port-scan", ["det_elections"]),
    "party": ("party=borduria", ["det_power"]),
    "safe area": (
        "safe_area=arcadia-central-hospital",
        ["det_hospital_later", "det_hospital"],
    ),
    "since": ("since=2026-11-24T10:12:00Z", ["det_elections", "det_power", "det_hospital_later"]),
    "limit": ("limit=1", ["det_elections"]),
    "offset": ("limit=2&offset=3", ["det_hospital", "det_nowhere"]),
    "unknown kind": ("kind=ddos", []),
}


@pytest.mark.parametrize("case", list(DETECTION_FILTERS), ids=list(DETECTION_FILTERS))
def test_detection_filters(
    client: TestClient, seeded: Seed, staff: dict[str, str], case: str
) -> None:
    query, expected = DETECTION_FILTERS[case]
    rows = get(client, f"/detections?{query}", staff)
    assert [row["id"] for row in rows] == [getattr(seeded, name) for name in expected]


BAD_QUERIES = [
    "/incidents?limit=0",
    "/incidents?limit=5000",
    "/incidents?limit=-1",
    "/incidents?limit=ten",
    "/incidents?offset=-1",
    "/incidents?status=open",
    "/incidents?severity=catastrophic",
    "/incidents?since=yesterday",
    "/incidents?since=2026-11-24T10:00:00",
    "/incidents?offset=99999999999999999999",
    "/incidents?party=a%00b",
    "/incidents?safe_area=Central+Hospital",
    "/detections?limit=0",
    "/detections?limit=5000",
    "/detections?offset=-1",
    "/detections?since=2026-11-24T10:00:00",
    "/detections?kind=a%00b",
    "/detections?kind=" + "x" * 65,
    "/detections?party=a%00b",
    "/safe-areas?party=a%00b",
    "/audit?limit=0",
    "/audit?limit=5000",
    "/audit?after=-1",
    "/audit?after=99999999999999999999",
]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", BAD_QUERIES)
def test_bad_query_parameters_are_422(client: TestClient, staff: dict[str, str], path: str) -> None:
    response = client.get(API + path, headers=staff)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert problems, "a 422 should say what is wrong"
    assert all(p["msg"] and p["loc"][0] == "query" for p in problems)


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    "path",
    [
        "/incidents/abc",
        "/incidents/1.5",
        "/incidents/0",
        "/incidents/-1",
        "/incidents/3000000000",
        "/incidents/99999999999999999999",
        "/detections/abc",
        "/detections/99999999999999999999",
        "/parties/a%00b",
        "/parties/Arcadia",
        "/safe-areas/a%00b",
        "/safe-areas/" + "a" * 65,
    ],
)
def test_malformed_ids_are_422(client: TestClient, staff: dict[str, str], path: str) -> None:
    response = client.get(API + path, headers=staff)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "path"
