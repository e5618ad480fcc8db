"""Incidents in the store: creation, listing with filters, status workflow, grouping detections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cyberpeace.mission.vocabulary import vocabulary
from cyberpeace.store import audit
from cyberpeace.store.access import Forbidden, NotFound, Viewer
from cyberpeace.store.tables import (
    DetectionRow,
    IncidentRow,
    IncidentShareRow,
    PartyRow,
    SafeAreaRow,
    utcnow,
)

STATUSES = ("new", "triage", "investigating", "assessed", "closed")
SEVERITIES = ("low", "medium", "high", "critical")
# Which status may follow which. Reopening a closed case goes back to investigating.
TRANSITIONS = {
    "new": {"triage", "investigating", "closed"},
    "triage": {"investigating", "closed"},
    "investigating": {"assessed", "closed"},
    "assessed": {"investigating", "closed"},
    "closed": {"investigating"},
}
# Kinds that say only "a lot of traffic"; a more specific detection names the incident.
GENERIC_KINDS = frozenset({"volumetric-flood"})
# Detections on the same target less than this apart belong to the same incident.
MERGE_GAP = timedelta(minutes=30)


class InvalidTransition(ValueError):
    """A status change the workflow does not allow."""


@dataclass(frozen=True)
class IncidentDraft:
    title: str
    party: str
    severity: str
    first_seen: datetime
    last_seen: datetime
    tlp: str
    safe_area: str | None = None
    summary: str = ""


def create_incident(session: Session, viewer: Viewer, draft: IncidentDraft) -> IncidentRow:
    """Open an incident; a party may only report incidents against itself."""
    if not viewer.may_see_party(draft.party):
        raise Forbidden("a party can only report incidents where it is the victim")
    if draft.severity not in SEVERITIES:
        raise ValueError(f"unknown severity {draft.severity!r}; expected one of {SEVERITIES}")
    if draft.tlp not in vocabulary().tlp:
        raise ValueError(f"unknown TLP {draft.tlp!r}; expected one of {vocabulary().tlp}")
    if session.get(PartyRow, draft.party) is None:
        raise NotFound(f"no party {draft.party!r}")
    sector = None
    if draft.safe_area is not None:
        area = session.get(SafeAreaRow, draft.safe_area)
        if area is None or area.party_id != draft.party:
            raise NotFound(f"no safe area {draft.safe_area!r} of party {draft.party!r}")
        sector = area.sector
    row = IncidentRow(
        title=draft.title,
        status="new",
        severity=draft.severity,
        tlp=draft.tlp,
        party_id=draft.party,
        safe_area_id=draft.safe_area,
        sector=sector,
        reported_by=viewer.actor,
        summary=draft.summary,
        first_seen=draft.first_seen,
        last_seen=draft.last_seen,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        viewer.actor,
        "incident.create",
        f"incident:{row.id}",
        {"title": draft.title, "party": draft.party, "severity": draft.severity},
    )
    return row


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    shared = exists().where(
        IncidentShareRow.incident_id == IncidentRow.id,
        IncidentShareRow.party_id == viewer.party_id,
    )
    return or_(IncidentRow.party_id == viewer.party_id, shared)


def list_incidents(
    session: Session,
    viewer: Viewer,
    *,
    status: str | None = None,
    party: str | None = None,
    safe_area: str | None = None,
    severity: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentRow]:
    query = select(IncidentRow)
    if not viewer.is_staff:
        query = query.where(_visible(viewer))
    if status:
        query = query.where(IncidentRow.status == status)
    if party:
        query = query.where(IncidentRow.party_id == party)
    if safe_area:
        query = query.where(IncidentRow.safe_area_id == safe_area)
    if severity:
        query = query.where(IncidentRow.severity == severity)
    if since:
        query = query.where(IncidentRow.last_seen >= since)
    query = query.order_by(IncidentRow.last_seen.desc(), IncidentRow.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def get_incident(session: Session, viewer: Viewer, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    shared = {s.party_id for s in row.shared_with}
    if not (viewer.may_see_party(row.party_id) or viewer.party_id in shared):
        raise Forbidden(f"incident {incident_id} is not shared with you")
    return row


def change_status(
    session: Session, viewer: Viewer, incident_id: int, status: str, reason: str = ""
) -> IncidentRow:
    """Move an incident along the workflow (mission staff only); closing needs a reason."""
    viewer.require_staff()
    row = get_incident(session, viewer, incident_id)
    if status not in STATUSES:
        raise InvalidTransition(f"unknown status {status!r}; expected one of {list(STATUSES)}")
    if status not in TRANSITIONS[row.status]:
        allowed = sorted(TRANSITIONS[row.status])
        raise InvalidTransition(f"cannot go from {row.status!r} to {status!r}; allowed: {allowed}")
    if status == "closed" and not reason.strip():
        raise InvalidTransition("closing an incident needs a reason")
    if row.status == "closed" and not reason.strip():
        raise InvalidTransition("reopening a closed incident needs a reason")
    previous, row.status, row.status_reason, row.updated_at = row.status, status, reason, utcnow()
    audit.append(
        session,
        viewer.actor,
        "incident.status",
        f"incident:{row.id}",
        {"from": previous, "to": status, "reason": reason},
    )
    return row


def share_incident(session: Session, viewer: Viewer, incident_id: int, party_id: str) -> None:
    viewer.require_staff()
    row = get_incident(session, viewer, incident_id)
    if session.get(PartyRow, party_id) is None:
        raise NotFound(f"no party {party_id!r}")
    if party_id not in {s.party_id for s in row.shared_with}:
        row.shared_with.append(IncidentShareRow(incident_id=row.id, party_id=party_id))
        audit.append(
            session, viewer.actor, "incident.share", f"incident:{row.id}", {"party": party_id}
        )


_ACRONYMS = {"udp": "UDP", "tcp": "TCP", "icmp": "ICMP", "syn": "SYN", "dns": "DNS", "ntp": "NTP"}


def _kind_title(kind: str) -> str:
    words = [_ACRONYMS.get(w, w) for w in kind.split("-")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def file_detection(session: Session, detection: DetectionRow, *, tlp: str) -> IncidentRow | None:
    """Put a detection into the open incident on the same target, or open a new one.

    Detections without a party (traffic to nobody's territory) open no incident. A detection
    filed before and updated since (a live detector's, as its episode grows) widens the open
    incident that holds it to its new span and severity.
    """
    if detection.party_id is None:
        return None
    holding = session.scalars(
        select(IncidentRow).where(
            IncidentRow.status != "closed",
            IncidentRow.detections.any(DetectionRow.id == detection.id),
        )
    ).first()
    if holding is not None:
        return _widen(session, holding, detection)
    open_row = session.scalars(
        select(IncidentRow)
        .where(
            IncidentRow.party_id == detection.party_id,
            IncidentRow.status != "closed",
            IncidentRow.last_seen >= detection.start - MERGE_GAP,
            IncidentRow.first_seen <= detection.end + MERGE_GAP,
            IncidentRow.detections.any(DetectionRow.target == detection.target),
        )
        .order_by(IncidentRow.last_seen.desc())
    ).first()
    if open_row is None:
        title = f"{_kind_title(detection.kind)} against {detection.target}"
        draft = IncidentDraft(
            title,
            detection.party_id,
            detection.severity,
            detection.start,
            detection.end,
            tlp,
            detection.safe_area_id,
        )
        open_row = create_incident(session, Viewer("staff", name="system"), draft)
    elif detection.kind not in GENERIC_KINDS and all(
        d.kind in GENERIC_KINDS for d in open_row.detections
    ):
        # An incident is named for its most specific detection: a flood that turns out to be
        # reflection is a reflection attack.
        open_row.title = f"{_kind_title(detection.kind)} against {detection.target}"
    open_row.detections.append(detection)
    _stretch(open_row, detection)
    audit.append(
        session,
        "system",
        "incident.detection",
        f"incident:{open_row.id}",
        {"detection": detection.id, "severity": open_row.severity},
    )
    return open_row


def _stretch(incident: IncidentRow, detection: DetectionRow) -> None:
    """The incident's time span and severity grown to cover one of its detections."""
    incident.first_seen = min(incident.first_seen, detection.start)
    incident.last_seen = max(incident.last_seen, detection.end)
    if SEVERITIES.index(detection.severity) > SEVERITIES.index(incident.severity):
        incident.severity = detection.severity
    incident.updated_at = utcnow()


def _widen(session: Session, incident: IncidentRow, detection: DetectionRow) -> IncidentRow:
    _stretch(incident, detection)
    audit.append(
        session,
        "system",
        "incident.timeline",
        f"incident:{incident.id}",
        {
            "detection": detection.id,
            "first_seen": incident.first_seen.isoformat(),
            "last_seen": incident.last_seen.isoformat(),
            "severity": incident.severity,
        },
    )
    return incident
