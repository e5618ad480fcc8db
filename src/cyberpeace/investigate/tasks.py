"""Tasks on a case, each with an owner: create, assign, complete (mission staff only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.store import InvalidTransition, NotFound, Viewer, audit, get_incident
from cyberpeace.store.case_tables import IncidentTaskRow
from cyberpeace.store.tables import utcnow


def create_task(
    session: Session, viewer: Viewer, incident_id: int, title: str, owner: str | None = None
) -> IncidentTaskRow:
    viewer.require_staff()
    incident = get_incident(session, viewer, incident_id)
    title = title.strip()
    if not 3 <= len(title) <= 300:
        raise ValueError("a task title needs 3 to 300 characters")
    row = IncidentTaskRow(
        incident_id=incident.id,
        title=title,
        owner=_owner(owner),
        status="open",
        created_by=viewer.actor,
        outcome="",
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        viewer.actor,
        "task.create",
        f"incident:{incident.id}",
        {"task": row.id, "title": title, "owner": row.owner},
    )
    return row


def _owner(owner: str | None) -> str | None:
    if owner is None or not owner.strip():
        return None
    if len(owner.strip()) > 100:
        raise ValueError("an owner's name holds at most 100 characters")
    return owner.strip()


def get_task(session: Session, viewer: Viewer, task_id: int) -> IncidentTaskRow:
    viewer.require_staff()
    row = session.get(IncidentTaskRow, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row


def assign_task(session: Session, viewer: Viewer, task_id: int, owner: str) -> IncidentTaskRow:
    row = get_task(session, viewer, task_id)
    if row.status == "done":
        raise InvalidTransition(f"task {task_id} is done; it cannot be reassigned")
    previous, row.owner = row.owner, _owner(owner)
    if row.owner is None:
        raise ValueError("assigning a task needs an owner")
    audit.append(
        session,
        viewer.actor,
        "task.assign",
        f"incident:{row.incident_id}",
        {"task": row.id, "from": previous, "to": row.owner},
    )
    return row


def complete_task(
    session: Session, viewer: Viewer, task_id: int, outcome: str = ""
) -> IncidentTaskRow:
    row = get_task(session, viewer, task_id)
    if row.status == "done":
        raise InvalidTransition(f"task {task_id} is already done")
    row.status, row.outcome = "done", outcome.strip()
    row.completed_by, row.completed_at = viewer.actor, utcnow()
    audit.append(
        session,
        viewer.actor,
        "task.complete",
        f"incident:{row.incident_id}",
        {"task": row.id, "outcome": row.outcome},
    )
    return row


def list_tasks(session: Session, viewer: Viewer, incident_id: int) -> list[IncidentTaskRow]:
    viewer.require_staff()
    incident = get_incident(session, viewer, incident_id)
    query = select(IncidentTaskRow).where(IncidentTaskRow.incident_id == incident.id)
    return list(session.scalars(query.order_by(IncidentTaskRow.id)))
