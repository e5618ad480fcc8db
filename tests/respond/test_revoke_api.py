"""Revoking an action through the API: the nft set element is deleted in a real namespace,
the step is in the hash-chained audit log; parties may not revoke, an ended action cannot be."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.respond import NftablesEnforcer, reconcile, respond
from cyberpeace.store import Store, audit
from cyberpeace.store.tables import ActionRow

from ..api.conftest import API, TestClient
from .conftest import EXAMPLES, context, flood, stored
from .netns import ATTACKER, Network


@pytest.fixture
def settings(tmp_path: Path, network: Network) -> Settings:
    """The app enforces in the test's router namespace; no sweeper."""
    return Settings(
        data_dir=tmp_path / "data",
        mandate=EXAMPLES / "demo.yaml",
        nft_netns=network.ns("router"),
        action_sweep_seconds=0,
    )


def test_revoke_withdraws_the_nft_element_and_is_on_the_record(
    client: TestClient,
    store: Store,
    network: Network,
    demo_mandate: Mandate,
    staff: dict[str, str],
    arcadia: dict[str, str],
    tokens: object,
) -> None:
    now = datetime.now(UTC)
    attack = stored(store, flood([(ATTACKER, "borduria")], end=now))
    with store.session() as session:
        created = respond(session, [attack], context(demo_mandate, now)).created
        action_id = next(r.id for r in created if r.kind == "edge-filter")
        proposed = next(r.id for r in created if r.status == "proposed")
    edge = NftablesEnforcer(netns=network.ns("router"))
    assert action_id in reconcile(store, {"nftables": edge}, now).applied
    assert len(edge.elements("src_dst4")) == 1

    url = f"{API}/actions/{action_id}/revoke"
    forbidden = client.post(url, json={"reason": "not ours to end"}, headers=arcadia)
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "only mission staff may revoke actions"
    assert client.post(url, json={"reason": ""}, headers=staff).status_code == 422
    assert client.post(url, json={}, headers=staff).status_code == 422
    missing = client.post(f"{API}/actions/999999/revoke", json={"reason": "x"}, headers=staff)
    assert missing.status_code == 404
    assert len(edge.elements("src_dst4")) == 1  # none of that touched the rule

    done = client.post(url, json={"reason": "the attack stopped at 10:40"}, headers=staff)
    assert done.status_code == 200
    assert done.json()["status"] == "revoked"
    assert done.json()["status_reason"] == "the attack stopped at 10:40"
    assert edge.elements("src_dst4") == []  # removed after the response, before we got it
    with store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        assert row.status == "revoked"
        assert row.in_force is False
        entries = audit.entries(session, subject=f"action:{action_id}")
        steps = [e.action for e in entries]
        revoked_by = next(e for e in entries if e.action == "action.revoke")
        assert revoked_by.actor == tokens.staff_actor  # type: ignore[attr-defined]
        assert json.loads(revoked_by.detail) == {
            "from": "applied",
            "reason": "the attack stopped at 10:40",
        }
    assert steps.index("action.revoke") < steps.index("action.remove")
    assert client.get(f"{API}/audit/verify", headers=staff).json()["ok"] is True

    again = client.post(url, json={"reason": "twice"}, headers=staff)
    assert again.status_code == 409
    assert again.json()["detail"] == f"action {action_id} is revoked; nothing to revoke"
    # A proposed action may be revoked too (withdrawn before anyone decided).
    pending = client.post(
        f"{API}/actions/{proposed}/revoke", json={"reason": "superseded"}, headers=staff
    )
    assert pending.json()["status"] == "revoked"
