"""One incident's part of a report, read for one reader: its timeline, actions, legal findings
and evidence, each item with its TLP, and nothing the reader may not see.

Detections, actions, findings and evidence carry no TLP of their own in the store: they are
marked as their incident is. An audit entry (a note, say) whose detail names a ``tlp`` carries
that label instead, and so would an evidence row once the locker gives it one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.law.report import level_text
from cyberpeace.report.content import (
    ActionItem,
    CaseItems,
    EvidenceItem,
    FindingItem,
    IncidentItem,
    TimelineItem,
)
from cyberpeace.report.period import Period
from cyberpeace.report.policy import policy
from cyberpeace.report.reader import Reader
from cyberpeace.share.tlp import UnknownMarking, rank
from cyberpeace.store import NotFound, assessment_of, get_assessment
from cyberpeace.store.messages import incident_messages
from cyberpeace.store.tables import (
    ActionRow,
    AuditRow,
    DetectionRow,
    EvidenceRow,
    IncidentRow,
)


def incident_item(row: IncidentRow) -> IncidentItem:
    return IncidentItem(
        id=row.id,
        title=row.title,
        status=row.status,
        status_reason=row.status_reason,
        severity=row.severity,
        party=row.party_id,
        safe_area=row.safe_area_id,
        sector=row.sector,
        reported_by=row.reported_by,
        summary=row.summary,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        detections=len(row.detections),
        tlp=row.tlp,
    )


def case_items(
    session: Session, reader: Reader, row: IncidentRow, period: Period | None = None
) -> CaseItems:
    """Everything of ``row`` that ``reader`` may read (the caller checked the incident itself)."""
    actions = _actions(session, reader, row)
    timeline = [
        *_detection_entries(row),
        *_audit_entries(session, row, actions),
        *_message_entries(session, reader, row),
    ]
    timeline = [t for t in timeline if reader.admits(t.tlp) and (not period or period.holds(t.at))]
    timeline.sort(key=lambda t: (t.at, t.kind))
    if period is not None:
        actions = [a for a in actions if period.holds(a.proposed_at)]
    return CaseItems(
        incident_item(row),
        timeline,
        [_action_item(a, row.tlp) for a in actions],
        _findings(session, reader, row),
        [e for e in _evidence(session, row) if reader.admits(e.tlp)],
    )


def _detection_entries(row: IncidentRow) -> list[TimelineItem]:
    return [
        TimelineItem(
            d.start,
            row.id,
            "detection",
            f"{d.kind} detected",
            f"{d.kind} on {d.target}, severity {d.severity}, confidence {d.confidence:.2f}"
            + (f": {d.explanation['summary']}" if d.explanation.get("summary") else ""),
            f"detector {d.detector}",
            row.tlp,
        )
        for d in row.detections
    ]


def _actions(session: Session, reader: Reader, row: IncidentRow) -> list[ActionRow]:
    query = select(ActionRow).where(ActionRow.incident_id == row.id)
    if not reader.viewer.is_staff:
        query = query.where(ActionRow.party_id == reader.viewer.party_id)
    return list(session.scalars(query.order_by(ActionRow.proposed_at, ActionRow.id)))


def _action_item(row: ActionRow, tlp: str) -> ActionItem:
    return ActionItem(
        id=row.id,
        incident_id=row.incident_id or 0,
        kind=row.kind,
        target=row.target or str(row.parameters.get("destination", "")),
        status=row.status,
        proposed_at=row.proposed_at,
        expires_at=row.expires_at,
        approvals=f"{len(row.approvals or [])} of {row.approvals_needed or 0}",
        reason=row.reason or "",
        tlp=tlp,
    )


def _audit_entries(
    session: Session, row: IncidentRow, actions: Sequence[ActionRow]
) -> list[TimelineItem]:
    subjects = [f"incident:{row.id}", *(f"action:{a.id}" for a in actions)]
    entries = session.scalars(
        select(AuditRow)
        .where(AuditRow.subject.in_(subjects))
        .order_by(AuditRow.seq)
        .limit(policy().limits.audit_entries)
    )
    labels = policy().timeline
    items = []
    for entry in entries:
        if entry.action in labels and labels[entry.action] is None:
            continue
        known = labels.get(entry.action)
        detail = _detail(entry.detail)
        kind, label = (known.kind, known.label) if known else ("other", entry.action)
        items.append(
            TimelineItem(
                datetime.fromisoformat(entry.at),
                row.id,
                kind,
                label if entry.subject.startswith("incident:") else f"{label} ({entry.subject})",
                _detail_text(entry.action, detail),
                entry.actor,
                _marking(detail.get("tlp"), row.tlp),
            )
        )
    return items


def _detail(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"text": text}
    return parsed if isinstance(parsed, dict) else {"text": str(parsed)}


def _marking(given: object, fallback: str) -> str:
    """An entry's own TLP label, else its incident's; an unreadable label counts as RED."""
    if given is None:
        return fallback
    try:
        rank(str(given))
    except UnknownMarking:
        return "TLP:RED"
    return str(given)


def _detail_text(action: str, detail: dict[str, Any]) -> str:
    if action == "incident.status":
        reason = f": {detail['reason']}" if detail.get("reason") else ""
        return f"{detail.get('from', '?')} → {detail.get('to', '?')}{reason}"
    if action == "assessment.create":
        changed = list(detail.get("changed") or [])
        named = f": {', '.join(map(str, changed))}" if 0 < len(changed) <= 4 else ""
        reason = f" ({detail['reason']})" if detail.get("reason") else ""
        return f"version {detail.get('version', '?')}{reason}, {len(changed)} fact(s) set{named}"
    if "text" in detail:
        return str(detail["text"])
    shown = {key: value for key, value in detail.items() if key != "tlp"}
    return " · ".join(f"{key} {_plain(value)}" for key, value in shown.items())


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    return str(value)


def _message_entries(session: Session, reader: Reader, row: IncidentRow) -> list[TimelineItem]:
    return [
        TimelineItem(
            m.created_at,
            row.id,
            "message",
            f"{m.kind} to {m.to_party_id}",
            m.subject,
            "mission",
            row.tlp,
        )
        for m in incident_messages(session, reader.viewer, row.id)
    ]


def _findings(session: Session, reader: Reader, row: IncidentRow) -> list[FindingItem]:
    """The engaged findings of the latest assessment, the mandate's terms first."""
    try:
        stored = get_assessment(session, reader.viewer, row.id)
    except NotFound:
        return []
    assessment = assessment_of(stored)
    return [
        FindingItem(
            incident_id=row.id,
            version=stored.version,
            rule=f.rule,
            title=f.title,
            level=f.level,
            reads=level_text(f),
            instrument=f.instrument,
            citation=f.citation,
            reasons=tuple(r for r in f.reasons if not r.endswith(":")),
            missing=tuple(f.missing),
            tlp=row.tlp,
        )
        for f in [*assessment.mandate, *assessment.findings]
        if f.level != "not engaged"
    ]


def _evidence(session: Session, row: IncidentRow) -> list[EvidenceItem]:
    rows = session.scalars(
        select(EvidenceRow).where(EvidenceRow.incident_id == row.id).order_by(EvidenceRow.id)
    )
    return [
        EvidenceItem(
            id=e.id,
            incident_id=e.incident_id,
            sha256=e.sha256,
            kind=e.kind,
            size=e.size,
            source=e.source,
            collected_by=e.collected_by,
            collected_at=e.collected_at,
            method=e.method,
            tlp=_marking(getattr(e, "tlp", None), row.tlp),
        )
        for e in rows
    ]


def detections_in(rows: Sequence[IncidentRow], period: Period | None) -> list[DetectionRow]:
    """The detections of ``rows`` (once each) active in ``period``."""
    seen: dict[int, DetectionRow] = {}
    for row in rows:
        for d in row.detections:
            if period is None or (d.start < period.until and d.end >= period.since):
                seen.setdefault(d.id, d)
    return sorted(seen.values(), key=lambda d: (d.start, d.id))
