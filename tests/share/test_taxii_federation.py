"""Federation with a real peer: our TAXII client against medallion, the OASIS reference server.

medallion 3 runs in a thread on a loopback port (werkzeug's server) with its memory backend,
loaded from a small data file written here; nothing is mocked.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cyberpeace.share.taxii_client import TaxiiClientError, collections, pull, push
from cyberpeace.share.tlp import UnknownMarking
from cyberpeace.store import Store
from cyberpeace.store.tables import StixObjectRow
from tests.share.stix_indicators import indicator as stix_indicator

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
USER = ("peer", "secret")
COLLECTION = str(uuid.uuid4())


indicator = partial(stix_indicator, stamp="2026-01-05T00:00:00.000Z")


def data_file(path: Path, port: int, objects: list[dict[str, Any]]) -> None:
    root = f"http://127.0.0.1:{port}/root/"
    added = [f"2026-01-0{index + 1}T00:00:00.000000Z" for index in range(len(objects))]
    collection = {
        "id": COLLECTION,
        "title": "peer collection",
        "can_read": True,
        "can_write": True,
        "media_types": [STIX],
        "objects": [{**obj, "_date_added": day} for obj, day in zip(objects, added, strict=True)],
        "manifest": [
            {"id": obj["id"], "date_added": day, "version": obj["modified"], "media_type": STIX}
            for obj, day in zip(objects, added, strict=True)
        ],
    }
    data = {
        "/discovery": {"title": "peer", "default": root, "api_roots": [root]},
        "root": {
            "information": {"title": "root", "versions": [TAXII], "max_content_length": 10**7},
            "status": [],
            "collections": [collection],
        },
    }
    path.write_text(json.dumps(data))


@pytest.fixture
def initial() -> list[dict[str, Any]]:
    return [indicator("TLP:GREEN") for _ in range(3)]


@pytest.fixture
def medallion(tmp_path: Path, initial: list[dict[str, Any]]) -> Iterator[str]:
    """medallion's API root URL, serving ``initial`` in one collection."""
    import medallion as peer
    from werkzeug.serving import make_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "medallion.json"
    data_file(path, port, initial)
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(path),
        },
        "users": {USER[0]: USER[1]},
        "taxii": {"max_page_size": 2},
    }
    app = peer.application_instance
    for prop in ("users", "taxii", "backend"):
        peer.set_config(app, prop, config)
    if "objects" not in app.blueprints:  # the Flask app is medallion's module-level singleton
        peer.register_blueprints(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/root/"
    server.shutdown()
    thread.join(5)


def peer_ids(url: str) -> set[str]:
    """Every object id medallion holds in the collection, following its pages."""
    found: set[str] = set()
    params = {"limit": "2"}  # medallion 3 fails (500) on a next without a limit
    while True:
        response = httpx.get(
            f"{url}collections/{COLLECTION}/objects/",
            params=params,
            auth=USER,
            headers={"Accept": TAXII},
        )
        response.raise_for_status()
        body = response.json()
        found |= {obj["id"] for obj in body.get("objects", [])}
        if not body.get("more"):
            return found
        params = {"limit": "2", "next": body["next"]}


def held(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(StixObjectRow.object_id)))


def test_collections_lists_the_peer(medallion: str) -> None:
    found = collections(medallion, USER)
    assert [(c["id"], c["can_read"], c["can_write"]) for c in found] == [(COLLECTION, True, True)]


def test_pull_stores_everything_then_only_what_is_new(
    medallion: str, store: Store, initial: list[dict[str, Any]]
) -> None:
    first = pull(store, medallion, COLLECTION, USER, limit=2)
    assert first.imported.stored == 3
    assert first.pages == 2  # medallion pages by 2: 2 objects, then 1
    assert first.cursor == "2026-01-03T00:00:00.000000Z"
    assert held(store) >= {obj["id"] for obj in initial}

    later = [indicator("TLP:CLEAR", stamp="2026-02-01T00:00:00.000Z") for _ in range(2)]
    status = push(medallion, COLLECTION, later, "TLP:CLEAR", USER)
    assert status.status is not None
    assert status.status["success_count"] == 2

    second = pull(store, medallion, COLLECTION, USER, limit=2)
    assert second.imported.stored == 2
    assert second.imported.skipped == 0, "the second pull fetched objects it already had"
    assert held(store) >= {obj["id"] for obj in initial + later}
    assert second.cursor is not None
    assert second.cursor > str(first.cursor)

    third = pull(store, medallion, COLLECTION, USER)
    assert third.imported.stored == 0
    assert third.imported.skipped == 0


