"""The console in a real browser: sign-in, dashboard, incident page, party isolation, sign-out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Console, Watched
from tests.web.seed import HOSPITAL_TARGET, REFLECTION_SUMMARY

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n"


def _screenshot(watched: Watched, path: Path) -> None:
    watched.page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 20_000, f"{path.name} is only {len(data)} bytes: a blank page?"


def test_an_unauthenticated_visit_goes_to_sign_in(watched: Watched) -> None:
    watched.goto("/")
    assert watched.page.url == watched.base_url + "/login"
    expect(watched.page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(watched.page.locator("#token")).to_have_attribute("type", "password")
    watched.assert_clean()


def test_a_wrong_token_is_refused_and_stays_on_sign_in(watched: Watched) -> None:
    response = watched.sign_in("cp_not-a-real-token")
    assert response is not None
    assert response.status == 401
    assert watched.page.url == watched.base_url + "/login"
    expect(watched.page.get_by_role("alert")).to_have_text("That token is unknown or revoked.")
    watched.assert_clean(refused={"/login": 401})


def test_staff_see_the_situation_and_the_incident(
    watched: Watched, console: Console, tmp_path: Path
) -> None:
    page, seeded = watched.page, console.seeded
    watched.sign_in(seeded.staff_token)
    assert page.url == watched.base_url + "/"

    areas = page.locator("#safe-areas .area")
    expect(areas).to_have_count(3)
    hospital = page.locator("[data-area=arcadia-central-hospital]")
    expect(hospital).to_have_class(re.compile(r"\bunder-attack\b"))
    expect(hospital).to_contain_text("Arcadia Central Hospital")
    expect(hospital).to_contain_text("Under attack")
    power = page.locator("[data-area=borduria-power-utility]")
    expect(power).not_to_have_class(re.compile(r"\bunder-attack\b"))
    expect(power).to_contain_text("No open incident")

    incidents = page.locator("#incidents tbody tr")
    expect(incidents).to_have_count(2)
    link = page.get_by_role("link", name=seeded.reflection_title)
    expect(link).to_be_visible()
    expect(page.locator("#incidents")).to_contain_text("critical")
    expect(page.locator("#incidents")).to_contain_text(seeded.scan_title)

    detections = page.locator("#detections tbody tr")
    expect(detections).to_have_count(2)
    expect(detections.first).to_contain_text("udp-reflection")
    expect(detections.first).to_contain_text("412,000 pkt/s")
    expect(detections.first).to_contain_text("2.9 Gbit/s")
    expect(page.locator("#detections")).to_contain_text("port-scan")

    dashboard_png = tmp_path / "dashboard.png"
    _screenshot(watched, dashboard_png)

    link.click()
    page.wait_for_url(f"{watched.base_url}/incidents/{seeded.reflection_incident}")
    expect(page.locator("#incident-title")).to_contain_text(seeded.reflection_title)
    expect(page.locator(".tlp-banner")).to_contain_text("TLP:AMBER")
    detection = page.locator("article.detection")
    expect(detection).to_have_count(1)
    expect(detection).to_contain_text(f"udp-reflection on {HOSPITAL_TARGET}")
    expect(detection.locator(".why")).to_have_text(REFLECTION_SUMMARY)
    sources = detection.locator("table.sources tbody tr")
    expect(sources).to_have_count(4)
    expect(sources.first).to_contain_text("203.0.113.53")
    expect(sources.first).to_contain_text("calvinia")
    expect(sources.first).to_contain_text("53")
    expect(sources.first).to_contain_text("31.2%")
    expect(sources.nth(1)).to_contain_text("192.0.2.123")
    expect(sources.nth(1)).to_contain_text("18.7%")
    record = page.locator("ol.history li")
    expect(record.first).to_contain_text("incident.create")
    expect(record.first).to_contain_text("system")

    incident_png = tmp_path / "incident.png"
    _screenshot(watched, incident_png)
    assert dashboard_png.read_bytes() != incident_png.read_bytes()
    watched.assert_clean()


def test_a_party_sees_neither_another_partys_incidents_nor_their_pages(
    watched: Watched, console: Console
) -> None:
    page, seeded = watched.page, console.seeded
    watched.sign_in(seeded.borduria_token)
    assert page.url == watched.base_url + "/"
    expect(page.locator(".who")).to_contain_text("borduria")

    expect(page.locator("#safe-areas .area")).to_have_count(1)
    expect(page.locator("[data-area=borduria-power-utility]")).to_be_visible()
    expect(page.locator("#safe-areas")).not_to_contain_text("Arcadia")
    expect(page.locator("#incidents")).to_contain_text("No open incidents.")
    expect(page.locator("#incidents")).not_to_contain_text(HOSPITAL_TARGET)
    expect(page.locator("#detections")).to_contain_text("No detections.")

    response = watched.goto(f"/incidents/{seeded.reflection_incident}")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("403")
    expect(page.locator("main")).to_contain_text("not shared with you")
    expect(page.locator("main")).not_to_contain_text(seeded.reflection_title)
    watched.assert_clean(refused={f"/incidents/{seeded.reflection_incident}": 403})


def test_sign_out_returns_to_sign_in_and_forgets_the_token(
    watched: Watched, console: Console
) -> None:
    page = watched.page
    watched.sign_in(console.seeded.staff_token)
    expect(page.locator("#safe-areas")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url == watched.base_url + "/login"
    assert page.context.cookies() == []

    watched.goto(f"/incidents/{console.seeded.reflection_incident}")
    assert page.url == watched.base_url + "/login"
    watched.assert_clean()


def test_the_watch_catches_a_request_that_leaves_the_console(watched: Watched) -> None:
    """The guard behind every other test: an outside asset is blocked, recorded and reported."""
    watched.goto("/login")
    outside = "https://cdn.example.org/logo.png"
    with watched.page.expect_event("requestfailed", lambda r: r.url == outside) as failed:
        watched.page.evaluate(
            "(src) => { const img = document.createElement('img'); img.src = src;"
            " document.body.append(img); }",
            outside,
        )
    assert failed.value.failure is not None
    assert outside in watched.requests
    with pytest.raises(AssertionError, match="requests left the console"):
        watched.assert_clean()
