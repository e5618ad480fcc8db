"""Serving a TAXII 2.1 collection page by page: our /taxii2/ server against medallion.

Generates N indicators (default 100,000) and loads them, without HTTP, into both servers:

- ours: ``add_objects`` into a fresh SQLite store (the bulk path), served by ``create_app`` under
  uvicorn on a loopback port;
- medallion 3 (the OASIS reference server): its memory backend's JSON data file written directly
  (its POST path appends to the manifest one object at a time and is quadratic), its Flask app
  served by werkzeug's ``make_server`` in a thread on a loopback port.

Then one ``httpx.Client`` GETs every object of each collection, ``limit`` objects a page
(default 1000, the largest page our server gives; medallion is configured with the same
``max_page_size``), following ``more``/``next`` (TAXII 2.1 section 3.4), and the script prints
objects per second for each and the ratio.

medallion's GET is itself quadratic (each request walks its whole data tree and matches every
object against the manifest one by one: 2,000 objects took about 70 s for one page here), so it
runs on the first ``--medallion-objects`` of the N (default 1,000, printed). Our server is timed
on all N and, for the ratio on the same input, on a store holding only that subset.

    .venv/bin/python benchmarks/taxii_get.py [--objects 100000] [--limit 1000]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from cyberpeace.app import create_app
from cyberpeace.config import Settings
from cyberpeace.mission import load_mandate
from cyberpeace.share.stix_bundle import parse_bundle
from cyberpeace.share.taxii_access import collection_id
from cyberpeace.store import create_token, open_store, sync_mandate
from cyberpeace.store.stix_objects import add_objects

TAXII = "application/taxii+json;version=2.1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
MANDATE = Path(__file__).resolve().parent.parent / "src/cyberpeace/mission/examples/demo.yaml"


def indicators(count: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    found = []
    for index in range(count):
        moment = (start + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        found.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid4()}",
                "created": moment,
                "modified": moment,
                "pattern": f"[ipv4-addr:value = '10.{index >> 16 & 255}.{index >> 8 & 255}."
                f"{index & 255}']",
                "pattern_type": "stix",
                "valid_from": moment,
                "object_marking_refs": [GREEN],
            }
        )
    return found


class _Uvicorn(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass


def serve_ours(objects: list[dict[str, Any]], work: Path) -> tuple[str, str, _Uvicorn]:
    settings = Settings(data_dir=work / "data", mandate=MANDATE)
    store = open_store(settings.database_url)
    parsed = parse_bundle(json.dumps(objects).encode())
    assert not parsed.errors, parsed.errors[:3]
    with store.session() as session:
        sync_mandate(session, load_mandate(MANDATE))
        add_objects(session, "mission", parsed.valid, "benchmark")
        token = create_token(session, party_id=None, by="benchmark")
    server = _Uvicorn(
        uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=0, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    collection = collection_id("demo-mission", "mission")
    url = f"http://127.0.0.1:{port}/taxii2/root/collections/{collection}/objects/"
    return url, token, server


def medallion_data(objects: list[dict[str, Any]], port: int, collection: str) -> dict[str, Any]:
    """The memory backend's data file: discovery, one API root, one collection and its manifest."""
    start = datetime(2026, 12, 1, tzinfo=UTC)
    manifest = []
    stored = []
    for index, obj in enumerate(objects):
        added = (start + timedelta(microseconds=index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stored.append({**obj, "_date_added": added})
        manifest.append(
            {
                "id": obj["id"],
                "date_added": added,
                "version": obj["modified"],
                "media_type": "application/stix+json;version=2.1",
            }
        )
    return {
        "/discovery": {
            "title": "benchmark",
            "default": f"http://127.0.0.1:{port}/root/",
            "api_roots": [f"http://127.0.0.1:{port}/root/"],
        },
        "root": {
            "information": {
                "title": "root",
                "versions": [TAXII],
                "max_content_length": 104857600,
            },
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "benchmark",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": stored,
                    "manifest": manifest,
                }
            ],
        },
    }


def serve_medallion(
    objects: list[dict[str, Any]], work: Path, limit: int
) -> tuple[str, tuple[str, str], Any]:
    import socket

    import medallion
    from werkzeug.serving import make_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collection = str(uuid.uuid4())
    data_file = work / "medallion.json"
    data_file.write_text(json.dumps(medallion_data(objects, port, collection)))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_file),
        },
        "users": {"bench": "bench"},
        "taxii": {"max_page_size": limit},
    }
    app = medallion.application_instance
    for prop in ("users", "taxii", "backend"):
        medallion.set_config(app, prop, config)
    medallion.register_blueprints(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return (
        f"http://127.0.0.1:{port}/root/collections/{collection}/objects/",
        ("bench", "bench"),
        server,
    )


def get_all(client: httpx.Client, url: str, limit: int) -> int:
    """Every object of the collection, following ``next``; the count read."""
    count = 0
    params: dict[str, str] = {"limit": str(limit)}
    while True:
        response = client.get(url, params=params)
        response.raise_for_status()
        body = response.json()
        count += len(body.get("objects", []))
        if not body.get("more"):
            return count
        params = {"limit": str(limit), "next": str(body["next"])}


def timed(client: httpx.Client, url: str, limit: int, expected: int) -> float:
    start = time.perf_counter()
    count = get_all(client, url, limit)
    seconds = time.perf_counter() - start
    if count != expected:
        raise SystemExit(f"read {count} objects, expected {expected}")
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--medallion-objects", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    objects = indicators(args.objects)
    subset = objects[: args.medallion_objects]
    headers = {"Accept": TAXII}
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rates = []
        for name, chosen in (("all", objects), ("subset", subset)):
            our_url, token, ours = serve_ours(chosen, work / name)
            bearer = {**headers, "Authorization": f"Bearer {token}"}
            with httpx.Client(headers=bearer, timeout=600) as client:
                rates.append(timed(client, our_url, args.limit, len(chosen)))
            ours.should_exit = True
        their_url, basic, theirs = serve_medallion(subset, work, args.limit)
        with httpx.Client(headers=headers, auth=basic, timeout=600) as client:
            their_rate = timed(client, their_url, args.limit, len(subset))
        theirs.shutdown()
    ours_all, ours_subset = rates
    n, m = f"{len(objects):,}", f"{len(subset):,}"
    print(f"page size {args.limit}, one httpx.Client, loopback")
    print(f"cyberpeace /taxii2/ (uvicorn, SQLite), {n} objects: {ours_all:,.0f} objects/s")
    print(f"cyberpeace /taxii2/ (uvicorn, SQLite), {m} objects: {ours_subset:,.0f} objects/s")
    print(f"medallion 3 memory backend (werkzeug), {m} objects: {their_rate:,.0f} objects/s")
    print(f"ratio on the same {m} objects: {ours_subset / their_rate:.1f}x")
    print(f"ratio, ours on {n} to medallion on {m}: {ours_all / their_rate:.1f}x")


if __name__ == "__main__":
    main()
