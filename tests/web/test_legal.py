"""The incident page's legal assessment in a real browser: findings by framework, responses."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cyberpeace.law.report import level_text
from cyberpeace.store import SYSTEM, assessment_of, get_assessment
from tests.web.conftest import Console, Watched
from tests.web.seed import ANALYST

pytestmark = pytest.mark.browser


def test_the_incident_page_shows_the_latest_assessment(watched: Watched, console: Console) -> None:
    page, seeded = watched.page, console.seeded
    with console.store.session() as session:
        row = get_assessment(session, SYSTEM, seeded.reflection_incident)
        assessment = assessment_of(row)
    watched.sign_in(seeded.staff_token)
    watched.goto(f"/incidents/{seeded.reflection_incident}")

    legal = page.locator("#legal")
    expect(legal.get_by_role("heading", name="Legal assessment")).to_be_visible()
    expect(page.locator("#legal-version")).to_contain_text("Version 2 of 2")
    expect(page.locator("#legal-version")).to_contain_text(assessment.knowledge_version)
    expect(page.locator("#legal-version")).to_contain_text(ANALYST.actor)
    changes = legal.locator("details.changes")
    expect(changes).to_contain_text("1 fact(s) changed")
    changes.locator("summary").click()
    expect(changes).to_contain_text("attribution.party")
    expect(changes).to_contain_text("traceback")

    # One block per framework, the mandate's first, each engaged finding with its reasons.
    frameworks = legal.locator(".framework h3")
    expect(frameworks.first).to_have_text(assessment.mandate[0].instrument)
    instruments = list(
        dict.fromkeys(f.instrument for f in [*assessment.mandate, *assessment.findings])
    )
    expect(frameworks).to_have_count(len(instruments))
    engaged = [f for f in [*assessment.mandate, *assessment.findings] if f.level != "not engaged"]
    expect(legal.locator("article.finding")).to_have_count(len(engaged))
    term = page.locator("#finding-mandate-ceasefire-cyber-1")
    expect(term.locator(".level")).to_have_text("likely breached")
    expect(term.locator(".reasons")).to_contain_text("source: analyst:analyst-ana, confidence 0.7")
    system = page.locator("#finding-budapest-5")
    expect(system.locator(".level")).to_have_text(level_text(assessment.finding("budapest-5")))
    expect(system.locator(".reasons")).to_contain_text("udp-reflection")
    with_gaps = next(f for f in engaged if f.missing)
    expect(page.locator(f"#finding-{with_gaps.rule} .missing")).to_contain_text(
        with_gaps.missing[0]
    )

    # Every response option, each condition marked met, not met or open.
    rows = page.locator("#responses tbody tr")
    expect(rows).to_have_count(len(assessment.responses))
    counter = assessment.response("countermeasures")
    row_of = page.locator("#response-countermeasures")
    expect(row_of.locator(".option")).to_have_text(counter.status)
    expect(row_of.locator("li.met")).to_have_count(
        sum(c.status == "met" for c in counter.conditions)
    )
    expect(row_of.locator("li")).to_have_count(len(counter.conditions))
    expect(page.locator("#missing-facts")).to_contain_text(assessment.missing[0])
    expect(page.locator("ol.history")).to_contain_text("assessment.create")
    watched.assert_clean()


def test_an_unassessed_incident_says_so(watched: Watched, console: Console) -> None:
    watched.sign_in(console.seeded.staff_token)
    watched.goto(f"/incidents/{console.seeded.scan_incident}")
    expect(watched.page.locator("#legal-none")).to_have_text("Not assessed yet.")
    expect(watched.page.locator("#legal article.finding")).to_have_count(0)
    watched.assert_clean()
