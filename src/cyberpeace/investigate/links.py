"""Links between incidents: a duplicate of, related to, or part of another."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cyberpeace.investigate.vocabulary import case_vocabulary
from cyberpeace.store import Forbidden, NotFound, Viewer, audit, get_incident
from cyberpeace.store.case_tables import IncidentLinkRow


def link_incidents(
    session: Session, viewer: Viewer, incident_id: int, other_id: int, kind: str, reason: str
) -> IncidentLinkRow:
    """``incident_id`` <kind> ``other_id`` (mission staff only), with the reason why."""
    viewer.require_staff()
    kinds = case_vocabulary().link_kinds
    if kind not in kinds:
        raise ValueError(f"unknown link kind {kind!r}; expected one of {list(kinds)}")
    if incident_id == other_id:
        raise ValueError("an incident cannot be linked to itself")
    if not reason.strip():
        raise ValueError("a link needs a reason")
    incident, other = (
        get_incident(session, viewer, incident_id),
        get_incident(session, viewer, other_id),
    )
    existing = session.scalar(
        select(IncidentLinkRow.id).where(
            IncidentLinkRow.incident_id == incident.id,
            IncidentLinkRow.other_id == other.id,
            IncidentLinkRow.kind == kind,
        )
    )
    if existing is not None:
        raise ValueError(f"incident {incident.id} already {kinds[kind]} incident {other.id}")
    row = IncidentLinkRow(
        incident_id=incident.id,
        other_id=other.id,
        kind=kind,
        reason=reason.strip(),
        created_by=viewer.actor,
    )
    session.add(row)
    session.flush()
    detail = {"link": row.id, "kind": kind, "other": other.id, "reason": row.reason}
    audit.append(session, viewer.actor, "incident.link", f"incident:{incident.id}", detail)
    return row


def list_links(session: Session, viewer: Viewer, incident_id: int) -> list[IncidentLinkRow]:
    """Links from and to an incident; a party sees only those whose other end it may see."""
    incident = get_incident(session, viewer, incident_id)
    query = select(IncidentLinkRow).where(
        or_(IncidentLinkRow.incident_id == incident.id, IncidentLinkRow.other_id == incident.id)
    )
    visible = []
    for row in session.scalars(query.order_by(IncidentLinkRow.id)):
        far = row.other_id if row.incident_id == incident.id else row.incident_id
        try:
            get_incident(session, viewer, far)
        except (Forbidden, NotFound):
            continue
        visible.append(row)
    return visible
