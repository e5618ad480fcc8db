"""The expiry sweep on a timer.

One test runs it for real: the app's lifespan starts the sweeper, which applies an approved
FlowSpec action through ExaBGP to a real gobgpd, and at the action's deadline expires it and
withdraws the route from gobgpd's RIB. The others use SQLite only: an unreachable ExaBGP leaves
the action failed with the error, alerted, retried on the back-off schedule; a pass that
raises does not stop the sweeper; ``cyberpeace actions sweep`` runs one pass.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cyberpeace.app import create_app
from cyberpeace.cli import app as cli
from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.respond import Alert, approve, respond
from cyberpeace.respond.enforcers.exabgp import ExaBgpActionEnforcer, ExaBgpEnforcer
from cyberpeace.respond.sweeper import Sweeper
from cyberpeace.store import Store, Viewer, audit, open_store, sync_mandate
from cyberpeace.store.tables import ActionRow

from ..conftest import TestClient
from .conftest import EXAMPLES, NO_NAMESPACE, VICTIM, context, flood, stored
from .gobgp_peer import bgp_lab, flow_components, gobgp_installed, wait_for

SOURCE = "198.19.77.1"
DESTINATION, SOURCE_COMPONENT = 1, 2


def _approved(
    store: Store, mandate: Mandate, lasts: timedelta, kinds: tuple[str, ...] = ("flowspec",)
) -> list[int]:
    """Actions of ``kinds`` against SOURCE, approved by as many people as the rules of
    engagement ask (one for FlowSpec, two for RTBH), each expiring after ``lasts``."""
    now = datetime.now(UTC)
    attack = stored(store, flood([(SOURCE, "borduria")], end=now, peak_bps=40e9))
    with store.session() as session:
        created = respond(session, [attack], context(mandate, now)).created
        chosen = [next(r for r in created if r.kind == kind) for kind in kinds]
        for row in chosen:
            row.expires_at = now + lasts
            for n in range(row.approvals_needed or 0):
                approver = Viewer("staff", name=f"duty-officer-{n}")
                approve(session, approver, row.id, "upstream must drop it", now)
            assert row.status == "approved"
        for other in created:  # only the chosen actions matter here
            if other not in chosen:
                other.status, other.next_attempt_at = "rejected", None
        return [row.id for row in chosen]


def _approved_flowspec(store: Store, mandate: Mandate, lasts: timedelta) -> int:
    (action_id,) = _approved(store, mandate, lasts)
    return action_id


def _status(store: Store, action_id: int) -> ActionRow:
    with store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        session.expunge(row)
        return row


@pytest.mark.skipif(not gobgp_installed(), reason="gobgpd not installed")
def test_the_apps_sweeper_expires_an_action_and_withdraws_its_route(
    tmp_path: Path, demo_mandate: Mandate
) -> None:
    with bgp_lab(tmp_path) as (peer, speaker):
        probe = ExaBgpEnforcer(speaker.config.socket_path)
        wait_for(lambda: any(s.established for s in probe.sessions()))
        settings = Settings(
            data_dir=tmp_path / "data",
            mandate=EXAMPLES / "demo.yaml",
            nft_netns=NO_NAMESPACE,
            exabgp_socket=speaker.config.socket_path,
            action_sweep_seconds=0.2,
        )
        store = open_store(settings.database_url)
        with store.session() as session:
            sync_mandate(session, demo_mandate)
        action_id, rtbh_id = _approved(
            store, demo_mandate, timedelta(seconds=4), ("flowspec", "rtbh")
        )

        def blackholed() -> bool:
            return f"{VICTIM}/32" in peer.rib("ipv4")

        def routes() -> set[str]:
            found = set()
            for paths in peer.rib("ipv4-flowspec").values():
                for path in paths:
                    parts = flow_components(path)
                    if parts[DESTINATION]["prefix"] == f"{VICTIM}/32":
                        found.add(parts[SOURCE_COMPONENT]["prefix"])
            return found

        app = create_app(settings, store)
        with TestClient(app):  # the lifespan starts the sweeper, leaving stops it
            sweeper = app.state.sweeper
            assert isinstance(sweeper, Sweeper)
            wait_for(lambda: routes() == {f"{SOURCE}/32"} or None)
            wait_for(blackholed)
            wait_for(lambda: _status(store, action_id).status == "applied")  # then recorded
            wait_for(lambda: _status(store, rtbh_id).status == "applied")
            assert _status(store, action_id).in_force is True
            started = time.monotonic()
            wait_for(lambda: _status(store, action_id).status == "expired", timeout=20)
            wait_for(lambda: routes() == set() or None)
            wait_for(lambda: not blackholed())
            assert _status(store, rtbh_id).status == "expired"
            print(f"expired and withdrawn {time.monotonic() - started:.1f} s after applied")
            assert _status(store, action_id).in_force is False
            assert sweeper.passes >= 2
        assert not sweeper._thread.is_alive()
        with store.session() as session:
            steps = [e.action for e in audit.entries(session, subject=f"action:{action_id}")]
        assert steps[-3:] == ["action.apply", "action.expire", "action.remove"]
        store.close()


def test_an_unreachable_exabgp_fails_is_alerted_and_retried_with_back_off(
    sqlite_store: Store, settings: Settings, demo_mandate: Mandate, tmp_path: Path
) -> None:
    action_id = _approved_flowspec(sqlite_store, demo_mandate, timedelta(minutes=30))
    gone = ExaBgpActionEnforcer(ExaBgpEnforcer(tmp_path / "no-exabgp.sock"))
    alerts: list[Alert] = []
    sweeper = Sweeper(sqlite_store, settings, 60, enforcers={"exabgp": gone}, alert=alerts.append)
    first = sweeper.sweep()
    assert first.failed == [action_id]
    row = _status(sqlite_store, action_id)
    assert row.status == "failed"
    assert row.in_force is False
    assert row.attempts == 1
    assert "ExaBGP is not running: no API socket" in (row.last_error or "")
    assert row.next_attempt_at is not None
    assert row.updated_at is not None
    assert row.next_attempt_at - row.updated_at == timedelta(seconds=5)  # policy.yaml base
    assert [a.action_id for a in alerts] == [action_id]
    assert "retry at" in alerts[0].message
    assert not alerts[0].final
    assert sweeper.sweep().failed == []  # not due again yet: the back-off holds
    assert _status(sqlite_store, action_id).attempts == 1
    with sqlite_store.session() as session:
        session.get(ActionRow, action_id).next_attempt_at = datetime.now(UTC)  # type: ignore[union-attr]
    assert sweeper.sweep().failed == [action_id]
    row = _status(sqlite_store, action_id)
    assert row.attempts == 2
    assert row.next_attempt_at is not None
    assert row.updated_at is not None
    assert row.next_attempt_at - row.updated_at == timedelta(seconds=10)  # doubled
    with sqlite_store.session() as session:
        kinds = [e.action for e in audit.entries(session, subject=f"action:{action_id}")]
    assert kinds.count("action.fail") == 2
    assert kinds.count("action.alert") == 2


def test_a_pass_that_raises_does_not_stop_the_sweeper(
    sqlite_store: Store, settings: Settings, demo_mandate: Mandate, caplog: pytest.LogCaptureFixture
) -> None:
    action_id = _approved_flowspec(sqlite_store, demo_mandate, timedelta(minutes=5))
    with sqlite_store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        row.expires_at = None  # a broken row: enforcement cannot hand it to an enforcer
    sweeper = Sweeper(sqlite_store, settings, 0.05, enforcers={}).start()
    try:
        wait_for(lambda: "action sweep failed; next pass in 0.05 s" in caplog.text, timeout=10)
        assert sweeper._thread.is_alive()
        with sqlite_store.session() as session:
            row = session.get(ActionRow, action_id)
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)  # mended, and over
        wait_for(lambda: _status(sqlite_store, action_id).status == "expired", timeout=10)
    finally:
        sweeper.stop()
    assert sweeper.passes >= 1
    assert not sweeper._thread.is_alive()


def test_zero_interval_means_no_sweeper(settings: Settings, sqlite_store: Store) -> None:
    app = create_app(settings, sqlite_store)
    with TestClient(app):
        assert app.state.sweeper is None
    with pytest.raises(ValueError, match="sweep interval must be above 0 seconds, not 0"):
        Sweeper(sqlite_store, settings, 0)


def test_actions_sweep_cli_expires_what_is_due(tmp_path: Path, demo_mandate: Mandate) -> None:
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{(data / 'cyberpeace.db').resolve()}")
    with store.session() as session:
        sync_mandate(session, demo_mandate)
    action_id = _approved_flowspec(store, demo_mandate, timedelta(minutes=5))
    with store.session() as session:
        row = session.get(ActionRow, action_id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    env = {"CYBERPEACE_NFT_NETNS": NO_NAMESPACE}
    done = CliRunner().invoke(cli, ["actions", "sweep", "--data-dir", str(data)], env=env)
    assert done.exit_code == 0, done.output
    assert _status(store, action_id).status == "expired"
    with store.session() as session:
        left = session.scalars(select(ActionRow).where(ActionRow.status == "approved")).all()
    assert left == []
    bad = CliRunner().invoke(cli, ["actions", "sweep", "--every", "-1", "--data-dir", str(data)])
    assert bad.exit_code == 2
    store.close()
