"""Revoking an action from the console, in a real browser: staff give a reason and press Revoke
next to the actions in force; the action is revoked on the record; a party sees no button and
is refused if it posts anyway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from cyberpeace.app import create_app
from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.respond import respond
from cyberpeace.store import Store, audit, create_token, open_store, sync_mandate
from cyberpeace.store.tables import ActionRow
from tests.conftest import EXAMPLES
from tests.respond.conftest import NO_NAMESPACE, context, flood, stored
from tests.web.conftest import ServerThread, Watched, _watch

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Running:
    base_url: str
    store: Store
    staff: str
    arcadia: str
    edge_filter: int  # approved automatically: in force (or due), revocable
    flowspec: int  # awaiting one approval


@pytest.fixture
def running(tmp_path: Path, demo_mandate: Mandate) -> Iterator[Running]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = open_store(url)
    with store.session() as session:
        sync_mandate(session, demo_mandate)
        staff = create_token(session, party_id=None, label="duty-officer", by="test")
        arcadia = create_token(session, party_id="arcadia", by="test")
    now = datetime.now(UTC)
    attack = stored(store, flood([("198.19.77.1", "borduria")], end=now))
    with store.session() as session:
        created = respond(session, [attack], context(demo_mandate, now)).created
        edge = next(r.id for r in created if r.kind == "edge-filter")
        flowspec = next(r.id for r in created if r.kind == "flowspec")
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        mandate=EXAMPLES / "demo.yaml",
        nft_netns=NO_NAMESPACE,
        action_sweep_seconds=0,
    )
    try:
        with ServerThread(create_app(settings, store)) as base_url:
            yield Running(base_url, store, staff, arcadia, edge, flowspec)
    finally:
        store.close()


@pytest.fixture
def page_on(browser: Browser, running: Running) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield _watch(context.new_page(), running.base_url)
    finally:
        context.close()


def test_staff_revoke_an_action_in_force_with_a_reason(page_on: Watched, running: Running) -> None:
    page = page_on.page
    page_on.sign_in(running.staff)
    active = page.locator("#active-actions")
    row = active.locator(f"tr[data-action='{running.edge_filter}']")
    expect(row).to_contain_text("edge-filter")
    expect(row).to_contain_text("approved")
    # Revoke sits with the decisions: the pending FlowSpec still has approve and reject.
    pending = page.locator("#pending-actions")
    expect(pending.locator(f"form[action='/actions/{running.flowspec}/approve']")).to_have_count(1)
    expect(pending.locator(f"form[action='/actions/{running.flowspec}/reject']")).to_have_count(1)

    reason = row.get_by_label(f"reason to revoke action {running.edge_filter}")
    expect(reason).to_have_attribute("required", "")
    reason.fill("the attack stopped at 10:40")
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke").click()
    assert page.url == running.base_url + "/#actions"
    expect(active.locator(f"tr[data-action='{running.edge_filter}']")).to_have_count(0)
    with running.store.session() as session:
        action = session.get(ActionRow, running.edge_filter)
        assert action is not None
        assert action.status == "revoked"
        assert action.status_reason == "the attack stopped at 10:40"
        entry = next(
            e
            for e in audit.entries(session, subject=f"action:{running.edge_filter}")
            if e.action == "action.revoke"
        )
        assert json.loads(entry.detail)["reason"] == "the attack stopped at 10:40"
        assert entry.actor.startswith("staff:")

    again = page.request.post(
        f"{running.base_url}/actions/{running.edge_filter}/revoke", form={"reason": "twice"}
    )
    assert again.status == 409
    assert f"action {running.edge_filter} is revoked; nothing to revoke" in again.text()
    page_on.assert_clean()


def test_a_party_sees_no_revoke_and_is_refused(page_on: Watched, running: Running) -> None:
    page = page_on.page
    page_on.sign_in(running.arcadia)
    row = page.locator(f"#active-actions tr[data-action='{running.edge_filter}']")
    expect(row).to_contain_text("edge-filter")  # Arcadia is the protected party: it sees it
    expect(page.locator("#active-actions form")).to_have_count(0)
    refused = page.request.post(
        f"{running.base_url}/actions/{running.edge_filter}/revoke", form={"reason": "mine"}
    )
    assert refused.status == 403
    assert "only mission staff may revoke actions" in refused.text()
    with running.store.session() as session:
        action = session.get(ActionRow, running.edge_filter)
        assert action is not None
        assert action.status == "approved"
    page_on.assert_clean()
