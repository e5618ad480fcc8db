"""GET /messages and POST /messages/{id}/ack: a party sees and acknowledges only its own."""

from __future__ import annotations

from cyberpeace.detect.reported import DetectionUpdate
from cyberpeace.store import DetectionRecorder, Store
from tests.api.conftest import API, TestClient
from tests.store.test_early_warning import scan


def _warn(store: Store) -> None:
    found = scan(dst="198.18.10.5") + scan(dst="198.19.30.7")  # arcadia's hospital, borduria's grid
    DetectionRecorder(store)([DetectionUpdate(i, d, True) for i, d in enumerate(found)])


def test_each_party_sees_its_own_messages(
    client: TestClient,
    store: Store,
    staff: dict[str, str],
    arcadia: dict[str, str],
    borduria: dict[str, str],
) -> None:
    _warn(store)
    everything = client.get(f"{API}/messages", headers=staff).json()
    assert sorted(m["to_party_id"] for m in everything) == ["arcadia", "borduria"]
    mine = client.get(f"{API}/messages", headers=arcadia).json()
    assert [m["to_party_id"] for m in mine] == ["arcadia"]
    assert mine[0]["kind"] == "early-warning"
    assert mine[0]["count"] == 1
    theirs = next(m for m in everything if m["to_party_id"] == "borduria")
    assert client.get(f"{API}/messages/{theirs['id']}", headers=arcadia).status_code == 403
    asked = client.get(f"{API}/messages", params={"party": "borduria"}, headers=arcadia).json()
    assert asked == []
    by_staff = client.get(f"{API}/messages", params={"party": "borduria"}, headers=staff).json()
    assert [m["id"] for m in by_staff] == [theirs["id"]]
    assert client.get(f"{API}/messages").status_code == 401


def test_a_party_acknowledges_its_own_message_only(
    client: TestClient,
    store: Store,
    arcadia: dict[str, str],
    borduria: dict[str, str],
) -> None:
    _warn(store)
    (mine,) = client.get(f"{API}/messages", headers=arcadia).json()
    refused = client.post(f"{API}/messages/{mine['id']}/ack", headers=borduria)
    assert refused.status_code == 403
    assert (
        client.get(f"{API}/messages/{mine['id']}", headers=arcadia).json()["acknowledged_at"]
        is None
    )
    done = client.post(f"{API}/messages/{mine['id']}/ack", headers=arcadia)
    assert done.status_code == 200
    assert done.json()["acknowledged_by"] == "party:arcadia"
    assert done.json()["acknowledged_at"] is not None
    again = client.post(f"{API}/messages/{mine['id']}/ack", headers=arcadia).json()
    assert again["acknowledged_at"] == done.json()["acknowledged_at"]
    left = client.get(f"{API}/messages", params={"unacknowledged": True}, headers=arcadia).json()
    assert left == []
    assert client.post(f"{API}/messages/999999/ack", headers=arcadia).status_code == 404
