"""An incident's correlations: the other incidents and the shared intelligence it meets, ranked.

The index finds and ranks the matches (``index.py``, ``ranking.py``); the store then names our
values shared with the best ones (the other side's values are known from the index: equal to
ours, or a network it holds) and the intelligence's STIX objects. A value carried by more rows
than ``fanout_limit`` (``data/kinds.yaml``) meets only the newest of them; ``omitted`` says how
many were left out. The viewer must see the incident; a party sees
only the other incidents it may see (its own and those shared with it) and no TLP:RED
intelligence, and learns nothing about the rest, not even how many there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cyberpeace.correlation.index import HOLDS, INSIDE, Columns, Correlated, CorrelationIndex
from cyberpeace.correlation.indicator_kinds import normalise
from cyberpeace.correlation.keys import words_text
from cyberpeace.correlation.ranking import rank
from cyberpeace.store.access import Viewer
from cyberpeace.store.correlation_tables import IncidentIndicatorRow, IndicatorStixRow
from cyberpeace.store.incidents import get_incident
from cyberpeace.store.tables import IncidentRow, IncidentShareRow, IndicatorRow

_VALUE = (IncidentIndicatorRow.kind, IncidentIndicatorRow.value)
_INDICATOR = (IndicatorRow.kind, IndicatorRow.value, IndicatorRow.source, IndicatorRow.tlp)
RELATIONS = {0: "same", INSIDE: "inside", HOLDS: "holds"}  # theirs is inside / holds ours
CHUNK = 500
WITHHELD_TLP = "TLP:RED"


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
    omitted: int = 0  # rows of very common values not met (``fanout_limit``, data/kinds.yaml)


def correlations_of(
    session: Session, viewer: Viewer, index: CorrelationIndex, incident_id: int, limit: int = 50
) -> Correlations:
    get_incident(session, viewer, incident_id)  # NotFound, Forbidden
    found = index.correlate(incident_id)
    ranked = rank(index.incidents, found.own, found.incidents)
    chosen = _visible(session, viewer, ranked.members, limit)
    rank_of = {int(m): i for i, m in enumerate(ranked.members)}
    picked = {m: ranked.matches_of(rank_of[m]) for m in chosen}
    # Only our own rows shown are read back (a large incident has thousands); the other
    # incidents' values are known from the index: the same as ours, or a network it holds.
    shown = np.concatenate([np.zeros(0, dtype=np.int64), *picked.values()])
    ours_of = found.own.row[ranked.matches.query[shown]]
    values = _by_id(session, {int(r) for r in ours_of}, *_VALUE)
    theirs_of = _theirs(index.incidents.columns, ranked.matches.row[shown])
    incidents = _by_id(session, chosen, IncidentRow.title, IncidentRow.party_id)
    links, at = [], 0
    for m in chosen:
        shared = set()
        for p in picked[m]:
            kind, ours = values[int(ours_of[at])]
            theirs = theirs_of[at] or ours
            at += 1
            relation = RELATIONS[int(ranked.matches.relation[p])]
            if relation == "same" and ours != theirs:
                continue  # two networks whose 64-bit keys collide: not the same value
            shared.add(SharedValue(kind, ours, theirs, relation))
        title, party = incidents[m]
        score = round(float(ranked.scores[rank_of[m]]), 4)
        links.append(IncidentLink(m, title, party, score, sorted(shared, key=_order)))
    intelligence = _intelligence(session, viewer, index, found, limit)
    # How many rows of very common values were not met; staff only, as it counts all parties'.
    omitted = found.incidents.omitted + found.intelligence.omitted if viewer.is_staff else 0
    return Correlations(incident_id, links, intelligence, omitted)


def _intelligence(
    session: Session, viewer: Viewer, index: CorrelationIndex, found: Correlated, limit: int
) -> list[IntelligenceLink]:
    ranked = rank(index.intelligence, found.own, found.intelligence)
    rank_of = {int(m): i for i, m in enumerate(ranked.members)}
    members = list(rank_of)
    rows: dict[int, tuple[Any, ...]] = {}
    ids: list[int] = []
    for start in range(0, len(members), CHUNK):  # in rank order, until enough are visible
        chunk = members[start : start + CHUNK]
        rows.update(_by_id(session, chunk, *_INDICATOR))
        ids += [i for i in chunk if i in rows and (viewer.is_staff or rows[i][3] != WITHHELD_TLP)]
        if len(ids) >= limit:
            break
    ids = ids[:limit]
    stix: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), CHUNK):
        query = select(IndicatorStixRow.indicator_id, IndicatorStixRow.stix_id).where(
            IndicatorStixRow.indicator_id.in_(ids[start : start + CHUNK])
        )
        for ident, stix_id in session.execute(query):
            stix[ident].append(stix_id)
    shown = [ranked.matches_of(rank_of[ident]) for ident in ids]
    mine = {int(found.own.row[ranked.matches.query[p]]) for picked in shown for p in picked}
    own = _by_id(session, mine, IncidentIndicatorRow.kind, IncidentIndicatorRow.value)
    out = []
    for ident in ids:
        kind, value, source, tlp = rows[ident]
        theirs = normalise(kind, value)[1]  # it was indexed, so it normalises
        shared = set()
        for p in ranked.matches_of(rank_of[ident]):
            our_kind, ours = own[int(found.own.row[ranked.matches.query[p]])]
            relation = RELATIONS[int(ranked.matches.relation[p])]
            if relation == "same" and ours != theirs:
                continue  # two values whose 64-bit keys collide: not the same value
            shared.add(SharedValue(our_kind, ours, theirs, relation))
        score = round(float(ranked.scores[rank_of[ident]]), 4)
        out.append(
            IntelligenceLink(
                ident,
                kind,
                value,
                source,
                tlp,
                score,
                sorted(stix[ident]),
                sorted(shared, key=_order),
            )
        )
    return out


def _theirs(columns: Columns, rows: NDArray[np.int64]) -> list[str | None]:
    """The other side's value of each row where it is a network (its text from its words);
    None for the others, which are met only by an equal key and so are our value."""
    length = columns.length[rows]
    out: list[str | None] = [None] * len(rows)
    for i in np.flatnonzero(length >= 0):
        r = rows[i]
        out[i] = words_text(int(columns.high[r]), int(columns.low[r]), int(length[i]))
    return out


def _order(value: SharedValue) -> tuple[str, str, str]:
    return (value.kind, value.ours, value.theirs)


def _visible(session: Session, viewer: Viewer, ranked: np.ndarray, limit: int) -> list[int]:
    """The first ``limit`` of the ranked incidents that the viewer may see, in rank order."""
    members = [int(m) for m in ranked]
    if viewer.is_staff:
        return members[:limit]
    shared = select(IncidentShareRow.incident_id).where(
        IncidentShareRow.party_id == viewer.party_id
    )
    out: list[int] = []
    for start in range(0, len(members), CHUNK):
        chunk = members[start : start + CHUNK]
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


def _by_id(
    session: Session, ids: Iterable[int], *columns: InstrumentedAttribute[Any]
) -> dict[int, tuple[Any, ...]]:
    """Some columns of the rows with these ids (of the columns' table), in bounded IN lists."""
    wanted = sorted(ids)
    ident = columns[0].class_.id
    out: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(wanted), CHUNK):
        query = select(ident, *columns).where(ident.in_(wanted[start : start + CHUNK]))
        out.update({row[0]: tuple(row[1:]) for row in session.execute(query)})
    return out
