"""The correlation index against a brute-force SQL join on small random stores.

Every example stores random incidents' indicators and intelligence indicators through the real
paths (``observe``, the ``indicators`` table), builds the index from the store, and compares an
incident's correlations with what a plain SQL self-join (exact values) plus a pairwise
``ipaddress`` containment check over every network finds: the same other incidents, the same
shared values, the same relations.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from cyberpeace.correlation import Context, Correlator, correlations_of, normalise, observe
from cyberpeace.store import SYSTEM, IncidentDraft, Store, create_incident
from cyberpeace.store.correlation_tables import (
    IncidentIndicatorRow,
    IndicatorStixRow,
    SightingRow,
)
from cyberpeace.store.tables import IndicatorRow

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
V4 = [f"10.0.{a}.{b}" for a in range(3) for b in (1, 7, 130)]
V6 = ["2001:db8::1", "2001:db8::ff", "2001:db8:0:1::5", "2001:db8:1::1", "2001:db9::1"]
OTHER = [
    ("domain", "evil.example"),
    ("domain", "EVIL.example."),
    ("domain", "c2.example.net"),
    ("asn", "AS64500"),
    ("asn", "64501"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("hash", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("ja3", "e7d705a3286e19ea42f587b344ee6865"),
    ("ja4", "t13d1516h2_8daaf6152771_b186095e22b6"),
    ("url", "http://evil.example/x"),
    ("url", "HTTP://EVIL.example:80/x"),
]


def _network(parts: tuple[str, int]) -> tuple[str, str]:
    address, length = parts
    return ("prefix", f"{address}/{length}")


values = st.one_of(
    st.sampled_from(V4).map(lambda a: ("address", a)),
    st.sampled_from(V4).map(lambda a: ("ipv6", f"::ffff:{a}")),
    st.tuples(st.sampled_from(V4), st.integers(8, 31)).map(_network),
    st.sampled_from(V6).map(lambda a: ("address", a)),
    st.tuples(st.sampled_from(V6), st.sampled_from([16, 31, 32, 48, 64, 96, 120, 127])).map(
        _network
    ),
    st.sampled_from(OTHER),
)
incident_values = st.lists(
    st.tuples(values, st.sampled_from(["source", "target", "reported"])), max_size=8
)


@pytest.fixture
def incidents(store: Store) -> list[int]:
    with store.session() as session:
        ids = []
        for number, party in enumerate(["arcadia", "borduria"] * 3):
            draft = IncidentDraft(f"Case {number}", party, "medium", T0, T0, "TLP:AMBER")
            ids.append(create_incident(session, SYSTEM, draft).id)
    return ids


def _reset(session: Session) -> None:
    for table in (SightingRow, IndicatorStixRow, IncidentIndicatorRow, IndicatorRow):
        session.execute(delete(table))


def _store(
    session: Session,
    incidents: list[int],
    stored: list[list[tuple[tuple[str, str], str]]],
    intelligence: list[tuple[str, str]],
) -> None:
    context = Context(T0, T0 + timedelta(minutes=5), "report", "party:arcadia")
    for incident_id, triples in zip(incidents, stored, strict=False):
        observe(session, incident_id, [(k, v, role) for (k, v), role in triples], context)
    for number, (kind, value) in enumerate(intelligence):
        session.add(
            IndicatorRow(
                kind=kind, value=value, tlp="TLP:GREEN", source=f"feed-{number}", valid_from=T0
            )
        )
    session.flush()


def _relation(ours: str, theirs: str) -> str | None:
    """How two canonical values relate: same, inside (ours inside theirs), holds, or None."""
    if ours == theirs:
        return "same"
    try:
        a = ipaddress.ip_network(ours)
        b = ipaddress.ip_network(theirs)
    except ValueError:
        return None
    if a.version != b.version:
        return None
    if a.prefixlen > b.prefixlen and a.subnet_of(b):  # type: ignore[arg-type]
        return "inside"
    if b.prefixlen > a.prefixlen and b.subnet_of(a):  # type: ignore[arg-type]
        return "holds"
    return None


def _brute_force_incidents(session: Session, incident_id: int) -> set[tuple[object, ...]]:
    exact = session.execute(
        text(
            "SELECT b.incident_id, a.kind, a.value, b.value FROM incident_indicators a "
            "JOIN incident_indicators b ON a.kind = b.kind AND a.value = b.value "
            "WHERE a.incident_id = :x AND b.incident_id <> :x"
        ),
        {"x": incident_id},
    ).all()
    found: set[tuple[object, ...]] = {(o, k, a, b, "same") for o, k, a, b in exact}
    networks = session.execute(
        text(
            "SELECT a.kind, a.value, b.incident_id, b.value FROM incident_indicators a "
            "JOIN incident_indicators b ON b.incident_id <> a.incident_id "
            "WHERE a.incident_id = :x AND a.kind IN ('address', 'prefix') "
            "AND b.kind IN ('address', 'prefix')"
        ),
        {"x": incident_id},
    ).all()
    for kind, ours, other, theirs in networks:
        relation = _relation(ours, theirs)
        if relation in ("inside", "holds"):
            found.add((other, kind, ours, theirs, relation))
    return found


def _brute_force_intelligence(session: Session, incident_id: int) -> set[tuple[object, ...]]:
    ours = session.execute(
        text("SELECT kind, value FROM incident_indicators WHERE incident_id = :x"),
        {"x": incident_id},
    ).all()
    intel = session.execute(text("SELECT id, kind, value FROM indicators")).all()
    found: set[tuple[object, ...]] = set()
    for ident, kind, value in intel:
        their_kind, theirs = normalise(kind, value)
        for our_kind, mine in ours:
            relation = (
                _relation(mine, theirs)
                if our_kind == their_kind or ({our_kind, their_kind} <= {"address", "prefix"})
                else None
            )
            if relation is not None:
                found.add((ident, our_kind, mine, theirs, relation))
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stored=st.lists(incident_values, min_size=2, max_size=6),
    intelligence=st.lists(values, max_size=6),
)
def test_index_finds_what_a_brute_force_join_finds(
    store: Store,
    incidents: list[int],
    stored: list[list[tuple[tuple[str, str], str]]],
    intelligence: list[tuple[str, str]],
) -> None:
    with store.session() as session:
        _reset(session)
        _store(session, incidents, stored, intelligence)
        index = Correlator().index(session)
        for incident_id in incidents[: len(stored)]:
            result = correlations_of(session, SYSTEM, index, incident_id, limit=1000)
            got = {
                (link.incident_id, s.kind, s.ours, s.theirs, s.relation)
                for link in result.incidents
                for s in link.shared
            }
            assert got == _brute_force_incidents(session, incident_id)
            got_intel = {
                (link.indicator_id, s.kind, s.ours, s.theirs, s.relation)
                for link in result.intelligence
                for s in link.shared
            }
            assert got_intel == _brute_force_intelligence(session, incident_id)
            scores = [link.score for link in result.incidents]
            assert scores == sorted(scores, reverse=True)
            assert all(score > 0 for score in scores)
        session.rollback()
