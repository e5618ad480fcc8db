"""The patterns page in a real browser: charts drawn on the server, campaigns listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.investigate.planted import plant
from tests.web.conftest import Console, Watched

pytestmark = pytest.mark.browser


def test_staff_see_the_charts_and_the_campaigns(watched: Watched, console: Console) -> None:
    planted = plant(console.store)
    page = watched.page
    watched.sign_in(console.seeded.staff_token)
    with page.expect_navigation():
        page.click("#patterns-link")
    assert page.url == watched.base_url + "/patterns"
    expect(page.get_by_role("heading", name="Patterns", exact=True)).to_be_visible()
    over_time = page.locator("#over-time svg.chart")
    expect(over_time).to_be_visible()
    assert over_time.locator("rect.bar").count() >= 5  # the planted incidents span days
    targets = page.locator("#targets svg[aria-label='Targeted parties']")
    expect(targets).to_contain_text("arcadia")
    expect(page.locator("#kinds svg.chart")).to_contain_text("syn-flood")
    expect(page.locator("#sources svg[aria-label='Source networks']")).to_contain_text(
        "45.10.20.0/24"
    )
    box = over_time.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 80
    rows = page.locator("#campaigns tbody tr")
    expect(rows.first).to_contain_text(", ".join(map(str, planted.hospital_campaign)))
    expect(page.locator("#campaigns")).to_contain_text("45.10.20.0/24")
    watched.assert_clean()


def test_signed_out_visitors_go_to_sign_in(watched: Watched) -> None:
    watched.goto("/patterns")
    assert watched.page.url == watched.base_url + "/login"
