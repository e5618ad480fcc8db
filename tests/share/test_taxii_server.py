"""The TAXII 2.1 server at /taxii2/: collections, TLP, bad input, paging, the official client.

Runs on SQLite and the real PostgreSQL (the ``store`` fixture). The official ``taxii2-client``
talks to the server over a real uvicorn socket on loopback.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from cyberpeace.share.stix_ids import MissionIds
from cyberpeace.share.taxii_access import collection_id
from cyberpeace.share.tlp import marking_id
from cyberpeace.store import Store, create_token
from cyberpeace.store.tables import StixObjectRow
from tests.conftest import TestClient
from tests.share.stix_indicators import indicator

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/root"
MISSION = collection_id("demo-mission", "mission")
ARCADIA = collection_id("demo-mission", "party/arcadia")
BORDURIA = collection_id("demo-mission", "party/borduria")
ARCADIA_IDENTITY = MissionIds("demo-mission").of("identity", "party", "arcadia")


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    with store.session() as session:
        return {
            name: create_token(session, party_id=party, by="test")
            for name, party in (("staff", None), ("arcadia", "arcadia"), ("borduria", "borduria"))
        }


def headers(token: str, *, body: bool = False) -> dict[str, str]:
    found = {"Authorization": f"Bearer {token}", "Accept": TAXII}
    if body:
        found["Content-Type"] = TAXII
    return found


def post(client: TestClient, token: str, collection: str, objects: list[Any]) -> Any:
    return client.post(
        f"{ROOT}/collections/{collection}/objects/",
        content=msgspec.json.encode({"objects": objects}),
        headers=headers(token, body=True),
    )


def stored(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(StixObjectRow)) or 0)


def assert_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/taxii+json")
    body = response.json()
    assert body["http_status"] == str(status)
    assert body["title"]
    assert body["description"]
    assert body["error_code"]


def test_discovery_root_and_collections_follow_the_mandate(
    client: TestClient, tokens: dict[str, str]
) -> None:
    discovery = client.get("/taxii2/", headers=headers(tokens["arcadia"]))
    assert discovery.status_code == 200
    assert discovery.json()["api_roots"] == ["http://testserver/taxii2/root/"]
    root = client.get(f"{ROOT}/", headers=headers(tokens["arcadia"])).json()
    assert root["versions"] == [TAXII]
    assert root["max_content_length"] > 0
    listed = client.get(f"{ROOT}/collections/", headers=headers(tokens["arcadia"])).json()
    flags = {c["id"]: (c["can_read"], c["can_write"]) for c in listed["collections"]}
    assert flags == {MISSION: (True, False), ARCADIA: (True, True)}
    staff = client.get(f"{ROOT}/collections/", headers=headers(tokens["staff"])).json()
    assert len(staff["collections"]) == 4  # the mission's and one per party of the demo
    assert_error(
        client.get(f"{ROOT}/collections/{BORDURIA}/", headers=headers(tokens["arcadia"])), 403
    )


def test_tlp_decides_who_is_served_what(client: TestClient, tokens: dict[str, str]) -> None:
    clear = indicator("TLP:CLEAR")
    amber_for_arcadia = indicator("TLP:AMBER", by=ARCADIA_IDENTITY)
    red_for_nobody = indicator("TLP:RED")
    unmarked = indicator(None)  # the data policy's default, TLP:AMBER
    added = post(
        client, tokens["staff"], MISSION, [clear, amber_for_arcadia, red_for_nobody, unmarked]
    )
    assert added.status_code == 202
    status = added.json()
    assert status["success_count"] == 4
    assert status["status"] == "complete"
    again = client.get(f"{ROOT}/status/{status['id']}/", headers=headers(tokens["staff"]))
    assert again.json() == status
    assert_error(
        client.get(f"{ROOT}/status/{status['id']}/", headers=headers(tokens["arcadia"])), 404
    )

    def seen(token: str) -> set[str]:
        response = client.get(f"{ROOT}/collections/{MISSION}/objects/", headers=headers(token))
        assert response.status_code == 200
        return {obj["id"] for obj in response.json().get("objects", [])}

    everything = {clear["id"], amber_for_arcadia["id"], red_for_nobody["id"], unmarked["id"]}
    assert seen(tokens["staff"]) == everything
    assert seen(tokens["arcadia"]) == {clear["id"], amber_for_arcadia["id"]}
    assert seen(tokens["borduria"]) == {clear["id"]}
    one = f"{ROOT}/collections/{MISSION}/objects/{red_for_nobody['id']}/"
    assert_error(client.get(one, headers=headers(tokens["borduria"])), 404)
    # RED in a party's own collection reaches that party, and no other.
    red_for_arcadia = indicator("TLP:RED")
    assert post(client, tokens["staff"], ARCADIA, [red_for_arcadia]).status_code == 202
    own = client.get(f"{ROOT}/collections/{ARCADIA}/objects/", headers=headers(tokens["arcadia"]))
    assert [obj["id"] for obj in own.json()["objects"]] == [red_for_arcadia["id"]]
    assert_error(
        client.get(f"{ROOT}/collections/{ARCADIA}/objects/", headers=headers(tokens["borduria"])),
        403,
    )


def test_versions_manifest_match_and_delete(client: TestClient, tokens: dict[str, str]) -> None:
    first = indicator("TLP:CLEAR", stamp="2026-11-01T00:00:00Z")
    second = {**first, "modified": "2026-11-01T00:00:00.5Z"}
    assert post(client, tokens["staff"], MISSION, [first, second]).status_code == 202
    base = f"{ROOT}/collections/{MISSION}/objects/{first['id']}"
    staff = headers(tokens["staff"])
    versions = client.get(f"{base}/versions/", headers=staff).json()
    assert versions["versions"] == ["2026-11-01T00:00:00Z", "2026-11-01T00:00:00.5Z"]
    last = client.get(f"{base}/", headers=staff).json()["objects"]
    assert [o["modified"] for o in last] == ["2026-11-01T00:00:00.5Z"]
    every = client.get(f"{base}/", params={"match[version]": "all"}, headers=staff).json()
    assert len(every["objects"]) == 2
    oldest = client.get(f"{base}/", params={"match[version]": "first"}, headers=staff).json()
    assert [o["modified"] for o in oldest["objects"]] == ["2026-11-01T00:00:00Z"]
    manifest = client.get(f"{ROOT}/collections/{MISSION}/manifest/", headers=staff).json()
    assert [(m["id"], m["version"]) for m in manifest["objects"]] == [
        (first["id"], "2026-11-01T00:00:00.5Z")
    ]
    by_type = client.get(
        f"{ROOT}/collections/{MISSION}/objects/", params={"match[type]": "malware"}, headers=staff
    ).json()
    assert by_type == {"more": False}
    assert_error(client.delete(f"{base}/", headers=headers(tokens["arcadia"])), 403)
    assert client.delete(f"{base}/", headers=staff).status_code == 200
    assert_error(client.get(f"{base}/", headers=staff), 404)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"Accept": "application/json"}, 406),
        ({"Content-Type": "application/json"}, 415),
        ({"body": b'{"objects": [ {"type": '}, 400),
        ({"body": b'{"objects": {"type": "indicator"}}'}, 400),
        ({"body": b'{"more": false}'}, 400),
        ({"marking": "identity--0bba8b2b-4d6e-4b8f-9c8e-0b1b7f1d5e11"}, 422),
        ({"forged": True}, 422),
        ({"invalid": True}, 422),
        ({"collection": BORDURIA}, 403),
        ({"collection": str(uuid.uuid4())}, 404),
        ({"root": "nope"}, 404),
        ({"Authorization": "Bearer cp_nothing"}, 401),
    ],
)
def test_bad_requests_get_taxii_errors_and_store_nothing(
    client: TestClient, tokens: dict[str, str], store: Store, change: dict[str, Any], status: int
) -> None:
    good = indicator("TLP:CLEAR")
    objects: list[Any] = [good, indicator("TLP:GREEN")]
    if "marking" in change:
        objects[1]["object_marking_refs"] = [change["marking"]]
    if change.get("forged"):
        objects.append(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": marking_id("TLP:RED"),
                "created": "2022-10-01T00:00:00.000Z",
                "name": "TLP:CLEAR",
            }
        )
    if change.get("invalid"):
        objects.append({"type": "indicator", "id": "indicator--not-a-uuid"})
    sent = headers(tokens["arcadia"], body=True)
    sent.update(
        {k: v for k, v in change.items() if k in ("Accept", "Content-Type", "Authorization")}
    )
    body = change.get("body", msgspec.json.encode({"objects": objects}))
    root, collection = change.get("root", "root"), change.get("collection", ARCADIA)
    url = f"/taxii2/{root}/collections/{collection}/objects/"
    assert_error(client.post(url, content=body, headers=sent), status)
    assert stored(store) == 0


def test_an_oversized_body_is_refused_with_413(
    client: TestClient, tokens: dict[str, str], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cyberpeace.share import taxii_config as config_module

    small = config_module.TaxiiConfig(
        **{**config_module.taxii_config().__dict__, "max_content_length": 2000}
    )
    monkeypatch.setattr("cyberpeace.share.taxii_routes.taxii_config", lambda: small)
    objects = [indicator("TLP:CLEAR") for _ in range(10)]
    response = post(client, tokens["arcadia"], ARCADIA, objects)
    assert_error(response, 413)
    assert stored(store) == 0


def test_bad_filters_are_400(client: TestClient, tokens: dict[str, str]) -> None:
    url = f"{ROOT}/collections/{MISSION}/objects/"
    for params in (
        {"limit": "0"},
        {"added_after": "yesterday"},
        {"next": "x"},
        {"match[version]": "newest"},
        {"match[colour]": "red"},
    ):
        assert_error(client.get(url, params=params, headers=headers(tokens["staff"])), 400)


def test_paging_loses_and_repeats_nothing_under_concurrent_adds(
    client: TestClient, tokens: dict[str, str]
) -> None:
    same = "2026-11-01T00:00:00.000Z"
    originals = [indicator("TLP:CLEAR", stamp=same) for _ in range(250)]
    assert post(client, tokens["staff"], MISSION, originals).status_code == 202
    url = f"{ROOT}/collections/{MISSION}/objects/"
    seen: list[str] = []
    added_later: list[str] = []
    params: dict[str, str] = {"limit": "40"}
    while True:
        response = client.get(url, params=params, headers=headers(tokens["arcadia"]))
        body = response.json()
        seen += [obj["id"] for obj in body.get("objects", [])]
        if len(added_later) < 60:  # between pages, other writers add more of the same timestamp
            batch = [indicator("TLP:GREEN", stamp=same) for _ in range(20)]
            assert post(client, tokens["staff"], MISSION, batch).status_code == 202
            added_later += [obj["id"] for obj in batch]
        if not body["more"]:
            break
        assert response.headers["X-TAXII-Date-Added-Last"] == body["next"]
        params = {"limit": "40", "next": body["next"]}
    assert len(seen) == len(set(seen)), "an object was served twice"
    assert set(seen) == {obj["id"] for obj in originals} | set(added_later)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app on a real loopback socket, for clients that speak HTTP themselves."""
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def test_the_official_taxii2_client_reads_and_writes(served: str, tokens: dict[str, str]) -> None:
    from stix2validator import ValidationOptions, validate_parsed_json
    from taxii2client.common import TokenAuth
    from taxii2client.v21 import Collection, Server, as_pages

    auth = TokenAuth(tokens["arcadia"])
    server = Server(f"{served}/taxii2/", auth=auth)
    assert server.title
    root = server.api_roots[0]
    ids = {c.id: c for c in root.collections}
    assert set(ids) == {MISSION, ARCADIA}
    own = Collection(f"{served}/taxii2/root/collections/{ARCADIA}/", auth=auth)
    objects = [indicator("TLP:AMBER", by=ARCADIA_IDENTITY) for _ in range(7)]
    status = own.add_objects(msgspec.json.encode({"objects": objects}).decode())
    assert status.status == "complete"
    assert status.success_count == 7
    pages = list(as_pages(own.get_objects, per_request=3))
    got = [obj for page in pages for obj in page.get("objects", [])]
    assert [o["id"] for o in got] == [o["id"] for o in objects]
    assert len(pages) == 3
    for obj in got:
        result = validate_parsed_json(obj, ValidationOptions(version="2.1"))
        assert result.is_valid, result.errors
    assert own.get_object(objects[0]["id"])["objects"][0]["id"] == objects[0]["id"]
    manifest = own.get_manifest()
    assert len(manifest["objects"]) == 7
