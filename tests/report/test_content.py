"""What a report holds, and what it leaves out for a reader, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from cyberpeace.report import (
    AboveReaderTlp,
    ReportError,
    parse_period,
    reader_for,
    report_html,
    situation_report,
    verification_report,
)
from cyberpeace.store import Forbidden, IncidentDraft, NotFound, Store, Viewer, create_incident
from tests.report.cases import AMBER_NOTE, RED_NOTE, RED_SUMMARY, T0, Case
from tests.web.seed import HOSPITAL_TARGET, REFLECTION_SUMMARY

STAFF = Viewer("staff", name="duty-officer")
MISSION = "Cyber Observer Mission"
DAY = ("2026-11-24", "2026-11-25")
HOSTILE = 'Ping "flood" </style><script>alert(1)</script>\n@page { content: "x" }'


def test_verification_report_holds_the_whole_case(store: Store, case: Case) -> None:
    with store.session() as session:
        report = verification_report(
            session, reader_for(STAFF, "TLP:AMBER"), case.amber, mission=MISSION
        )
        html = report_html(report)
    assert report.tlp == "TLP:AMBER"
    assert [i.id for i in report.incidents] == [case.amber]
    kinds = [t.kind for t in report.timeline]
    assert {"detection", "status", "note", "assessment", "action"} <= set(kinds)
    assert [t.at for t in report.timeline] == sorted(t.at for t in report.timeline)
    status = [t.text for t in report.timeline if t.label == "status changed"]
    assert status == [
        "new → triage: hospital outage confirmed",
        "triage → investigating: " + "tracing the reflectors",
    ]
    # The ceasefire term on protected infrastructure, engaged by the attack on the hospital.
    term = next(f for f in report.findings if f.title.startswith("No hostile cyber operations"))
    assert term.reads == "likely breached"
    assert {e.sha256 for e in report.evidence} == set(case.hashes)
    assert report.actions
    assert report.actions[0].status in {"proposed", "approved"}
    for text in (
        f"Verification report: incident {case.amber}",
        REFLECTION_SUMMARY,
        AMBER_NOTE,
        "No hostile cyber operations against protected civilian",
        *case.hashes,
        "sensor arcadia-edge-1",
    ):
        assert text in html, text
    # The party map: a node per party, an arrow per flow, all drawn server-side.
    assert {n.id for n in report.party_map.nodes} == {
        "arcadia",
        "borduria",
        "calvinia",
        "unattributed",
    }
    assert {(e.source, e.target) for e in report.party_map.edges} == {
        ("calvinia", "arcadia"),
        ("borduria", "arcadia"),
        ("unattributed", "arcadia"),
    }
    assert html.count('class="flow"') == 3
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_a_note_marked_red_stays_out_of_an_amber_report(store: Store, case: Case) -> None:
    with store.session() as session:
        amber = verification_report(session, reader_for(STAFF, "amber"), case.amber, mission="m")
        red = verification_report(session, reader_for(STAFF), case.amber, mission="m")
    assert RED_NOTE not in report_html(amber)
    assert amber.tlp == "TLP:AMBER"
    assert RED_NOTE in report_html(red)
    assert red.tlp == "TLP:RED", "the report carries the label of the most restricted item"


def test_a_green_reader_gets_nothing_above_green(store: Store, case: Case) -> None:
    with store.session() as session:
        report = situation_report(
            session, reader_for(STAFF, "TLP:GREEN"), parse_period(*DAY), mission=MISSION
        )
        html = report_html(report)
    assert [i.id for i in report.incidents] == [case.green]
    assert report.tlp == "TLP:GREEN"
    assert case.green_title in html
    for secret in (
        case.amber_title,
        HOSPITAL_TARGET,
        "203.0.113.53",
        REFLECTION_SUMMARY,
        AMBER_NOTE,
        RED_NOTE,
        RED_SUMMARY,
        "Wiper on the Borduria grid",
        *case.hashes,
    ):
        assert secret not in html, secret
    assert "TLP:AMBER" not in html.replace("Items marked above TLP:GREEN", "")
    # The charts and the map are drawn from the GREEN incident's detections only.
    assert {e.source for e in report.party_map.edges} == {"borduria"}
    assert [b.label for b in report.source_chart.bars] == ["198.19.77.4 (borduria)"]


def test_situation_for_staff_holds_every_incident_of_the_period(store: Store, case: Case) -> None:
    with store.session() as session:
        report = situation_report(session, reader_for(STAFF), parse_period(*DAY), mission="m")
        later = situation_report(
            session, reader_for(STAFF), parse_period("2026-11-25", "2026-11-26"), mission="m"
        )
    assert {i.id for i in report.incidents} == {case.amber, case.green, case.red}
    assert report.findings, "the ceasefire term engaged by the attack on the hospital"
    assert all(f.level != "cannot tell" for f in report.findings)
    assert report.tlp == "TLP:RED"
    assert report.rate_chart.bars
    assert not report.rate_chart.empty
    assert later.incidents == []
    assert later.tlp == "TLP:CLEAR"
    assert "No incidents in this period" in report_html(later)


def test_a_party_reads_only_its_cases_up_to_its_clearance(store: Store, case: Case) -> None:
    arcadia, borduria = Viewer("party", "arcadia"), Viewer("party", "borduria")
    with store.session() as session:
        own = situation_report(session, reader_for(arcadia), parse_period(*DAY), mission="m")
        assert {i.id for i in own.incidents} == {case.amber, case.green}
        assert RED_NOTE not in report_html(own)  # the party reads up to AMBER+STRICT
        with pytest.raises(Forbidden, match="not shared with you"):
            verification_report(session, reader_for(arcadia), case.red, mission="m")
        with pytest.raises(AboveReaderTlp, match="marked TLP:RED, above the reader's"):
            verification_report(session, reader_for(borduria), case.red, mission="m")
    with pytest.raises(Forbidden, match="cleared up to TLP:AMBER\\+STRICT, not TLP:RED"):
        reader_for(borduria, "red")


def test_refusals_name_the_problem(store: Store, case: Case) -> None:
    with store.session() as session:
        with pytest.raises(AboveReaderTlp, match="TLP:AMBER, above the reader's TLP:GREEN"):
            verification_report(session, reader_for(STAFF, "green"), case.amber, mission="m")
        with pytest.raises(NotFound, match="no incident 999999"):
            verification_report(session, reader_for(STAFF), 999_999, mission="m")
        hostile = create_incident(
            session,
            STAFF,
            IncidentDraft(HOSTILE, "arcadia", "low", T0, T0, "TLP:CLEAR", summary=HOSTILE),
        )
        html = report_html(
            verification_report(session, reader_for(STAFF), hostile.id, mission=HOSTILE)
        )
    assert "<script>" not in html
    assert "</style><" not in html
    assert "&lt;/style&gt;&lt;script&gt;" in html
    assert "\\3c /style\\3e \\3c script\\3e " in html  # the page margin's CSS string


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", "2026-11-25", "since: 'yesterday' is not an ISO 8601"),
        ("2026-11-24", "2026-13-01", "until: '2026-13-01' is not an ISO 8601"),
        ("2026-11-25", "2026-11-24", "must be after since"),
        ("2026-11-24T10:00Z", "2026-11-24T10:00+00:00", "must be after since"),
        ("2020-01-01", "2026-01-01", "at most 366 days"),
        ("", "2026-11-24", "since: '' is not"),
    ],
)
def test_bad_periods_are_refused(since: str, until: str, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_period(since, until)


def test_a_period_without_zone_is_utc_and_zones_are_converted() -> None:
    period = parse_period("2026-11-24T12:00+02:00", "2026-11-24T12:00")
    assert period.since.isoformat() == "2026-11-24T10:00:00+00:00"
    assert period.until.isoformat() == "2026-11-24T12:00:00+00:00"


@pytest.mark.parametrize("level", ["TLP:WHITE", "purple", "", "TLP:AMBER+", "RED; DROP"])
def test_unknown_tlp_is_refused(level: str) -> None:
    with pytest.raises(ReportError, match="unknown TLP level"):
        reader_for(STAFF, level)
