"""An incident's correlations: the other incidents and the shared intelligence it meets, ranked.

The index finds and ranks the matches (``index.py``, ``ranking.py``); the store then names the
values of the best ones and their STIX objects. The viewer must see the incident; a party sees
only the other incidents it may see (its own and those shared with it) and no TLP:RED
intelligence, and learns nothing about the rest, not even how many there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cyberpeace.correlation.index import HOLDS, INSIDE, Correlated, CorrelationIndex
from cyberpeace.correlation.indicator_kinds import normalise
from cyberpeace.correlation.ranking import Ranked, rank
from cyberpeace.store.access import Viewer
from cyberpeace.store.correlation_tables import IncidentIndicatorRow, IndicatorStixRow
from cyberpeace.store.incidents import get_incident
from cyberpeace.store.tables import IncidentRow, IncidentShareRow, IndicatorRow

RELATIONS = {0: "same", INSIDE: "inside", HOLDS: "holds"}  # theirs is inside / holds ours
CHUNK = 500
WITHHELD_TLP = "TLP:RED"
T = TypeVar("T")


@dataclass(frozen=True)
class SharedValue:
    kind: str
    ours: str
    theirs: str
    relation: str  # same; inside: our value lies inside theirs; holds: theirs lies inside ours


@dataclass(frozen=True)
class IncidentLink:
    incident_id: int
    title: str
    party_id: str
    score: float
    shared: list[SharedValue]


@dataclass(frozen=True)
class IntelligenceLink:
    indicator_id: int
    kind: str
    value: str
    source: str
    tlp: str
    score: float
    stix_ids: list[str]
    shared: list[SharedValue]


@dataclass(frozen=True)
class Correlations:
    incident_id: int
    incidents: list[IncidentLink]
    intelligence: list[IntelligenceLink]


def correlations_of(
    session: Session, viewer: Viewer, index: CorrelationIndex, incident_id: int, limit: int = 50
) -> Correlations:
    get_incident(session, viewer, incident_id)  # NotFound, Forbidden
    found = index.correlate(incident_id)
    ranked = rank(index.incidents, found.own, found.incidents)
    chosen = _visible(session, viewer, ranked.members, limit)
    positions = {int(m): i for i, m in enumerate(ranked.members)}
    incidents = {r.id: r for r in _chunked(session, IncidentRow, IncidentRow.id, chosen)}
    pairs = [(m, ranked.matches_of(positions[m])) for m in chosen]
    rows = _values(session, found.own.row, index.incidents.columns.row, ranked, pairs)
    links = [
        IncidentLink(
            m,
            incidents[m].title,
            incidents[m].party_id,
            round(float(ranked.scores[positions[m]]), 4),
            _shared(rows, found.own.row, index.incidents.columns.row, ranked, picked),
        )
        for m, picked in pairs
    ]
    return Correlations(incident_id, links, _intelligence(session, viewer, index, found, limit))


def _intelligence(
    session: Session, viewer: Viewer, index: CorrelationIndex, found: Correlated, limit: int
) -> list[IntelligenceLink]:
    ranked = rank(index.intelligence, found.own, found.intelligence)
    ids = [int(m) for m in ranked.members]
    indicators = {r.id: r for r in _chunked(session, IndicatorRow, IndicatorRow.id, ids)}
    if not viewer.is_staff:
        ids = [i for i in ids if indicators[i].tlp != WITHHELD_TLP]
    ids = ids[:limit]
    stix: dict[int, list[str]] = {i: [] for i in ids}
    for link in _chunked(session, IndicatorStixRow, IndicatorStixRow.indicator_id, ids):
        stix[link.indicator_id].append(link.stix_id)
    own = {
        r.id: r
        for r in _chunked(
            session, IncidentIndicatorRow, IncidentIndicatorRow.id, [int(x) for x in found.own.row]
        )
    }
    positions = {int(m): i for i, m in enumerate(ranked.members)}
    out = []
    for ident in ids:
        row = indicators[ident]
        theirs = normalise(row.kind, row.value)[1]  # it was indexed, so it normalises
        picked = ranked.matches_of(positions[ident])
        shared = sorted(
            {
                SharedValue(
                    own[int(found.own.row[ranked.matches.query[p]])].kind,
                    own[int(found.own.row[ranked.matches.query[p]])].value,
                    theirs,
                    RELATIONS[int(ranked.matches.relation[p])],
                )
                for p in picked
            },
            key=lambda s: (s.kind, s.ours),
        )
        out.append(
            IntelligenceLink(
                ident,
                row.kind,
                row.value,
                row.source,
                row.tlp,
                round(float(ranked.scores[positions[ident]]), 4),
                sorted(stix[ident]),
                shared,
            )
        )
    return out


def _values(
    session: Session,
    own_rows: np.ndarray,
    side_rows: np.ndarray,
    ranked: Ranked,
    pairs: Sequence[tuple[int, np.ndarray]],
) -> dict[int, IncidentIndicatorRow]:
    wanted = {int(x) for x in own_rows}
    for _, picked in pairs:
        wanted.update(int(x) for x in side_rows[ranked.matches.row[picked]])
    ids = sorted(wanted)
    return {r.id: r for r in _chunked(session, IncidentIndicatorRow, IncidentIndicatorRow.id, ids)}


def _shared(
    rows: dict[int, IncidentIndicatorRow],
    own_rows: np.ndarray,
    side_rows: np.ndarray,
    ranked: Ranked,
    picked: np.ndarray,
) -> list[SharedValue]:
    out = set()
    for p in picked:
        ours = rows[int(own_rows[ranked.matches.query[p]])]
        theirs = rows[int(side_rows[ranked.matches.row[p]])]
        relation = RELATIONS[int(ranked.matches.relation[p])]
        out.add(SharedValue(ours.kind, ours.value, theirs.value, relation))
    return sorted(out, key=lambda s: (s.kind, s.ours, s.theirs))


def _visible(session: Session, viewer: Viewer, ranked: np.ndarray, limit: int) -> list[int]:
    """The first ``limit`` of the ranked incidents that the viewer may see, in rank order."""
    members = [int(m) for m in ranked]
    if viewer.is_staff:
        return members[:limit]
    out: list[int] = []
    for start in range(0, len(members), CHUNK):
        chunk = members[start : start + CHUNK]
        shared = select(IncidentShareRow.incident_id).where(
            IncidentShareRow.party_id == viewer.party_id
        )
        seen = set(
            session.scalars(
                select(IncidentRow.id).where(
                    IncidentRow.id.in_(chunk),
                    or_(IncidentRow.party_id == viewer.party_id, IncidentRow.id.in_(shared)),
                )
            )
        )
        out += [m for m in chunk if m in seen]
        if len(out) >= limit:
            break
    return out[:limit]


def _chunked(
    session: Session, table: type[T], column: InstrumentedAttribute[int], ids: Iterable[int]
) -> list[T]:
    """Rows of ``table`` whose ``column`` is one of ``ids``, in bounded IN lists."""
    wanted = list(ids)
    out: list[T] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        out += list(session.scalars(select(table).where(column.in_(chunk))))
    return out
