"""The audit routes: listing and paging the chain, verifying it, staff only."""

from __future__ import annotations

import itertools

from cyberpeace.store import Store
from tests.api.conftest import API, Seed, TestClient, counts


def test_audit_lists_the_whole_chain_in_order(
    client: TestClient, store: Store, seeded: Seed, staff: dict[str, str]
) -> None:
    _, total = counts(store)
    response = client.get(f"{API}/audit", params={"limit": 1000}, headers=staff)
    assert response.status_code == 200, response.text
    entries = response.json()
    assert [e["seq"] for e in entries] == list(range(1, total + 1))
    assert entries[0]["prev_hash"] == "0" * 64
    for earlier, later in itertools.pairwise(entries):
        assert later["prev_hash"] == earlier["hash"]
    actions = [e["action"] for e in entries]
    assert actions[0] == "mandate.load"
    assert actions.count("token.create") == 3
    assert actions.count("detection.create") == 5
    assert actions.count("incident.create") == 4
    assert "incident.share" in actions
    assert "incident.status" in actions
    assert set(entries[0]) == {
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "detail",
        "prev_hash",
        "hash",
    }


def test_audit_paging(
    client: TestClient, store: Store, seeded: Seed, staff: dict[str, str]
) -> None:
    _, total = counts(store)
    page = client.get(f"{API}/audit", params={"after": 2, "limit": 3}, headers=staff).json()
    assert [e["seq"] for e in page] == [3, 4, 5]
    default = client.get(f"{API}/audit", headers=staff).json()
    assert len(default) == min(total, 100)
    past_the_end = client.get(f"{API}/audit", params={"after": total}, headers=staff).json()
    assert past_the_end == []


def test_verify(client: TestClient, store: Store, seeded: Seed, staff: dict[str, str]) -> None:
    _, total = counts(store)
    response = client.get(f"{API}/audit/verify", headers=staff)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "entries": total, "first_bad_seq": None, "reason": ""}


def test_reads_are_not_audited(
    client: TestClient, store: Store, seeded: Seed, staff: dict[str, str], arcadia: dict[str, str]
) -> None:
    before = counts(store)
    for path in ["/parties", "/safe-areas", "/detections", "/incidents", "/audit"]:
        assert client.get(API + path, headers=staff).status_code == 200
    assert client.get(f"{API}/incidents/{seeded.hospital}", headers=arcadia).status_code == 200
    assert counts(store) == before
