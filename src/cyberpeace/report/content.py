"""What a report holds, item by item, each item with the TLP it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cyberpeace.report.charts import BarChart
from cyberpeace.report.party_map import PartyMap
from cyberpeace.report.reader import Reader
from cyberpeace.share.tlp import most_restrictive

# A report holding nothing marked carries the least restricted label.
UNMARKED = "TLP:CLEAR"


@dataclass(frozen=True)
class IncidentItem:
    id: int
    title: str
    status: str
    status_reason: str
    severity: str
    party: str
    safe_area: str | None
    sector: str | None
    reported_by: str
    summary: str
    first_seen: datetime
    last_seen: datetime
    detections: int
    tlp: str


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    incident_id: int
    kind: str  # detection, status, note, action, share, assessment, message
    label: str
    text: str
    actor: str
    tlp: str


@dataclass(frozen=True)
class ActionItem:
    id: int
    incident_id: int
    kind: str
    target: str
    status: str
    proposed_at: datetime
    expires_at: datetime | None
    approvals: str
    reason: str
    tlp: str


@dataclass(frozen=True)
class FindingItem:
    incident_id: int
    version: int
    rule: str
    title: str
    level: str  # as the law engine names it
    reads: str  # as a person reads it for the finding's kind ("likely met")
    instrument: str
    citation: str
    reasons: tuple[str, ...]
    missing: tuple[str, ...]
    tlp: str


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    incident_id: int
    sha256: str
    kind: str
    size: int
    source: str
    collected_by: str
    collected_at: datetime
    method: str
    tlp: str


@dataclass(frozen=True)
class CaseItems:
    """What one incident contributes to a report, already filtered for the reader."""

    incident: IncidentItem
    timeline: list[TimelineItem] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    findings: list[FindingItem] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    kind: Literal["verification", "situation"]
    title: str
    mission: str
    reader: Reader
    generated_at: datetime
    since: datetime
    until: datetime
    summary: list[str]
    incidents: list[IncidentItem]
    timeline: list[TimelineItem]
    actions: list[ActionItem]
    findings: list[FindingItem]
    evidence: list[EvidenceItem]
    party_map: PartyMap
    rate_chart: BarChart
    source_chart: BarChart

    @property
    def tlp(self) -> str:
        """The report's own marking: the most restricted label of everything it holds."""
        groups: list[list[IncidentItem] | list[TimelineItem] | list[ActionItem]] = [
            self.incidents,
            self.timeline,
            self.actions,
        ]
        labels = [item.tlp for group in groups for item in group]
        labels += [f.tlp for f in self.findings] + [e.tlp for e in self.evidence]
        return most_restrictive(labels) or UNMARKED
