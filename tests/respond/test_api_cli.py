"""The actions API (list, approve, reject: success, 404, 403, 409) and the CLI commands, on
the real app and store (SQLite, then PostgreSQL through the ``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from cyberpeace.cli import app as cli
from cyberpeace.mission import Mandate
from cyberpeace.respond import respond
from cyberpeace.store import Store

from ..api.conftest import API, TestClient
from .conftest import context, flood, stored

EXAMPLES = Path(__file__).parent.parent.parent / "src" / "cyberpeace" / "mission" / "examples"


def _rtbh(store: Store, mandate: Mandate) -> int:
    now = datetime.now(UTC)
    attack = stored(store, flood([("198.19.77.1", "borduria")], end=now, peak_bps=40e9))
    with store.session() as session:
        created = respond(session, [attack], context(mandate, now)).created
        return next(r.id for r in created if r.kind == "rtbh")


def test_actions_api(
    client: TestClient,
    store: Store,
    demo_mandate: Mandate,
    staff: dict[str, str],
    arcadia: dict[str, str],
    borduria: dict[str, str],
) -> None:
    action_id = _rtbh(store, demo_mandate)
    pending = client.get(f"{API}/actions?pending=true", headers=staff).json()
    assert action_id in [a["id"] for a in pending]
    assert {a["status"] for a in pending} == {"proposed"}
    assert client.get(f"{API}/actions", headers=borduria).json() == []
    assert client.get(f"{API}/actions/{action_id}", headers=borduria).status_code == 403
    assert client.get(f"{API}/actions/999999", headers=staff).status_code == 404
    assert len(client.get(f"{API}/actions", headers=arcadia).json()) > 1
    url = f"{API}/actions/{action_id}/approve"
    assert client.post(url, json={"reason": "ok"}, headers=arcadia).status_code == 403
    first = client.post(url, json={"reason": "links saturated"}, headers=staff)
    assert first.status_code == 200
    assert first.json()["status"] == "proposed"
    assert client.post(url, json={"reason": "again"}, headers=staff).status_code == 409
    assert client.post(url, json={"reason": ""}, headers=staff).status_code == 422
    rejected = client.post(
        f"{API}/actions/{action_id}/reject", json={"reason": "no"}, headers=staff
    )
    assert rejected.json()["status"] == "rejected"
    assert client.post(url, json={"reason": "late"}, headers=staff).status_code == 409


def test_actions_cli(tmp_path: Path, monkeypatch: object, demo_mandate: Mandate) -> None:
    from cyberpeace.store import open_store, sync_mandate

    data = tmp_path / "data"
    opened = open_store(f"sqlite:///{(data / 'cyberpeace.db').resolve()}")
    with opened.session() as session:
        sync_mandate(session, demo_mandate)
    attack = stored(
        opened, flood([("198.19.77.1", "borduria")], end=datetime.now(UTC), peak_bps=4e10)
    )
    opened.close()
    runner = CliRunner()
    mandate = str(EXAMPLES / "demo.yaml")
    dry = runner.invoke(
        cli,
        [
            "actions",
            "plan",
            str(attack.detection_id),
            "--dry-run",
            "--mandate",
            mandate,
            "--data-dir",
            str(data),
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert "rtbh" in dry.output
    assert "dry run: nothing recorded" in dry.output
    assert runner.invoke(cli, ["actions", "list", "--data-dir", str(data)]).output == ""
    env = {"CYBERPEACE_NFT_NETNS": "cp-test-no-such-ns"}  # enforcement fails, on the record
    done = runner.invoke(
        cli,
        [
            "actions",
            "plan",
            str(attack.detection_id),
            "--mandate",
            mandate,
            "--data-dir",
            str(data),
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert "created:" in done.output
    listed = runner.invoke(cli, ["actions", "list", "--pending", "--data-dir", str(data)]).output
    rtbh = next(line for line in listed.splitlines() if " rtbh " in line)
    rtbh_id = rtbh.split()[0]
    approved = runner.invoke(
        cli,
        ["actions", "approve", rtbh_id, "--reason", "saturated", "--data-dir", str(data)],
        env=env,
    )
    assert approved.exit_code == 0
    assert "approvals 1/2" in approved.output
    again = runner.invoke(
        cli, ["actions", "approve", rtbh_id, "--reason", "x", "--data-dir", str(data)], env=env
    )
    assert again.exit_code == 1
    assert "already approved" in again.output
    all_rows = runner.invoke(cli, ["actions", "list", "--data-dir", str(data)]).output
    assert "failed" in all_rows
    assert "network namespace" in all_rows
    revoke = runner.invoke(cli, ["actions", "revoke", rtbh_id, "--data-dir", str(data)], env=env)
    assert revoke.exit_code == 0
    assert "revoked" in revoke.output
    expire = runner.invoke(cli, ["actions", "expire", "--data-dir", str(data)], env=env)
    assert expire.exit_code == 0


def test_console_lists_pending_actions_and_decides(
    client: TestClient, store: Store, demo_mandate: Mandate, tokens: object
) -> None:
    action_id = _rtbh(store, demo_mandate)
    client.post("/login", data={"token": tokens.staff})  # type: ignore[attr-defined]
    page = client.get("/").text
    assert f'action="/actions/{action_id}/approve"' in page
    done = client.post(f"/actions/{action_id}/approve", data={"reason": "saturated"})
    assert done.status_code == 200  # followed the redirect back to the dashboard
    again = client.post(f"/actions/{action_id}/approve", data={"reason": "twice"})
    assert again.status_code == 409
    assert client.post(f"/actions/{action_id}/reject", data={"reason": "no"}).status_code == 200
    assert f'action="/actions/{action_id}/approve"' not in client.get("/").text
    client.post("/login", data={"token": tokens.arcadia})  # type: ignore[attr-defined]
    assert client.post("/actions/1/approve", data={"reason": "x"}).status_code == 403
