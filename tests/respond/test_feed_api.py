"""The block-list feed served by the API, on the real app and store (SQLite, then PostgreSQL).

Entries come from blocklist actions the lifecycle applied with the real block-list enforcer;
they leave the feed when the action is revoked or expires. The STIX bundle passes the OASIS
validator (stix2-validator, strict). Readers see what their TLP allows.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from stix2validator import ValidationOptions, validate_string

from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.respond import approve, reconcile, respond
from cyberpeace.respond.setup import enforcers_for
from cyberpeace.store import Store, Viewer
from cyberpeace.store.tables import ActionRow

from ..api.conftest import API, TestClient
from .conftest import context, flood, stored

FEED = f"{API}/blocklist"
BORDURIAN = "198.19.77.1"  # in Borduria's territory
NOWHERE = "203.0.113.77"  # in no party's territory
STRICT = ValidationOptions(version="2.1", strict=True)
STAFF = Viewer("staff", name="duty-officer")


def _listed(
    store: Store, settings: Settings, mandate: Mandate, source: str, party: str | None
) -> int:
    """A blocklist action against ``source``, approved and applied by the real enforcer."""
    now = datetime.now(UTC)
    attack = stored(store, flood([(source, party)], end=now))
    with store.session() as session:
        created = respond(session, [attack], context(mandate, now)).created
        action_id = next(r.id for r in created if r.kind == "blocklist")
        approve(session, STAFF, action_id, "sources seen attacking the hospital", now)
    blocklist = {"blocklist": enforcers_for(settings)["blocklist"]}
    assert action_id in reconcile(store, blocklist, now).applied
    return action_id


def _values(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get(FEED, params={"format": "text"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [line for line in response.text.splitlines() if not line.startswith("#")]


def test_the_feed_in_three_formats_with_validators_and_conditional_gets(
    client: TestClient,
    store: Store,
    settings: Settings,
    demo_mandate: Mandate,
    staff: dict[str, str],
) -> None:
    assert _values(client, staff) == []
    action_id = _listed(store, settings, demo_mandate, BORDURIAN, "borduria")
    assert _values(client, staff) == [BORDURIAN]

    as_csv = client.get(FEED, params={"format": "csv"}, headers=staff)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["value"], r["type"], r["party"], r["tlp"]) for r in rows] == [
        (BORDURIAN, "ipv4-addr", "borduria", "TLP:AMBER")
    ]
    assert rows[0]["action"] == str(action_id)
    assert datetime.fromisoformat(rows[0]["expires_at"]) > datetime.now(UTC)

    stix = client.get(FEED, headers={**staff, "Accept": "application/stix+json;version=2.1"})
    assert stix.status_code == 200
    assert stix.headers["content-type"] == "application/stix+json;version=2.1"
    result = validate_string(stix.text, STRICT)
    assert result.is_valid, [str(e) for e in result.errors]
    indicators = [o for o in json.loads(stix.text)["objects"] if o["type"] == "indicator"]
    assert [i["pattern"] for i in indicators] == [f"[ipv4-addr:value = '{BORDURIAN}']"]
    assert client.get(FEED, headers={**staff, "Accept": "application/stix+json"}).text == stix.text

    # Polling: the same body has the same ETag; If-None-Match or If-Modified-Since -> 304.
    etag, modified = stix.headers["etag"], stix.headers["last-modified"]
    again = client.get(FEED, headers={**staff, "Accept": "application/json", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    since = client.get(
        FEED, params={"format": "stix"}, headers={**staff, "If-Modified-Since": modified}
    )
    assert since.status_code == 304
    stale = client.get(
        FEED,
        params={"format": "stix"},
        headers={**staff, "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    assert stale.status_code == 200
    assert client.get(FEED, headers={**staff, "If-None-Match": '"other"'}).status_code == 200
    assert _values(client, {**staff, "Accept": "text/csv;q=0.5, text/plain"}) == [BORDURIAN]
    assert client.get(FEED, headers={**staff, "Accept": "text/csv"}).text == as_csv.text

    # Revoked through the API: out of the feed and out of the enforcer's files.
    feed_file = settings.data_dir / "blocklist" / "blocklist.txt"
    assert BORDURIAN in feed_file.read_text()
    revoked = client.post(
        f"{API}/actions/{action_id}/revoke", json={"reason": "attack over"}, headers=staff
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert _values(client, staff) == []
    assert BORDURIAN not in feed_file.read_text()
    changed = client.get(FEED, headers={**staff, "Accept": "application/stix+json"})
    assert changed.headers["etag"] != etag
    assert client.get(FEED, headers={**staff, "If-None-Match": etag}).status_code == 200


def test_expired_entries_leave_the_feed(
    client: TestClient,
    store: Store,
    settings: Settings,
    demo_mandate: Mandate,
    staff: dict[str, str],
) -> None:
    action_id = _listed(store, settings, demo_mandate, BORDURIAN, "borduria")
    before = client.get(FEED, headers=staff)
    assert _values(client, staff) == [BORDURIAN]
    with store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)  # its time is up
    after = client.get(FEED, headers=staff)
    assert _values(client, staff) == []  # even before any sweep moved its status
    assert after.headers["etag"] != before.headers["etag"]


def test_each_reader_gets_what_its_tlp_allows(
    client: TestClient,
    store: Store,
    settings: Settings,
    demo_mandate: Mandate,
    staff: dict[str, str],
    arcadia: dict[str, str],
    borduria: dict[str, str],
) -> None:
    _listed(store, settings, demo_mandate, BORDURIAN, "borduria")
    nowhere = _listed(store, settings, demo_mandate, NOWHERE, None)
    assert _values(client, staff) == [BORDURIAN, NOWHERE]
    # TLP:AMBER: the protected party (Arcadia) and the party the source is in (Borduria).
    assert _values(client, arcadia) == [BORDURIAN, NOWHERE]
    assert _values(client, borduria) == [BORDURIAN]
    stix = client.get(FEED, params={"format": "stix"}, headers=borduria).json()
    assert NOWHERE not in json.dumps(stix)
    with store.session() as session:
        row = session.get(ActionRow, nowhere)
        assert row is not None
        row.parameters = {**row.parameters, "tlp": "TLP:GREEN"}  # shared more widely
    assert _values(client, borduria) == [BORDURIAN, NOWHERE]


def test_bad_format_and_unacceptable_accept_are_named(
    client: TestClient, staff: dict[str, str]
) -> None:
    bad = client.get(FEED, params={"format": "xml"}, headers=staff)
    assert bad.status_code == 400
    assert bad.json()["detail"] == (
        "unknown block-list format 'xml'; expected one of text, csv, stix"
    )
    refused = client.get(FEED, headers={**staff, "Accept": "image/png"})
    assert refused.status_code == 406
    assert "image/png" in refused.json()["detail"]
    assert "?format=text|csv|stix" in refused.json()["detail"]
    zero = client.get(FEED, headers={**staff, "Accept": "text/plain;q=0"})
    assert zero.status_code == 406
    assert client.get(FEED).status_code == 401
