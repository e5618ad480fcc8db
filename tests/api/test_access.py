"""Authorisation: 403 for another party's objects and for staff-only routes, 404 for unknown
ids, and list routes that show a party only its own rows (plus incidents shared with it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cyberpeace.store import Store
from tests.api.conftest import API, Seed, TestClient, counts

# (method, path, body); the path may name a Seed attribute in braces, e.g. {hospital}.
Request = tuple[str, str, dict[str, Any] | None]


def resolve(path: str, seed: Seed) -> str:
    return API + path.format(**vars(seed))


def report(party: str, **extra: Any) -> dict[str, Any]:
    return {"title": "Phishing wave", "party": party, "first_seen": "2026-11-24T09:00:00Z"} | extra


# Borduria's token against Arcadia's objects, and party tokens on staff-only routes.
FORBIDDEN: dict[str, tuple[str, Request, str]] = {
    "another party's record": (
        "borduria",
        ("GET", "/parties/arcadia", None),
        "party 'arcadia' is not yours",
    ),
    "another party's safe area": (
        "borduria",
        ("GET", "/safe-areas/arcadia-central-hospital", None),
        "belongs to another party",
    ),
    "another party's detection": (
        "borduria",
        ("GET", "/detections/{det_hospital}", None),
        "concerns another party",
    ),
    "a detection on nobody's territory": (
        "arcadia",
        ("GET", "/detections/{det_nowhere}", None),
        "concerns another party",
    ),
    "another party's incident": (
        "borduria",
        ("GET", "/incidents/{hospital}", None),
        "is not shared with you",
    ),
    "an unshared incident of the other side": (
        "arcadia",
        ("GET", "/incidents/{power}", None),
        "is not shared with you",
    ),
    "another party's assessment": (
        "borduria",
        ("GET", "/incidents/{hospital}/assessment", None),
        "is not shared with you",
    ),
    "another party's assessment versions": (
        "borduria",
        ("GET", "/incidents/{hospital}/assessments", None),
        "is not shared with you",
    ),
    "assessing, even one's own incident": (
        "arcadia",
        ("POST", "/incidents/{hospital}/assessment", {"facts": {"victim.cert": False}}),
        "mission staff token",
    ),
    "reporting for another party": (
        "borduria",
        ("POST", "/incidents", report("arcadia")),
        "only report incidents where it is the victim",
    ),
    "reporting for an unknown party": (
        "borduria",
        ("POST", "/incidents", report("atlantis")),
        "only report incidents where it is the victim",
    ),
    "changing the status of its own incident": (
        "borduria",
        ("POST", "/incidents/{power}/status", {"status": "triage"}),
        "mission staff token",
    ),
    "changing the status of an unknown incident": (
        "arcadia",
        ("POST", "/incidents/999999/status", {"status": "triage"}),
        "mission staff token",
    ),
    "reading the audit log": ("arcadia", ("GET", "/audit", None), "mission staff token"),
    "verifying the audit log": ("borduria", ("GET", "/audit/verify", None), "mission staff token"),
}

NOT_FOUND: dict[str, tuple[str, Request, str]] = {
    "unknown party": ("staff", ("GET", "/parties/atlantis", None), "no party 'atlantis'"),
    "unknown safe area": (
        "staff",
        ("GET", "/safe-areas/atlantis-dam", None),
        "no safe area 'atlantis-dam'",
    ),
    "unknown detection": ("staff", ("GET", "/detections/999999", None), "no detection 999999"),
    "unknown incident": ("staff", ("GET", "/incidents/999999", None), "no incident 999999"),
    "unknown incident, party token": (
        "arcadia",
        ("GET", "/incidents/999999", None),
        "no incident 999999",
    ),
    "status of an unknown incident": (
        "staff",
        ("POST", "/incidents/999999/status", {"status": "triage"}),
        "no incident 999999",
    ),
    "incident for an unknown party": (
        "staff",
        ("POST", "/incidents", report("atlantis")),
        "no party 'atlantis'",
    ),
    "incident in another party's safe area": (
        "arcadia",
        ("POST", "/incidents", report("arcadia", safe_area="borduria-power-utility")),
        "no safe area 'borduria-power-utility' of party 'arcadia'",
    ),
    "incident in an unknown safe area": (
        "staff",
        ("POST", "/incidents", report("arcadia", safe_area="arcadia-dam")),
        "no safe area 'arcadia-dam'",
    ),
}


Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def as_(staff: dict[str, str], arcadia: dict[str, str], borduria: dict[str, str]) -> Headers:
    by_name = {"staff": staff, "arcadia": arcadia, "borduria": borduria}
    return by_name.__getitem__


def check_refused(
    client: TestClient,
    store: Store,
    seeded: Seed,
    headers: dict[str, str],
    request: Request,
    status: int,
    message: str,
) -> None:
    method, path, body = request
    before = counts(store)
    response = client.request(method, resolve(path, seeded), json=body, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert counts(store) == before


@pytest.mark.parametrize("case", list(FORBIDDEN), ids=list(FORBIDDEN))
def test_403(client: TestClient, store: Store, seeded: Seed, as_: Headers, case: str) -> None:
    who, request, message = FORBIDDEN[case]
    check_refused(client, store, seeded, as_(who), request, 403, message)


@pytest.mark.parametrize("case", list(NOT_FOUND), ids=list(NOT_FOUND))
def test_404(client: TestClient, store: Store, seeded: Seed, as_: Headers, case: str) -> None:
    who, request, message = NOT_FOUND[case]
    check_refused(client, store, seeded, as_(who), request, 404, message)


# The same objects, read by their owner (or by staff), succeed: the 403s above are about who.
ALLOWED: list[tuple[str, str]] = [
    ("arcadia", "/parties/arcadia"),
    ("arcadia", "/safe-areas/arcadia-central-hospital"),
    ("arcadia", "/detections/{det_hospital}"),
    ("arcadia", "/incidents/{hospital}"),
    ("arcadia", "/incidents/{shared}"),
    ("borduria", "/incidents/{shared}"),
    ("borduria", "/detections/{det_power}"),
    ("staff", "/parties/borduria"),
    ("staff", "/safe-areas/borduria-power-utility"),
    ("staff", "/detections/{det_nowhere}"),
    ("staff", "/incidents/{power}"),
]


@pytest.mark.parametrize(("who", "path"), ALLOWED)
def test_owners_and_staff_may_read(
    client: TestClient, seeded: Seed, as_: Headers, who: str, path: str
) -> None:
    response = client.get(resolve(path, seeded), headers=as_(who))
    assert response.status_code == 200, response.text


# --- list routes: filtered by viewer, never refused ---------------------------------------


def ids(response: Any, key: str = "id") -> list[Any]:
    assert response.status_code == 200, response.text
    return [row[key] for row in response.json()]


def test_parties_list_by_viewer(client: TestClient, as_: Headers) -> None:
    assert ids(client.get(f"{API}/parties", headers=as_("staff"))) == [
        "arcadia",
        "borduria",
        "calvinia",
    ]
    assert ids(client.get(f"{API}/parties", headers=as_("arcadia"))) == ["arcadia"]
    assert ids(client.get(f"{API}/parties", headers=as_("borduria"))) == ["borduria"]


def test_safe_areas_list_by_viewer(client: TestClient, as_: Headers) -> None:
    everything = ids(client.get(f"{API}/safe-areas", headers=as_("staff")))
    assert everything == [
        "arcadia-central-hospital",
        "arcadia-election-commission",
        "borduria-power-utility",
    ]
    assert ids(client.get(f"{API}/safe-areas", headers=as_("arcadia"))) == everything[:2]
    assert ids(client.get(f"{API}/safe-areas", headers=as_("borduria"))) == everything[2:]


def test_safe_areas_party_filter(client: TestClient, as_: Headers) -> None:
    url = f"{API}/safe-areas?party=borduria"
    assert ids(client.get(url, headers=as_("staff"))) == ["borduria-power-utility"]
    # A party asking for the other side's areas gets nothing, not an error.
    assert ids(client.get(url, headers=as_("arcadia"))) == []
    assert ids(client.get(f"{API}/safe-areas?party=calvinia", headers=as_("staff"))) == []


def test_detections_list_by_viewer(client: TestClient, seeded: Seed, as_: Headers) -> None:
    # Newest first.
    assert ids(client.get(f"{API}/detections", headers=as_("staff"))) == [
        seeded.det_elections,
        seeded.det_power,
        seeded.det_hospital_later,
        seeded.det_hospital,
        seeded.det_nowhere,
    ]
    assert ids(client.get(f"{API}/detections", headers=as_("arcadia"))) == [
        seeded.det_elections,
        seeded.det_hospital_later,
        seeded.det_hospital,
    ]
    assert ids(client.get(f"{API}/detections", headers=as_("borduria"))) == [seeded.det_power]
    # Asking for the other side's detections yields nothing.
    url = f"{API}/detections?party=arcadia"
    assert ids(client.get(url, headers=as_("borduria"))) == []


def test_incidents_list_by_viewer(client: TestClient, seeded: Seed, as_: Headers) -> None:
    # Most recent activity (last_seen) first.
    assert ids(client.get(f"{API}/incidents", headers=as_("staff"))) == [
        seeded.elections,
        seeded.power,
        seeded.hospital,
        seeded.shared,
    ]
    assert ids(client.get(f"{API}/incidents", headers=as_("arcadia"))) == [
        seeded.elections,
        seeded.hospital,
        seeded.shared,
    ]
    assert ids(client.get(f"{API}/incidents", headers=as_("borduria"))) == [
        seeded.power,
        seeded.shared,
    ]
    # The party filter narrows what a party may see; it never widens it.
    url = f"{API}/incidents?party=borduria"
    assert ids(client.get(url, headers=as_("arcadia"))) == [seeded.shared]
    assert ids(client.get(f"{API}/incidents?party=arcadia", headers=as_("borduria"))) == []
