"""The facts an incident itself shows: its victim, its safe area and its detections.

The table in ``data/incident_facts.yaml`` says what each detection kind shows (the operation,
its ATT&CK techniques, the mandate conduct, its effects) and what a safe area's sector says about
the victim. Each fact names its source (``detection 12``, ``mandate (safe area ...)``) and a
confidence no higher than the detection's own. Attribution, intent, the armed-conflict context
and the origin state's conduct are never guessed from traffic: they stay unknown until an
analyst sets them (``overrides.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.law.facts import Fact, OperationType


@dataclass(frozen=True)
class SafeAreaRecord:
    id: str
    name: str
    sector: str
    criticality: str


@dataclass(frozen=True)
class DetectionRecord:
    id: int
    kind: str
    target: str
    start: datetime
    end: datetime
    confidence: float


@dataclass(frozen=True)
class IncidentRecord:
    """What the case store knows of an incident, as the facts need it."""

    id: int
    title: str
    party: str
    first_seen: datetime
    safe_area: SafeAreaRecord | None = None
    detections: list[DetectionRecord] = field(default_factory=list)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindFacts(_Strict):
    operation: OperationType
    conduct: list[str]
    techniques: list[str]
    confidence: float = Field(ge=0, le=1)
    effects: dict[str, bool]
    effects_confidence: float = Field(ge=0, le=1)
    without_right: float = Field(ge=0, le=1)


Claim = tuple[DetectionRecord, KindFacts]
Rating = Callable[[DetectionRecord, KindFacts], float]


class SectorFacts(_Strict):
    critical_infrastructure: bool
    medical: bool
    governmental_function: bool
    indispensable_to_survival: bool
    essential: bool


class Table(_Strict):
    kinds: dict[str, KindFacts]
    operation_precedence: list[OperationType]
    sectors: dict[str, SectorFacts]
    sector_confidence: float = Field(ge=0, le=1)
    critical_criticality: list[str]


@cache
def table() -> Table:
    """The shipped table (``data/incident_facts.yaml``), read once."""
    text = resources.files("cyberpeace.law").joinpath("data/incident_facts.yaml").read_text("utf-8")
    return Table.model_validate(yaml.safe_load(text))


def incident_facts(incident: IncidentRecord) -> dict[str, Fact[Any]]:
    """The facts the incident shows, by dotted path (``Facts.fact`` paths)."""
    found: dict[str, Fact[Any]] = {}
    found.update(_victim(incident))
    found.update(_operation(incident.detections))
    found.update(_effects(incident))
    found["context.occurred_at"] = Fact(
        value=incident.first_seen, source="incident (first seen)", confidence=1.0
    )
    return found


def _victim(incident: IncidentRecord) -> dict[str, Fact[Any]]:
    border = "mandate (territory)" if incident.detections else "incident report"
    found: dict[str, Fact[Any]] = {
        "victim.party": Fact(value=incident.party, source=f"{border} of {incident.party}")
    }
    area = incident.safe_area
    if area is None:
        if incident.detections:
            # Every detection's target was looked up in the mandate's safe areas and was in none.
            found["victim.safe_area"] = Fact(value=False, source="mandate (no safe area)")
        return found
    where = f"mandate (safe area {area.id})"
    found["victim.safe_area"] = Fact(value=True, source=where)
    found["victim.safe_area_id"] = Fact(value=area.id, source=where)
    found["victim.sector"] = Fact(value=area.sector, source=where)
    sector = table().sectors.get(area.sector)
    if sector is None:
        return found
    confidence = table().sector_confidence
    why = f"{where}: sector {area.sector}"
    for name in ("medical", "governmental_function", "indispensable_to_survival"):
        found[f"victim.{name}"] = Fact(
            value=getattr(sector, name), source=why, confidence=confidence
        )
    if area.criticality in table().critical_criticality:
        found["victim.critical_infrastructure"] = Fact(
            value=True, source=f"{where}: criticality {area.criticality}"
        )
    else:
        found["victim.critical_infrastructure"] = Fact(
            value=sector.critical_infrastructure, source=why, confidence=confidence
        )
    return found


def _known(detections: list[DetectionRecord]) -> list[Claim]:
    kinds = table().kinds
    return [(d, kinds[d.kind]) for d in detections if d.kind in kinds]


def _names(detections: list[DetectionRecord]) -> str:
    ids = [str(d.id) for d in detections]
    return ("detection " if len(ids) == 1 else "detections ") + ", ".join(ids)


def _operation(detections: list[DetectionRecord]) -> dict[str, Fact[Any]]:
    known = _known(detections)
    if not known:
        return {}
    found: dict[str, Fact[Any]] = {}
    types = {k.operation for _, k in known}
    main = next(t for t in table().operation_precedence if t in types)
    of_main = [(d, k) for d, k in known if k.operation == main]
    found["operation.type"] = _best(main, of_main, lambda d, k: min(d.confidence, k.confidence))
    techniques = sorted({t for _, k in known for t in k.techniques})
    conduct = sorted({c for _, k in known for c in k.conduct})
    everyone = [d for d, _ in known]
    confidence = max(min(d.confidence, k.confidence) for d, k in known)
    found["operation.techniques"] = Fact(
        value=techniques, source=_names(everyone), confidence=confidence
    )
    found["operation.conduct"] = Fact(value=conduct, source=_names(everyone), confidence=confidence)
    found["operation.without_right"] = _best(
        True, known, lambda d, k: min(d.confidence, k.without_right), "not on the allow list"
    )
    return found


def _best(value: Any, claims: list[Claim], confidence_of: Rating, note: str = "") -> Fact[Any]:
    """The fact as the most confident of the detections that show it (first one on a tie)."""
    detection, kind = max(claims, key=lambda claim: confidence_of(*claim))
    source = f"detection {detection.id} ({detection.kind}{'; ' + note if note else ''})"
    return Fact(value=value, source=source, confidence=round(confidence_of(detection, kind), 3))


def _effect_confidence(detection: DetectionRecord, kind: KindFacts) -> float:
    return min(detection.confidence, kind.effects_confidence)


def _effects(incident: IncidentRecord) -> dict[str, Fact[Any]]:
    known = [(d, k) for d, k in _known(incident.detections) if k.effects]
    found: dict[str, Fact[Any]] = {}
    paths = sorted({name for _, k in known for name in k.effects})
    for name in paths:
        claims = [(d, k) for d, k in known if name in k.effects]
        # Detections may disagree (none of the shipped kinds do); the most confident one speaks.
        detection, kind = max(claims, key=lambda claim: _effect_confidence(*claim))
        found[f"effects.{name}"] = _best(
            kind.effects[name], [(detection, kind)], _effect_confidence
        )
    disrupting = [d for d, k in known if k.effects.get("disruption")]
    if disrupting:
        disruption = found["effects.disruption"]
        found["effects.disruption_hours"] = Fact(
            value=round(_covered(disrupting) / timedelta(hours=1), 3),
            source=f"{_names(disrupting)}: start to end",
            confidence=disruption.confidence,
        )
        found.update(_reach(incident, disruption))
    return found


def _covered(detections: list[DetectionRecord]) -> timedelta:
    """The time some detection covers: overlapping detections count once."""
    total, until = timedelta(0), None
    for d in sorted(detections, key=lambda d: d.start):
        start = d.start if until is None else max(d.start, until)
        if d.end > start:
            total += d.end - start
        until = d.end if until is None else max(until, d.end)
    return total


def _reach(incident: IncidentRecord, disruption: Fact[Any]) -> dict[str, Fact[Any]]:
    """How far a disruption reached: the scale, and whether essential services were hit."""
    area = incident.safe_area
    if area is None:
        targets = {d.target for d in incident.detections}
        if len(targets) != 1:
            return {}
        only = next(iter(targets))
        return {
            "effects.scale": Fact(
                value="single-organisation", source=f"one target, {only}", confidence=0.6
            )
        }
    where = f"mandate (safe area {area.id})"
    found: dict[str, Fact[Any]] = {
        "effects.scale": Fact(value="single-organisation", source=where, confidence=0.8)
    }
    sector = table().sectors.get(area.sector)
    if sector is not None:
        found["effects.essential_services_affected"] = Fact(
            value=sector.essential,
            source=f"{disruption.source} in {where}: sector {area.sector}",
            confidence=round(min(disruption.confidence, table().sector_confidence), 3),
        )
    return found
