"""Building the two reports: verification of one incident, and the mission's situation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.report.case_file import case_items, detections_in
from cyberpeace.report.content import CaseItems, Report
from cyberpeace.report.figures import figures
from cyberpeace.report.period import Period
from cyberpeace.report.policy import policy
from cyberpeace.report.reader import AboveReaderTlp, Reader
from cyberpeace.store import SEVERITIES, get_incident, list_incidents
from cyberpeace.store.tables import DetectionRow, IncidentRow, PartyRow


def verification_report(
    session: Session,
    reader: Reader,
    incident_id: int,
    *,
    mission: str,
    now: datetime | None = None,
) -> Report:
    """The verification report of one incident, as ``reader`` may read it.

    Raises NotFound for no such incident, Forbidden when the reader's party may not see it, and
    AboveReaderTlp when it is marked above the reader's TLP.
    """
    row = get_incident(session, reader.viewer, incident_id)
    if not reader.admits(row.tlp):
        raise AboveReaderTlp(
            f"incident {incident_id} is marked {row.tlp}, above the reader's {reader.tlp}"
        )
    case = case_items(session, reader, row)
    summary = [
        f"Incident {row.id}: {row.title}. Status {row.status}, severity {row.severity}.",
        f"Victim: {_victim(row)}. Seen from {row.first_seen:%Y-%m-%d %H:%M:%S} "
        f"to {row.last_seen:%Y-%m-%d %H:%M:%S} UTC.",
        *([row.summary] if row.summary else []),
        *_counts([case], row.detections),
    ]
    return _report(
        session,
        "verification",
        f"Verification report: incident {row.id}",
        mission,
        reader,
        now,
        Period(row.first_seen, row.last_seen),
        summary,
        [case],
        list(row.detections),
    )


def situation_report(
    session: Session, reader: Reader, period: Period, *, mission: str, now: datetime | None = None
) -> Report:
    """The situation over ``period``: every incident active in it that ``reader`` may read."""
    limit = policy().limits.max_incidents
    rows = [
        r
        for r in list_incidents(session, reader.viewer, since=period.since, limit=limit + 1)
        if r.first_seen < period.until
    ]
    truncated = len(rows) > limit
    rows = [r for r in rows[:limit] if reader.admits(r.tlp)]
    rows.sort(key=lambda r: (r.first_seen, r.id))
    # A situation names what the law engine found; what it cannot yet tell stays in each
    # incident's verification report.
    cases = [_told(case_items(session, reader, r, period)) for r in rows]
    detections = detections_in(rows, period)
    severities = Counter(r.severity for r in rows)
    by_severity = ", ".join(f"{severities[s]} {s}" for s in reversed(SEVERITIES) if severities[s])
    victims = sorted({r.party_id for r in rows})
    areas = sorted({r.safe_area_id for r in rows if r.safe_area_id})
    summary = [
        f"From {period.since:%Y-%m-%d %H:%M} to {period.until:%Y-%m-%d %H:%M} UTC: "
        f"{len(rows)} incident(s){f' ({by_severity})' if by_severity else ''}.",
        f"Parties attacked: {', '.join(victims) or 'none'}. "
        f"Safe areas attacked: {', '.join(areas) or 'none'}.",
        *_counts(cases, detections),
        *(
            [f"Only the {limit} most recent incidents are included (the report's limit)."]
            if truncated
            else []
        ),
    ]
    return _report(
        session,
        "situation",
        f"Situation report {period.since:%Y-%m-%d} to {period.until:%Y-%m-%d}",
        mission,
        reader,
        now,
        period,
        summary,
        cases,
        detections,
    )


def _told(case: CaseItems) -> CaseItems:
    return replace(case, findings=[f for f in case.findings if f.level != "cannot tell"])


def _victim(row: IncidentRow) -> str:
    area = f", safe area {row.safe_area_id} ({row.sector})" if row.safe_area_id else ""
    return f"{row.party_id}{area}"


def _counts(cases: Sequence[CaseItems], detections: Sequence[DetectionRow]) -> list[str]:
    actions = [a for c in cases for a in c.actions]
    in_force = sum(1 for a in actions if a.status == "applied")
    assessed = sum(1 for c in cases if c.findings)
    evidence = sum(len(c.evidence) for c in cases)
    return [
        f"{len(detections)} detection(s); {len(actions)} action(s), {in_force} applied; "
        f"{assessed} incident(s) with engaged legal findings; {evidence} evidence item(s)."
    ]


def _report(
    session: Session,
    kind: Literal["verification", "situation"],
    title: str,
    mission: str,
    reader: Reader,
    now: datetime | None,
    period: Period,
    summary: list[str],
    cases: Sequence[CaseItems],
    detections: Sequence[DetectionRow],
) -> Report:
    names = {str(p): str(n) for p, n in session.execute(select(PartyRow.id, PartyRow.name))}
    chart_from, chart_to = period.since, period.until
    if kind == "verification":
        # A little before and after the incident, so the chart shows where the attack begins.
        margin = max((period.until - period.since) / 4, timedelta(minutes=1))
        chart_from, chart_to = period.since - margin, period.until + margin
    drawn = figures(detections, chart_from, chart_to, names)
    timeline = sorted((t for c in cases for t in c.timeline), key=lambda t: (t.at, t.incident_id))
    return Report(
        kind=kind,
        title=title,
        mission=mission,
        reader=reader,
        generated_at=(now or datetime.now(UTC)).replace(microsecond=0),
        since=period.since,
        until=period.until,
        summary=summary,
        incidents=[c.incident for c in cases],
        timeline=timeline,
        actions=[a for c in cases for a in c.actions],
        findings=[f for c in cases for f in c.findings],
        evidence=[e for c in cases for e in c.evidence],
        party_map=drawn.party_map,
        rate_chart=drawn.rate_chart,
        source_chart=drawn.source_chart,
    )
