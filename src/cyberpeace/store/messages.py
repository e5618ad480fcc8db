"""Messages in the store, as the API and the CLI read them: a party sees only its own."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.store.access import Forbidden, NotFound, Viewer
from cyberpeace.store.early_warning import acknowledge
from cyberpeace.store.tables import MessageRow


def list_messages(
    session: Session,
    viewer: Viewer,
    *,
    party: str | None = None,
    kind: str | None = None,
    unacknowledged: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[MessageRow]:
    """Newest first (by when their cause was last seen, or they were made)."""
    query = select(MessageRow)
    if not viewer.is_staff:
        query = query.where(MessageRow.to_party_id == viewer.party_id)
    if party:
        query = query.where(MessageRow.to_party_id == party)
    if kind:
        query = query.where(MessageRow.kind == kind)
    if unacknowledged:
        query = query.where(MessageRow.acknowledged_at.is_(None))
    query = query.order_by(MessageRow.created_at.desc(), MessageRow.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def incident_messages(session: Session, viewer: Viewer, incident_id: int) -> list[MessageRow]:
    """The messages an incident gave, oldest first: to every party for staff, else the viewer's
    own (the case timeline and the reports both show them)."""
    query = select(MessageRow).where(MessageRow.incident_id == incident_id)
    if not viewer.is_staff:
        query = query.where(MessageRow.to_party_id == viewer.party_id)
    return list(session.scalars(query.order_by(MessageRow.created_at, MessageRow.id)))


def get_message(session: Session, viewer: Viewer, message_id: int) -> MessageRow:
    row = session.get(MessageRow, message_id)
    if row is None:
        raise NotFound(f"no message {message_id}")
    if not viewer.may_see_party(row.to_party_id):
        raise Forbidden(f"message {message_id} is addressed to another party")
    return row


def acknowledge_message(
    session: Session, viewer: Viewer, message_id: int, at: datetime | None = None
) -> MessageRow:
    """The party it is addressed to (or mission staff) acknowledges a message; once is enough,
    a second acknowledgement leaves the first in place."""
    row = get_message(session, viewer, message_id)
    return acknowledge(session, row, viewer.actor, at or datetime.now(UTC))
