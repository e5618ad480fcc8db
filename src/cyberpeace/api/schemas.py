"""What the REST API accepts and returns (pydantic models, published in the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cyberpeace.law import Assessment
from cyberpeace.store import assessment_of
from cyberpeace.store.tables import AssessmentRow

Status = Literal["new", "triage", "investigating", "assessed", "closed"]
Severity = Literal["low", "medium", "high", "critical"]
Tlp = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
# Party and safe-area ids, as the mandate format defines them (mission/model.py).
IDENT_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
# The largest id of an INTEGER column on PostgreSQL; larger ones overflow the query.
MAX_ID = 2_147_483_647


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL characters; refuse them here rather than fail on write.
    if "\x00" in value:
        raise ValueError("text must not contain NUL (\\x00) characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PartyOut(_Out):
    id: str
    name: str
    country: str
    contact: dict[str, Any]
    territory: dict[str, Any]


class SafeAreaOut(_Out):
    id: str
    party_id: str
    name: str
    sector: str
    criticality: str
    prefixes: list[str]
    hosts: list[str]
    domains: list[str]


class DetectionOut(_Out):
    id: int
    detector: str
    kind: str
    target: str
    party_id: str | None
    safe_area_id: str | None
    start: datetime
    end: datetime
    severity: str
    confidence: float
    magnitude: dict[str, Any]
    sources: list[dict[str, Any]]
    explanation: dict[str, Any]
    traceback: dict[str, Any] | None = Field(
        None,
        description="Where the sources are (AS, party, country), whether they are reflectors, "
        "and the signs that they are spoofed; none for detections stored without one.",
    )


class IncidentOut(_Out):
    id: int
    title: str
    status: str
    status_reason: str
    severity: str
    tlp: str
    party_id: str
    safe_area_id: str | None
    sector: str | None
    reported_by: str
    summary: str
    first_seen: datetime
    last_seen: datetime
    opened_at: datetime
    updated_at: datetime


class IncidentDetailOut(IncidentOut):
    detections: list[DetectionOut]


class IncidentIn(BaseModel):
    """An incident reported by a party or opened by mission staff."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Text = Field(min_length=3, max_length=300)
    party: str = Field(
        min_length=1, max_length=64, pattern=IDENT_PATTERN, description="The victim party."
    )
    severity: Severity = "medium"
    safe_area: str | None = Field(default=None, pattern=IDENT_PATTERN)
    tlp: Tlp | None = Field(default=None, description="Defaults to the data policy's TLP.")
    first_seen: datetime
    last_seen: datetime | None = None
    summary: Text = Field(default="", max_length=20_000)

    @model_validator(mode="after")
    def _times(self) -> IncidentIn:
        if self.first_seen.tzinfo is None or (self.last_seen and self.last_seen.tzinfo is None):
            raise ValueError("times need a UTC offset, e.g. 2026-11-24T10:00:00Z")
        if self.last_seen and self.last_seen < self.first_seen:
            raise ValueError("last_seen is before first_seen")
        return self


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: Text = Field(default="", max_length=2000)


class AssessmentVersionOut(_Out):
    """One version of an incident's assessment: who made it, with which knowledge, what changed."""

    incident_id: int
    version: int
    knowledge_version: str
    created_by: str
    created_at: datetime
    changes: list[dict[str, Any]] = Field(
        description="Facts changed since the previous version: fact, from, to, by (and reason)."
    )


class AssessmentOut(AssessmentVersionOut):
    facts: dict[str, Any] = Field(description="The facts assessed (docs/facts.md).")
    assessment: Assessment

    @classmethod
    def of(cls, row: AssessmentRow) -> AssessmentOut:
        return cls(
            **AssessmentVersionOut.model_validate(row).model_dump(),
            facts=row.facts,
            assessment=assessment_of(row),
        )


class AssessmentIn(BaseModel):
    """Facts an analyst sets (``null`` withdraws one) before the incident is assessed again."""

    model_config = ConfigDict(extra="forbid")

    facts: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="Dotted fact path to a value, or to {value, confidence}; null withdraws.",
        examples=[
            {
                "effects.injury_or_death": False,
                "attribution.party": {"value": "borduria", "confidence": 0.6},
            }
        ],
    )
    reason: Text = Field(default="", max_length=2000)


class AuditEntryOut(_Out):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: str
    prev_hash: str
    hash: str


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str


class ErrorOut(BaseModel):
    detail: str


class ActionOut(_Out):
    """A mitigation or other measure, with its safeguards and where it stands."""

    id: int
    kind: str
    status: str
    target: str | None
    party_id: str | None
    incident_id: int | None
    detection_id: int | None
    reason: str | None
    parameters: dict[str, Any]
    safeguards: list[dict[str, Any]]
    approvals_needed: int | None
    approvals: list[dict[str, Any]] | None
    status_reason: str | None
    in_force: bool | None
    attempts: int | None
    last_error: str | None
    proposed_at: datetime
    expires_at: datetime | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, Field(min_length=1, max_length=2000)]