def test_push_sends_only_what_the_ceiling_allows(medallion: str) -> None:
    green, amber, unmarked, red = (
        indicator("TLP:GREEN"),
        indicator("TLP:AMBER"),
        indicator(None),
        indicator("TLP:RED"),
    )
    result = push(medallion, COLLECTION, [green, amber, unmarked, red], "TLP:AMBER", USER)
    assert result.sent == 3
    assert result.withheld == [red["id"]]
    ids = peer_ids(medallion)
    assert {green["id"], amber["id"], unmarked["id"]} <= ids
    assert red["id"] not in ids

    only_green = push(medallion, COLLECTION, [amber, unmarked], "TLP:GREEN", USER)
    assert only_green.sent == 0
    assert only_green.status is None
    with pytest.raises(UnknownMarking):
        push(medallion, COLLECTION, [green], "TLP:PURPLE", USER)


def test_refusals_are_named_and_nothing_is_stored(medallion: str, store: Store) -> None:
    before = held(store)
    with pytest.raises(TaxiiClientError, match="401"):
        pull(store, medallion, COLLECTION, ("peer", "wrong"))
    with pytest.raises(TaxiiClientError, match="404"):
        pull(store, medallion, str(uuid.uuid4()), USER)
    with pytest.raises(TaxiiClientError, match=r"no JSON|answered"):
        collections(medallion.replace("/root/", "/nowhere/"), USER)
    assert held(store) == before


def test_cli_lists_and_pulls(medallion: str, tmp_path: Path) -> None:
    from cyberpeace.cli import app

    runner = CliRunner()
    env = {"CYBERPEACE_TAXII_USER": USER[0], "CYBERPEACE_TAXII_PASSWORD": USER[1]}
    listed = runner.invoke(app, ["taxii", "collections", medallion], env=env)
    assert listed.exit_code == 0, listed.output
    assert COLLECTION in listed.output
    data = tmp_path / "cli-data"
    args = ["taxii", "pull", medallion, COLLECTION, "--data-dir", str(data)]
    pulled = runner.invoke(app, args, env=env)
    assert pulled.exit_code == 0, pulled.output
    assert "stored 3" in pulled.output
    again = runner.invoke(app, args, env=env)
    assert "stored 0, skipped 0" in again.output, again.output
    refused = runner.invoke(app, ["taxii", "collections", medallion], env={})
    assert refused.exit_code == 1
    assert "401" in refused.output


def test_cli_pushes_only_what_is_new_and_under_the_ceiling(medallion: str, tmp_path: Path) -> None:
    from cyberpeace.cli import app
    from cyberpeace.config import Settings
    from cyberpeace.share.stix_bundle import parse_bundle
    from cyberpeace.share.stix_import import ImportResult, import_parsed
    from cyberpeace.store import open_store

    data = tmp_path / "cli-data"
    local = open_store(Settings(data_dir=data).database_url)
    green, red = indicator("TLP:GREEN"), indicator("TLP:RED")
    with local.session() as session:
        parsed = parse_bundle(json.dumps([green, red]))
        import_parsed(session, parsed, ImportResult(), collection="mission", added_by="test")
    local.close()
    runner = CliRunner()
    env = {"CYBERPEACE_TAXII_USER": USER[0], "CYBERPEACE_TAXII_PASSWORD": USER[1]}
    args = ["taxii", "push", medallion, COLLECTION, "--tlp", "TLP:AMBER", "--data-dir", str(data)]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    assert "sent 1, withheld 1" in first.output
    ids = peer_ids(medallion)
    assert green["id"] in ids
    assert red["id"] not in ids
    again = runner.invoke(app, args, env=env)
    assert "sent 0, withheld 0" in again.output, again.output
