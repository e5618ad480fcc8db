"""An incident's timeline, assembled from the store: detections, reports, notes, status
changes, tasks, links, evidence, actions and messages, oldest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.investigate.links import list_links
from cyberpeace.investigate.notes import list_notes
from cyberpeace.investigate.tasks import list_tasks
from cyberpeace.store import Viewer, get_incident
from cyberpeace.store.messages import incident_messages
from cyberpeace.store.tables import (
    ActionRow,
    AuditRow,
    DetectionRow,
    EvidenceRow,
    IncidentRow,
)

# Audit actions on an incident that become timeline events, and the event's kind.
_AUDITED = {
    "incident.status": "status",
    "incident.severity": "severity",
    "incident.victim": "victim",
}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # opened, report, detection, peak, note, status, severity, victim, task, link, ...
    actor: str
    summary: str
    ref: str  # what the event is about, e.g. "detection:5"


def timeline(session: Session, viewer: Viewer, incident_id: int) -> list[Event]:
    incident = get_incident(session, viewer, incident_id)
    events = [_opened(incident), *_detections(incident)]
    events += _audited(session, incident)
    events += [
        Event(n.created_at, n.kind, n.author, n.body, f"note:{n.id}")
        for n in list_notes(session, viewer, incident.id)
    ]
    if viewer.is_staff:
        events += _tasks(session, viewer, incident.id)
    events += [
        Event(
            link.created_at,
            "link",
            link.created_by,
            f"incident {link.incident_id} {link.kind} incident {link.other_id}: {link.reason}",
            f"link:{link.id}",
        )
        for link in list_links(session, viewer, incident.id)
    ]
    events += _evidence(session, incident)
    events += _actions(session, incident)
    events += _messages(session, viewer, incident)
    return sorted(events, key=lambda e: (e.at, e.kind, e.ref))


def _opened(incident: IncidentRow) -> Event:
    by_party = incident.reported_by.startswith("party:")
    kind = "report" if by_party else "opened"
    words = "reported by the party" if by_party else "opened"
    return Event(
        incident.opened_at,
        kind,
        incident.reported_by,
        f"{words}: {incident.title}",
        f"incident:{incident.id}",
    )


def _detections(incident: IncidentRow) -> list[Event]:
    events = [
        Event(
            d.start,
            "detection",
            f"detector:{d.detector}",
            f"{d.kind} on {d.target} ({d.severity}, confidence {d.confidence:.2f})",
            f"detection:{d.id}",
        )
        for d in incident.detections
    ]
    return events + [peak for d in incident.detections if (peak := _peak(d)) is not None]


def _peak(detection: DetectionRow) -> Event | None:
    """The second an attack peaked (the engine's explanation timeline), if it says."""
    course = detection.explanation.get("timeline")
    peak = course.get("peak") if isinstance(course, dict) else None
    if not isinstance(peak, str):
        return None
    try:
        at = datetime.fromisoformat(peak)
    except ValueError:
        return None
    rate = detection.magnitude.get("peak_pps")
    size = f" at {rate:,.0f} packets/s" if isinstance(rate, int | float) else ""
    return Event(
        at if at.tzinfo else at.replace(tzinfo=UTC),
        "peak",
        f"detector:{detection.detector}",
        f"{detection.kind} on {detection.target} peaked{size}",
        f"detection:{detection.id}",
    )


def _audited(session: Session, incident: IncidentRow) -> list[Event]:
    query = select(AuditRow).where(
        AuditRow.subject == f"incident:{incident.id}", AuditRow.action.in_(list(_AUDITED))
    )
    events = []
    for row in session.scalars(query.order_by(AuditRow.seq)):
        detail = json.loads(row.detail)
        if row.action == "incident.victim":
            what = " / ".join(str(v) for v in (detail.get("party"), detail.get("safe_area")) if v)
            summary = f"victim added: {what}"
        else:
            summary = f"{detail.get('from')} → {detail.get('to')}"
            if detail.get("reason"):
                summary += f": {detail['reason']}"
        events.append(
            Event(
                datetime.fromisoformat(row.at),
                _AUDITED[row.action],
                row.actor,
                summary,
                f"audit:{row.seq}",
            )
        )
    return events


def _tasks(session: Session, viewer: Viewer, incident_id: int) -> list[Event]:
    events = []
    for task in list_tasks(session, viewer, incident_id):
        owner = f" (owner {task.owner})" if task.owner else ""
        events.append(
            Event(
                task.created_at,
                "task",
                task.created_by,
                f"task opened: {task.title}{owner}",
                f"task:{task.id}",
            )
        )
        if task.completed_at is not None:
            done = f"task done: {task.title}" + (f": {task.outcome}" if task.outcome else "")
            events.append(
                Event(task.completed_at, "task", task.completed_by or "", done, f"task:{task.id}")
            )
    return events


def _evidence(session: Session, incident: IncidentRow) -> list[Event]:
    query = select(EvidenceRow).where(EvidenceRow.incident_id == incident.id)
    return [
        Event(
            e.stored_at or e.collected_at,
            "evidence",
            e.collected_by,
            f"evidence {e.filename or e.sha256[:12]} ({e.kind}, {e.size:,} bytes) from {e.source}",
            f"evidence:{e.id}",
        )
        for e in session.scalars(query.order_by(EvidenceRow.id))
    ]


def _actions(session: Session, incident: IncidentRow) -> list[Event]:
    query = select(ActionRow).where(ActionRow.incident_id == incident.id)
    return [
        Event(
            a.proposed_at,
            "action",
            "mission",
            f"{a.kind} {a.status}" + (f": {a.reason}" if a.reason else ""),
            f"action:{a.id}",
        )
        for a in session.scalars(query.order_by(ActionRow.id))
    ]


def _messages(session: Session, viewer: Viewer, incident: IncidentRow) -> list[Event]:
    return [
        Event(
            m.created_at,
            "message",
            "mission",
            f"{m.kind} to {m.to_party_id}: {m.subject}",
            f"message:{m.id}",
        )
        for m in incident_messages(session, viewer, incident.id)
    ]
