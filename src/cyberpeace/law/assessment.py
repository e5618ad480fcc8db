"""The Assessment: legal and normative findings on one incident, each with reasons and gaps.

It is plain, JSON-serialisable data carrying the knowledge version it was made with, so that the
case store can keep it and a later reader knows which rules produced it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Level = Literal["breached", "likely breached", "possibly breached", "not engaged", "cannot tell"]
LEVEL_NAMES: tuple[Level, ...] = ("not engaged", "possibly breached", "likely breached", "breached")
Status = Literal["met", "not met", "cannot tell"]
OptionStatus = Literal["open", "not open", "cannot tell"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Finding(_Out):
    """One rule or norm applied to the facts."""

    rule: str
    title: str
    kind: str
    instrument: str
    citation: str
    level: Level
    confidence: float = 1.0
    reasons: list[str] = []
    missing: list[str] = []  # unknown facts that would change this finding
    assumed: list[str] = []  # unknown facts taken as a value, named in the reasons
    contradicted: list[str] = []  # facts set aside because other facts contradict them

    @property
    def rank(self) -> int | None:
        """0 (not engaged) to 3 (breached); None when it cannot tell."""
        return None if self.level == "cannot tell" else LEVEL_NAMES.index(self.level)


class FactorFinding(_Out):
    """One Schmitt factor: how far it points towards a use of force."""

    factor: str
    title: str
    level: Literal["high", "medium", "low", "unknown"]
    at_least: Literal["high", "medium", "low"]
    reasons: list[str] = []
    missing: list[str] = []


class ThresholdFinding(_Out):
    """A threshold question (intervention, use of force, armed attack, attack under IHL)."""

    question: str
    title: str
    rule: str
    level: Level
    reasons: list[str] = []
    missing: list[str] = []
    factors: list[FactorFinding] = []


class RequirementStatus(_Out):
    requirement: str
    description: str
    required: bool
    status: Status
    reasons: list[str] = []
    missing: list[str] = []


class ResponseOption(_Out):
    """A response open (or not) to the victim state or the mission, with its conditions."""

    option: str
    title: str
    citation: str
    status: OptionStatus
    conditions: list[RequirementStatus] = []
    safeguards: list[str] = []


class Assessment(_Out):
    knowledge_version: str
    incident: str = ""
    findings: list[Finding]
    thresholds: list[ThresholdFinding]
    mandate: list[Finding] = []
    offences: list[str] = []  # Budapest Convention offences the conduct matches, at least likely
    responses: list[ResponseOption]
    contradictions: list[str] = []
    missing: list[str] = []  # every fact that would change some finding, most useful first

    def finding(self, rule: str) -> Finding:
        for finding in [*self.findings, *self.mandate]:
            if finding.rule == rule:
                return finding
        raise KeyError(rule)

    def response(self, option: str) -> ResponseOption:
        return next(r for r in self.responses if r.option == option)
