"""The case file's forms in a real browser: tasks opened and closed, notes and party reports."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cyberpeace.investigate import case_file
from cyberpeace.store import Viewer
from tests.web.conftest import Console, Watched

pytestmark = pytest.mark.browser

STAFF = Viewer("staff", name="analyst-test")


def test_staff_open_and_close_a_task_and_add_a_note(watched: Watched, console: Console) -> None:
    page, seeded = watched.page, console.seeded
    watched.sign_in(seeded.staff_token)
    watched.goto(f"/incidents/{seeded.scan_incident}")

    page.fill("#new-task input[name=title]", "Ask the commission for its firewall logs")
    page.fill("#new-task input[name=owner]", "analyst-2")
    with page.expect_navigation():
        page.click("#new-task button")
    task = page.locator("#tasks tbody tr[data-task]")
    expect(task).to_have_count(1)
    expect(task).to_contain_text("Ask the commission for its firewall logs")
    expect(task).to_contain_text("analyst-2")
    expect(task).to_contain_text("open")

    task.locator("input[name=outcome]").fill("logs received, 3 GB")
    with page.expect_navigation():
        task.locator("button").click()
    expect(task).to_contain_text("done")
    expect(task).to_contain_text("logs received, 3 GB")
    expect(task.locator("form")).to_have_count(0)

    page.fill("#new-note textarea", "Scan came from the same /24 as last week's.")
    with page.expect_navigation():
        page.click("#new-note button")
    timeline = page.locator("#timeline")
    expect(timeline.locator("li[data-kind=note]")).to_contain_text("same /24 as last week")
    expect(timeline.locator("li[data-kind=task]")).to_have_count(2)
    expect(timeline).to_contain_text("task done: Ask the commission for its firewall logs")

    again = page.request.post(
        f"{watched.base_url}/tasks/{task.get_attribute('data-task')}/complete",
        form={"outcome": "twice"},
    )
    assert again.status == 409
    assert "already done" in again.text()
    empty = page.request.post(
        f"{watched.base_url}/incidents/{seeded.scan_incident}/notes", form={"body": "  "}
    )
    assert empty.status == 422
    assert "needs some text" in empty.text()
    missing = page.request.post(f"{watched.base_url}/tasks/999999/complete", form={})
    assert missing.status == 404
    watched.assert_clean()


def test_a_party_adds_a_report_but_no_note_and_nothing_to_others(
    watched: Watched, console: Console
) -> None:
    page, seeded = watched.page, console.seeded
    watched.sign_in(seeded.borduria_token)
    watched.goto("/report")
    page.fill("#title", "Billing portal defaced")
    page.fill("#first_seen", "2026-11-30T08:15")
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    own = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#new-note button")).to_have_text("Add report")
    expect(page.locator("#new-task")).to_have_count(0)
    page.fill("#new-note textarea", "The defacement names a group seen in Arcadia.")
    with page.expect_navigation():
        page.click("#new-note button")
    reports = page.locator("#timeline li[data-kind=report]")
    expect(reports.last).to_contain_text("defacement names a group")
    expect(reports.last).to_contain_text("party:borduria")

    base = watched.base_url
    note = page.request.post(f"{base}/incidents/{own}/notes", form={"body": "x", "kind": "note"})
    assert note.status == 403
    assert "for mission staff" in note.text()
    hidden = page.request.post(
        f"{base}/incidents/{seeded.reflection_incident}/notes",
        form={"body": "let me in", "kind": "report"},
    )
    assert hidden.status == 403
    task = page.request.post(
        f"{base}/incidents/{seeded.reflection_incident}/tasks", form={"title": "mine now"}
    )
    assert task.status == 403
    with console.store.session() as session:
        notes = case_file.list_notes(session, STAFF, seeded.reflection_incident)
        bodies = [n.body for n in case_file.list_notes(session, STAFF, own)]
    assert all(n.body != "let me in" for n in notes)
    assert bodies == ["The defacement names a group seen in Arcadia."]
    watched.assert_clean()
