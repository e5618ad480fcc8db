"""A Detection: what a detector found in a time window, with the numbers that explain it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high", "critical"]


class Source(BaseModel):
    """One source of the traffic behind a detection, with its share of the total."""

    model_config = ConfigDict(frozen=True)

    address: str
    share: float = Field(ge=0, le=1)
    packets: int = Field(ge=0)
    bytes: int = Field(ge=0)
    party: str | None = None
    port: int | None = None


class TracedSource(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: str
    asn: int | None = None
    party: str | None = None
    country: str | None = None
    role: str = Field(description="source, or reflector (abused, not an attacker)")
    special_purpose: str | None = Field(None, description="The bogon block it lies in, if any.")


class Traceback(BaseModel):
    model_config = ConfigDict(frozen=True)

    sources: list[TracedSource]
    distinct_sources: int
    special_purpose_share: float = Field(ge=0, le=1, description="Of the bytes, from bogons.")
    spoofing_signs: list[str]
    reflectors: bool
    explanation: str


class Detection(BaseModel):
    model_config = ConfigDict(frozen=True)

    detector: str = Field(description="Registered name of the detector that fired.")
    kind: str = Field(description="What was found, e.g. udp-reflection, port-scan.")
    target: str = Field(description="Address or prefix attacked or scanned.")
    party: str | None = None
    safe_area: str | None = None
    start: datetime
    end: datetime
    severity: Severity
    confidence: float = Field(ge=0, le=1)
    magnitude: dict[str, float] = Field(description="Peak rates: packets/s, bits/s, flows/s ...")
    sources: list[Source] = []
    explanation: dict[str, Any] = Field(
        description="Which numbers, against which threshold, in which window."
    )
    traceback: Traceback | None = Field(
        None, description="Where the sources are, and the signs that they are spoofed."
    )
