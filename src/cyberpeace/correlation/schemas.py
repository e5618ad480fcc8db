"""What the correlation API and ``cyberpeace correlate --json`` return, and what they accept."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SharedValueOut(BaseModel):
    kind: str
    ours: str
    theirs: str
    relation: Literal["same", "inside", "holds"] = Field(
        description="same value; ours lies inside theirs; theirs lies inside ours"
    )


class IncidentLinkOut(BaseModel):
    incident_id: int
    title: str
    party_id: str
    score: float
    shared: list[SharedValueOut]


class IntelligenceLinkOut(BaseModel):
    indicator_id: int
    kind: str
    value: str
    source: str
    tlp: str
    score: float
    stix_ids: list[str]
    shared: list[SharedValueOut]


class CorrelationsOut(BaseModel):
    incident_id: int
    incidents: list[IncidentLinkOut]
    intelligence: list[IntelligenceLinkOut]
    omitted: int = Field(
        0,
        description="Rows of very common values (over the fan-out limit) not met; staff only.",
    )


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32)
    value: str = Field(min_length=1, max_length=2048)


class ReportIn(BaseModel):
    """Indicators a party reports for its incident, and when they were seen."""

    model_config = ConfigDict(extra="forbid")

    indicators: list[IndicatorIn] = Field(min_length=1, max_length=10_000)
    first_seen: AwareDatetime
    last_seen: AwareDatetime | None = None


class ObservationOut(BaseModel):
    added: int
    widened: int
    sightings: int
    refused: list[str]
