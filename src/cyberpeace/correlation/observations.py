"""An incident's indicators: what its detections saw and what parties reported, with sightings.

Every value is normalised (``indicator_kinds.py``); one that is not a valid indicator is refused
with its reason and the others are kept. A value already held for the incident in the same role
widens its time span instead of being stored twice. The values are then met against the
intelligence side of the index, and each indicator met gets a sighting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.correlation.index import Columns, Side
from cyberpeace.correlation.indicator_kinds import IndicatorError, normalise
from cyberpeace.correlation.keys import as_signed
from cyberpeace.correlation.sightings import Seen, meet, record
from cyberpeace.correlation.store_columns import columns_of
from cyberpeace.store import audit
from cyberpeace.store.access import Forbidden, Viewer
from cyberpeace.store.correlation_tables import IncidentIndicatorRow
from cyberpeace.store.incidents import get_incident
from cyberpeace.store.tables import DetectionRow, IncidentRow

MAX_VALUES = 10_000  # one report or detection names at most this many values
ROLES = ("source", "target", "reported")


@dataclass
class Observation:
    added: int = 0
    widened: int = 0
    sightings: int = 0
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """When, how and by whom the values were seen."""

    first_seen: datetime
    last_seen: datetime
    observed_by: str  # telemetry or report
    where_sighted: str  # party:ID or sensor:ID
    detection_id: int | None = None


def observe(
    session: Session,
    incident_id: int,
    values: Sequence[tuple[str, str, str]],
    context: Context,
    intelligence: Side | None = None,
) -> Observation:
    """Record ``(kind, value, role)`` triples as the incident's indicators, and their sightings."""
    result = Observation()
    if len(values) > MAX_VALUES:
        raise IndicatorError(f"{len(values)} values at once; at most {MAX_VALUES}")
    kept: dict[tuple[str, str, str], None] = {}
    for kind, value, role in values:
        if role not in ROLES:
            result.refused.append(f"unknown role {role!r}; expected one of {ROLES}")
            continue
        try:
            kept[(*normalise(kind, value), role)] = None
        except IndicatorError as exc:
            result.refused.append(str(exc))
    if not kept:
        return result
    names, canon, roles = (list(column) for column in zip(*kept, strict=True))
    ident = np.zeros(len(names), dtype=np.int64)
    columns = columns_of(ident, np.full(len(names), incident_id), names, canon)
    _store(session, incident_id, columns, names, canon, roles, context, result)
    if intelligence is not None:
        position, indicator = meet(intelligence, columns)
        seen = [
            Seen(int(i), canon[int(p)], context.first_seen, context.last_seen)
            for p, i in zip(position, indicator, strict=True)
        ]
        result.sightings = record(
            session,
            seen,
            incident_id=incident_id,
            observed_by=context.observed_by,
            where_sighted=context.where_sighted,
            detection_id=context.detection_id,
        )
    return result


def _store(
    session: Session,
    incident_id: int,
    columns: Columns,
    names: list[str],
    canon: list[str],
    roles: list[str],
    context: Context,
    result: Observation,
) -> None:
    keys = as_signed(columns.key)
    held = {
        (row.key, row.role, row.value): row
        for row in session.scalars(
            select(IncidentIndicatorRow).where(
                IncidentIndicatorRow.incident_id == incident_id,
                IncidentIndicatorRow.key.in_({int(k) for k in keys}),
            )
        )
    }
    for i, (name, value, role) in enumerate(zip(names, canon, roles, strict=True)):
        row = held.get((int(keys[i]), role, value))
        if row is not None:
            row.first_seen = min(row.first_seen, context.first_seen)
            row.last_seen = max(row.last_seen, context.last_seen)
            result.widened += 1
            continue
        network = int(columns.length[i]) >= 0
        session.add(
            IncidentIndicatorRow(
                incident_id=incident_id,
                kind=name,
                value=value,
                key=int(keys[i]),
                net_high=int(columns.high[i].astype(np.int64)) if network else None,
                net_low=int(columns.low[i].astype(np.int64)) if network else None,
                prefix_len=int(columns.length[i]) if network else None,
                role=role,
                observed_by=context.observed_by,
                first_seen=context.first_seen,
                last_seen=context.last_seen,
            )
        )
        result.added += 1
    session.flush()


def observe_detection(
    session: Session,
    detection: DetectionRow,
    incident: IncidentRow,
    intelligence: Side | None = None,
) -> Observation:
    """A detection's target and sources as indicators of the incident that holds it."""
    values = [("address", detection.target, "target")]
    sources = detection.sources[: MAX_VALUES - 1]
    values += [("address", str(source["address"]), "source") for source in sources]
    where = f"sensor:{detection.sensor_id}" if detection.sensor_id else f"party:{incident.party_id}"
    context = Context(detection.start, detection.end, "telemetry", where, detection.id)
    return observe(session, incident.id, values, context, intelligence)


def report_indicators(
    session: Session,
    viewer: Viewer,
    incident_id: int,
    values: Sequence[tuple[str, str]],
    when: tuple[datetime, datetime],
    intelligence: Side | None = None,
) -> Observation:
    """Indicators a party (the victim) or mission staff report for an incident."""
    incident = get_incident(session, viewer, incident_id)
    if not viewer.may_see_party(incident.party_id):
        raise Forbidden("only the victim party or mission staff report an incident's indicators")
    where = f"party:{viewer.party_id}" if viewer.party_id else "party:mission"
    context = Context(when[0], when[1], "report", where)
    triples = [(kind, value, "reported") for kind, value in values]
    result = observe(session, incident_id, triples, context, intelligence)
    audit.append(
        session,
        viewer.actor,
        "incident.indicators",
        f"incident:{incident_id}",
        {"added": result.added, "widened": result.widened, "refused": len(result.refused)},
    )
    return result
