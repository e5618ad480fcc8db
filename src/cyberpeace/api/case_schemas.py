"""What the case-file and evidence routes accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.api.schemas import IDENT_PATTERN, MAX_ID, Severity, Text

LinkKind = Literal["duplicate", "related", "part-of"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class EventOut(_Out):
    at: datetime
    kind: str
    actor: str
    summary: str
    ref: str


class NoteIn(_In):
    body: Text = Field(min_length=1, max_length=20_000)
    kind: Literal["note", "report"] = "note"


class NoteOut(_Out):
    id: int
    incident_id: int
    kind: str
    body: str
    author: str
    created_at: datetime


class TaskIn(_In):
    title: Text = Field(min_length=3, max_length=300)
    owner: Text | None = Field(default=None, max_length=100)


class AssignIn(_In):
    owner: Text = Field(min_length=1, max_length=100)


class CompleteIn(_In):
    outcome: Text = Field(default="", max_length=20_000)


class TaskOut(_Out):
    id: int
    incident_id: int
    title: str
    owner: str | None
    status: str
    created_by: str
    created_at: datetime
    completed_by: str | None
    completed_at: datetime | None
    outcome: str


class LinkIn(_In):
    other: int = Field(ge=1, le=MAX_ID, description="The incident this one is linked to.")
    kind: LinkKind
    reason: Text = Field(min_length=1, max_length=5000)


class LinkOut(_Out):
    id: int
    incident_id: int
    other_id: int
    kind: str
    reason: str
    created_by: str
    created_at: datetime


class VictimIn(_In):
    party: str = Field(pattern=IDENT_PATTERN)
    safe_area: str | None = Field(default=None, pattern=IDENT_PATTERN)
    sector: str | None = Field(default=None, max_length=32)


class VictimOut(_Out):
    incident_id: int
    party_id: str
    safe_area_id: str | None
    sector: str | None
    added_by: str


class SeverityIn(_In):
    severity: Severity
    reason: Text = Field(min_length=1, max_length=5000)


class EvidenceOut(_Out):
    id: int
    incident_id: int
    sha256: str
    kind: str
    size: int
    source: str
    collected_by: str
    collected_at: datetime
    method: str
    media_type: str | None
    filename: str | None
    stored_at: datetime | None


class TransferIn(_In):
    to: Text = Field(min_length=1, max_length=100)
    reason: Text = Field(min_length=1, max_length=5000)


class CustodyOut(_Out):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: str
    hash: str
