"""REST routes of messages: warnings and requests to the parties, and their acknowledgement."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.routes import IdPath, KeyQuery, KindQuery, Limit, Offset
from cyberpeace.api.schemas import ErrorOut
from cyberpeace.store.messages import acknowledge_message, get_message, list_messages

_errors: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "The message is addressed to another party."},
    404: {"model": ErrorOut, "description": "No such message."},
}
router = APIRouter(prefix="/api/v1", responses=_errors, tags=["messages"])


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    severity: str
    to_party_id: str
    incident_id: int | None
    detection_id: int | None
    subject: str
    body: str
    cause: str | None
    count: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    details: dict[str, Any] | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@router.get("/messages", response_model=list[MessageOut])
def get_messages(
    session: DbSession,
    viewer: CurrentViewer,
    party: KeyQuery = None,
    kind: KindQuery = None,
    unacknowledged: Annotated[bool, Query(description="Only those not acknowledged.")] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[MessageOut]:
    """Messages to the viewer's party (all of them, for mission staff), newest first."""
    rows = list_messages(
        session,
        viewer,
        party=party,
        kind=kind,
        unacknowledged=unacknowledged,
        limit=limit,
        offset=offset,
    )
    return [MessageOut.model_validate(r) for r in rows]


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_one_message(message_id: IdPath, session: DbSession, viewer: CurrentViewer) -> MessageOut:
    return MessageOut.model_validate(get_message(session, viewer, message_id))


@router.post("/messages/{message_id}/ack", response_model=MessageOut)
def ack_message(message_id: IdPath, session: DbSession, viewer: CurrentViewer) -> MessageOut:
    """Acknowledge a message addressed to the viewer's party."""
    return MessageOut.model_validate(acknowledge_message(session, viewer, message_id))
