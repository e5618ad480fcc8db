"""Analyst notes (mission only) and party reports on an incident."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.investigate.vocabulary import case_vocabulary
from cyberpeace.store import Forbidden, Viewer, audit, get_incident
from cyberpeace.store.case_tables import IncidentNoteRow

MAX_NOTE = 20_000


def add_note(
    session: Session, viewer: Viewer, incident_id: int, body: str, kind: str = "note"
) -> IncidentNoteRow:
    """Staff write notes and reports; a party writes reports on incidents it may see."""
    incident = get_incident(session, viewer, incident_id)
    if kind not in case_vocabulary().note_kinds:
        raise ValueError(
            f"unknown note kind {kind!r}; expected one of {list(case_vocabulary().note_kinds)}"
        )
    if kind == "note" and not viewer.is_staff:
        raise Forbidden("analyst notes are for mission staff; a party adds a report")
    text = body.strip()
    if not text:
        raise ValueError("a note needs some text")
    if len(text) > MAX_NOTE or "\x00" in text:
        raise ValueError(f"a note holds at most {MAX_NOTE} characters and no NUL")
    row = IncidentNoteRow(incident_id=incident.id, kind=kind, body=text, author=viewer.actor)
    session.add(row)
    session.flush()
    audit.append(
        session, viewer.actor, f"incident.{kind}", f"incident:{incident.id}", {"note": row.id}
    )
    return row


def list_notes(session: Session, viewer: Viewer, incident_id: int) -> list[IncidentNoteRow]:
    """Notes oldest first; a party sees reports only."""
    incident = get_incident(session, viewer, incident_id)
    query = select(IncidentNoteRow).where(IncidentNoteRow.incident_id == incident.id)
    if not viewer.is_staff:
        query = query.where(IncidentNoteRow.kind == "report")
    return list(session.scalars(query.order_by(IncidentNoteRow.created_at, IncidentNoteRow.id)))
