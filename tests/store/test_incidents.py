"""Incidents: creation, filtered listing, who sees what, the status workflow, filing detections."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from cyberpeace.store import (
    SYSTEM,
    Forbidden,
    IncidentDraft,
    InvalidTransition,
    NotFound,
    Store,
    Viewer,
    add_detection,
    audit,
    change_status,
    create_incident,
    file_detection,
    get_incident,
    list_incidents,
    share_incident,
)
from cyberpeace.store.incidents import MERGE_GAP
from cyberpeace.store.tables import AuditRow, DetectionRow, IncidentRow, IncidentShareRow
from tests.store.factories import (
    ELECTIONS,
    HOSPITAL,
    HOSPITAL_HOST,
    POWER,
    POWER_HOST,
    T0,
    detection,
)

ARCADIA = Viewer("party", party_id="arcadia", name="party:arcadia")
BORDURIA = Viewer("party", party_id="borduria", name="party:borduria")
CALVINIA = Viewer("party", party_id="calvinia", name="party:calvinia")
STAFF = Viewer("staff", name="staff:7:duty-officer")
TLP = "TLP:AMBER"
# The workflow as documented: new → triage → investigating → assessed → closed, reopen to
# investigating. Spelled out here rather than imported, so the test checks the code against it.
ALLOWED = {
    "new": {"triage", "investigating", "closed"},
    "triage": {"investigating", "closed"},
    "investigating": {"assessed", "closed"},
    "assessed": {"investigating", "closed"},
    "closed": {"investigating"},
}
PATH_TO = {
    "new": [],
    "triage": ["triage"],
    "investigating": ["investigating"],
    "assessed": ["investigating", "assessed"],
    "closed": ["closed"],
}
STATUSES = list(ALLOWED)


def draft(
    party: str = "arcadia",
    *,
    title: str = "Flood on the hospital",
    severity: str = "medium",
    safe_area: str | None = None,
    last_seen: datetime = T0,
    first_seen: datetime | None = None,
) -> IncidentDraft:
    return IncidentDraft(
        title=title,
        party=party,
        severity=severity,
        first_seen=first_seen or last_seen - timedelta(minutes=10),
        last_seen=last_seen,
        tlp=TLP,
        safe_area=safe_area,
        summary="seen by the mission's sensors",
    )


def count(session: Session, table: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def audit_trail(session: Session, incident_id: int) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (e.actor, e.action, json.loads(e.detail))
        for e in audit.entries(session, subject=f"incident:{incident_id}")
    ]


def ids(rows: list[IncidentRow]) -> list[int]:
    return [r.id for r in rows]


# --- creating and reading ---------------------------------------------------------------------


def test_create_and_get(store: Store) -> None:
    with store.session() as session:
        row = create_incident(session, STAFF, draft(safe_area=HOSPITAL, severity="high"))
        incident_id = row.id
    with store.session() as session:
        got = get_incident(session, STAFF, incident_id)
        assert got.title == "Flood on the hospital"
        assert got.status == "new"
        assert got.status_reason == ""
        assert (got.party_id, got.safe_area_id, got.sector) == ("arcadia", HOSPITAL, "health")
        assert (got.severity, got.tlp, got.reported_by) == ("high", TLP, "staff:7:duty-officer")
        assert got.summary == "seen by the mission's sensors"
        assert got.first_seen == T0 - timedelta(minutes=10)
        assert got.last_seen == T0
        assert got.first_seen.tzinfo is not None
        assert got.opened_at.tzinfo is not None
        assert got.detections == []
        assert got.shared_with == []
        assert audit_trail(session, incident_id) == [
            (
                "staff:7:duty-officer",
                "incident.create",
                {"title": "Flood on the hospital", "party": "arcadia", "severity": "high"},
            )
        ]


def test_incident_without_safe_area_has_no_sector(store: Store) -> None:
    with store.session() as session:
        row = create_incident(session, STAFF, draft("calvinia"))
        assert (row.safe_area_id, row.sector) == (None, None)


def test_party_reports_an_incident_against_itself(store: Store) -> None:
    with store.session() as session:
        row = create_incident(session, BORDURIA, draft("borduria", safe_area=POWER))
        assert (row.reported_by, row.sector) == ("party:borduria", "energy")
        assert audit_trail(session, row.id)[0][:2] == ("party:borduria", "incident.create")


def test_party_cannot_report_an_incident_for_another_party(store: Store) -> None:
    with pytest.raises(Forbidden), store.session() as session:
        create_incident(session, BORDURIA, draft("arcadia"))
    with store.session() as session:
        assert count(session, IncidentRow) == 0
        assert count(session, AuditRow) == 1  # only the fixture's mandate load


@pytest.mark.parametrize(
    ("party", "safe_area"),
    [
        ("borduria", HOSPITAL),  # belongs to arcadia
        ("arcadia", POWER),  # belongs to borduria
        ("arcadia", "no-such-area"),
    ],
)
def test_safe_area_must_belong_to_the_victim(store: Store, party: str, safe_area: str) -> None:
    with pytest.raises(NotFound, match=safe_area), store.session() as session:
        create_incident(session, STAFF, draft(party, safe_area=safe_area))
    with store.session() as session:
        assert count(session, IncidentRow) == 0


def test_unknown_party_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="atlantis"), store.session() as session:
        create_incident(session, STAFF, draft("atlantis"))


def test_get_missing_incident_is_not_found(store: Store) -> None:
    with store.session() as session:
        for viewer in (STAFF, ARCADIA):
            with pytest.raises(NotFound):
                get_incident(session, viewer, 999)


# --- listing with filters ---------------------------------------------------------------------


@pytest.fixture
def four(store: Store) -> dict[str, int]:
    """a: arcadia hospital high; b: arcadia elections low; c: borduria power medium (the
    latest); d: borduria, no area, critical, in triage (the oldest)."""
    with store.session() as session:
        made = {
            "a": create_incident(
                session,
                STAFF,
                draft(safe_area=HOSPITAL, severity="high", last_seen=T0 + timedelta(hours=1)),
            ),
            "b": create_incident(
                session,
                STAFF,
                draft(safe_area=ELECTIONS, severity="low", last_seen=T0 + timedelta(hours=2)),
            ),
            "c": create_incident(
                session,
                STAFF,
                draft("borduria", safe_area=POWER, last_seen=T0 + timedelta(hours=3)),
            ),
            "d": create_incident(session, STAFF, draft("borduria", severity="critical")),
        }
        change_status(session, STAFF, made["d"].id, "triage")
        return {name: row.id for name, row in made.items()}


def test_list_all_newest_first(store: Store, four: dict[str, int]) -> None:
    with store.session() as session:
        assert ids(list_incidents(session, STAFF)) == [four[k] for k in "cbad"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "triage"}, "d"),
        ({"status": "new"}, "cba"),
        ({"status": "closed"}, ""),
        ({"party": "arcadia"}, "ba"),
        ({"party": "borduria"}, "cd"),
        ({"party": "calvinia"}, ""),
        ({"safe_area": HOSPITAL}, "a"),
        ({"safe_area": POWER}, "c"),
        ({"severity": "critical"}, "d"),
        ({"severity": "medium"}, "c"),
        ({"since": T0 + timedelta(minutes=90)}, "cb"),
        ({"since": T0 + timedelta(hours=1)}, "cba"),  # inclusive
        ({"since": T0 + timedelta(hours=4)}, ""),
        ({"party": "borduria", "status": "new"}, "c"),
        ({"party": "arcadia", "severity": "low"}, "b"),
        ({"limit": 2}, "cb"),
        ({"limit": 2, "offset": 2}, "ad"),
        ({"offset": 3}, "d"),
        ({"offset": 4}, ""),
    ],
)
def test_list_filters(
    store: Store, four: dict[str, int], filters: dict[str, object], expected: str
) -> None:
    with store.session() as session:
        rows = list_incidents(session, STAFF, **filters)  # type: ignore[arg-type]
        assert ids(rows) == [four[k] for k in expected]


def test_since_accepts_other_time_zones(store: Store, four: dict[str, int]) -> None:
    plus_two = timezone(timedelta(hours=2))
    since = (T0 + timedelta(minutes=90)).astimezone(plus_two)
    assert since.hour == 13
    with store.session() as session:
        assert ids(list_incidents(session, STAFF, since=since)) == [four["c"], four["b"]]


def test_same_last_seen_is_ordered_by_id(store: Store) -> None:
    with store.session() as session:
        first = create_incident(session, STAFF, draft()).id
        second = create_incident(session, STAFF, draft()).id
        assert ids(list_incidents(session, STAFF)) == [second, first]


# --- who sees what ----------------------------------------------------------------------------


def test_party_sees_only_its_own_incidents(store: Store, four: dict[str, int]) -> None:
    with store.session() as session:
        assert ids(list_incidents(session, ARCADIA)) == [four["b"], four["a"]]
        assert ids(list_incidents(session, BORDURIA)) == [four["c"], four["d"]]
        assert list_incidents(session, CALVINIA) == []
        # Asking for another party's incidents does not reveal them.
        assert list_incidents(session, ARCADIA, party="borduria") == []
        assert get_incident(session, ARCADIA, four["a"]).id == four["a"]
        for other in ("c", "d"):
            with pytest.raises(Forbidden):
                get_incident(session, ARCADIA, four[other])
        with pytest.raises(Forbidden):
            get_incident(session, CALVINIA, four["a"])


def test_shared_incidents_become_visible(store: Store, four: dict[str, int]) -> None:
    with store.session() as session:
        share_incident(session, STAFF, four["d"], "arcadia")
        share_incident(session, STAFF, four["c"], "calvinia")
    with store.session() as session:
        assert ids(list_incidents(session, ARCADIA)) == [four["b"], four["a"], four["d"]]
        assert ids(list_incidents(session, ARCADIA, party="borduria")) == [four["d"]]
        assert ids(list_incidents(session, ARCADIA, status="triage")) == [four["d"]]
        assert ids(list_incidents(session, CALVINIA)) == [four["c"]]
        assert get_incident(session, ARCADIA, four["d"]).party_id == "borduria"
        assert get_incident(session, CALVINIA, four["c"]).party_id == "borduria"
        # Sharing d with arcadia shows arcadia d, nothing else of borduria's.
        with pytest.raises(Forbidden):
            get_incident(session, ARCADIA, four["c"])
        with pytest.raises(Forbidden):
            get_incident(session, CALVINIA, four["d"])
        # The victim still sees its own, and nobody loses anything by the share.
        assert ids(list_incidents(session, BORDURIA)) == [four["c"], four["d"]]


def test_sharing_is_recorded_once_and_audited(store: Store, four: dict[str, int]) -> None:
    with store.session() as session:
        share_incident(session, STAFF, four["c"], "arcadia")
        share_incident(session, STAFF, four["c"], "arcadia")
    with store.session() as session:
        shares = session.scalars(select(IncidentShareRow)).all()
        assert [(s.incident_id, s.party_id) for s in shares] == [(four["c"], "arcadia")]
        shared = [t for t in audit_trail(session, four["c"]) if t[1] == "incident.share"]
        assert shared == [("staff:7:duty-officer", "incident.share", {"party": "arcadia"})]


def test_only_staff_may_share(store: Store, four: dict[str, int]) -> None:
    with pytest.raises(Forbidden), store.session() as session:
        share_incident(session, ARCADIA, four["a"], "calvinia")
    with pytest.raises(NotFound, match="atlantis"), store.session() as session:
        share_incident(session, STAFF, four["a"], "atlantis")
    with pytest.raises(NotFound), store.session() as session:
        share_incident(session, STAFF, 999, "calvinia")
    with store.session() as session:
        assert count(session, IncidentShareRow) == 0


# --- the status workflow ----------------------------------------------------------------------


def _incident_in(session: Session, status: str) -> int:
    incident_id = create_incident(session, STAFF, draft()).id
    for step in PATH_TO[status]:
        change_status(session, STAFF, incident_id, step, "reason" if step == "closed" else "")
    assert get_incident(session, STAFF, incident_id).status == status
    return incident_id


@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("current", STATUSES)
def test_transitions(store: Store, current: str, target: str) -> None:
    with store.session() as session:
        incident_id = _incident_in(session, current)
        before = len(audit_trail(session, incident_id))
        if target in ALLOWED[current]:
            row = change_status(session, STAFF, incident_id, target, "done and dusted")
            assert (row.status, row.status_reason) == (target, "done and dusted")
            assert audit_trail(session, incident_id)[-1] == (
                "staff:7:duty-officer",
                "incident.status",
                {"from": current, "to": target, "reason": "done and dusted"},
            )
        else:
            with pytest.raises(InvalidTransition) as raised:
                change_status(session, STAFF, incident_id, target, "done and dusted")
            message = str(raised.value)
            assert f"from {current!r} to {target!r}" in message
            for allowed in ALLOWED[current]:
                assert repr(allowed) in message
            assert get_incident(session, STAFF, incident_id).status == current
            assert len(audit_trail(session, incident_id)) == before


def test_unknown_status_is_refused(store: Store) -> None:
    with store.session() as session:
        incident_id = _incident_in(session, "new")
        with pytest.raises(InvalidTransition, match="unknown status 'done'"):
            change_status(session, STAFF, incident_id, "done")


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_closing_needs_a_reason(store: Store, reason: str) -> None:
    with store.session() as session:
        incident_id = _incident_in(session, "investigating")
        with pytest.raises(InvalidTransition, match="needs a reason"):
            change_status(session, STAFF, incident_id, "closed", reason)
        assert get_incident(session, STAFF, incident_id).status == "investigating"
        row = change_status(session, STAFF, incident_id, "closed", "false positive")
        assert (row.status, row.status_reason) == ("closed", "false positive")


def test_refused_change_leaves_no_trace_even_when_the_caller_carries_on(store: Store) -> None:
    with store.session() as session:
        incident_id = _incident_in(session, "new")
    with store.session() as session:
        with pytest.raises(InvalidTransition):
            change_status(session, STAFF, incident_id, "assessed")
        with pytest.raises(InvalidTransition):
            change_status(session, STAFF, incident_id, "closed")
    with store.session() as session:
        assert get_incident(session, STAFF, incident_id).status == "new"
        assert [a for _, a, _ in audit_trail(session, incident_id)] == ["incident.create"]


def test_only_staff_may_change_status(store: Store) -> None:
    with store.session() as session:
        own = create_incident(session, ARCADIA, draft()).id
    for viewer in (ARCADIA, BORDURIA):
        with pytest.raises(Forbidden), store.session() as session:
            change_status(session, viewer, own, "triage")
    with store.session() as session:
        assert get_incident(session, STAFF, own).status == "new"
        assert len(audit_trail(session, own)) == 1


def test_status_history_is_audited_and_persisted(store: Store) -> None:
    with store.session() as session:
        incident_id = create_incident(session, STAFF, draft()).id
        opened = get_incident(session, STAFF, incident_id).updated_at
    steps = [
        ("triage", ""),
        ("investigating", "reflection confirmed"),
        ("assessed", "breach of article 7(2)"),
        ("closed", "reported to the Council"),
        ("investigating", "it started again"),
    ]
    for status, reason in steps:
        with store.session() as session:
            change_status(session, SYSTEM, incident_id, status, reason)
    with store.session() as session:
        row = get_incident(session, STAFF, incident_id)
        assert (row.status, row.status_reason) == ("investigating", "it started again")
        assert row.updated_at > opened
        trail = audit_trail(session, incident_id)
    assert trail[0][:2] == ("staff:7:duty-officer", "incident.create")
    previous = ["new"] + [s for s, _ in steps[:-1]]
    assert trail[1:] == [
        ("system", "incident.status", {"from": before, "to": status, "reason": reason})
        for before, (status, reason) in zip(previous, steps, strict=True)
    ]
    with store.session() as session:
        assert audit.verify(session).ok


# --- filing detections into incidents ---------------------------------------------------------


def _file(store: Store, **kwargs: object) -> int | None:
    with store.session() as session:
        row = add_detection(session, detection(**kwargs))  # type: ignore[arg-type]
        incident = file_detection(session, row, tlp=TLP)
        return None if incident is None else incident.id


def test_first_detection_opens_an_incident(store: Store) -> None:
    incident_id = _file(store, severity="high")
    assert incident_id is not None
    with store.session() as session:
        row = get_incident(session, STAFF, incident_id)
        assert row.title == f"UDP reflection against {HOSPITAL_HOST}"
        assert (row.status, row.severity, row.tlp) == ("new", "high", TLP)
        assert (row.party_id, row.safe_area_id, row.sector) == ("arcadia", HOSPITAL, "health")
        assert (row.first_seen, row.last_seen) == (T0, T0 + timedelta(minutes=5))
        assert row.reported_by == "system"
        assert [d.target for d in row.detections] == [HOSPITAL_HOST]
        assert audit_trail(session, incident_id)[0][:2] == ("system", "incident.create")


def test_detections_within_the_gap_merge_and_raise_severity(store: Store) -> None:
    gap_inside = MERGE_GAP - timedelta(minutes=5)
    first = _file(store, severity="medium")  # T0 .. T0+5
    second = _file(store, start=T0 + timedelta(minutes=5) + gap_inside, severity="critical")
    third = _file(store, start=T0 + timedelta(minutes=40), severity="low")
    # One that began before the incident, within the gap, and ended inside it.
    earlier = _file(store, start=T0 - timedelta(minutes=20), minutes=22, severity="high")
    assert first == second == third == earlier
    assert first is not None
    with store.session() as session:
        row = get_incident(session, STAFF, first)
        assert row.severity == "critical"  # the maximum, not the latest
        assert row.first_seen == T0 - timedelta(minutes=20)
        assert row.last_seen == T0 + timedelta(minutes=45)
        assert len(row.detections) == 4
        starts = [d.start for d in row.detections]
        assert starts == sorted(starts)
        assert count(session, IncidentRow) == 1
        assert count(session, DetectionRow) == 4


def test_severity_is_never_lowered(store: Store) -> None:
    first = _file(store, severity="high")
    assert _file(store, start=T0 + timedelta(minutes=10), severity="low") == first
    assert first is not None
    with store.session() as session:
        assert get_incident(session, STAFF, first).severity == "high"


def test_detection_after_the_gap_opens_a_new_incident(store: Store) -> None:
    first = _file(store)  # ends T0+5
    later = _file(store, start=T0 + timedelta(minutes=5) + MERGE_GAP + timedelta(minutes=1))
    assert first is not None
    assert later is not None
    assert later != first
    # ... and the next one close to the later incident joins that one.
    assert _file(store, start=T0 + timedelta(minutes=50)) == later
    with store.session() as session:
        assert len(get_incident(session, STAFF, first).detections) == 1
        assert len(get_incident(session, STAFF, later).detections) == 2


def test_detection_long_before_an_incident_does_not_join_it(store: Store) -> None:
    """A late-arriving detection from hours earlier is not "less than MERGE_GAP apart"."""
    recent = _file(store, start=T0 + timedelta(hours=4))
    old = _file(store, start=T0)
    assert recent is not None
    assert old is not None
    assert old != recent
    with store.session() as session:
        row = get_incident(session, STAFF, recent)
        assert row.first_seen == T0 + timedelta(hours=4)


def test_other_target_opens_its_own_incident(store: Store) -> None:
    hospital = _file(store)
    power = _file(store, target=POWER_HOST, party="borduria", safe_area=POWER)
    other_host = _file(store, target="198.18.10.11")
    assert len({hospital, power, other_host}) == 3
    with store.session() as session:
        assert get_incident(session, STAFF, power or 0).party_id == "borduria"


def test_detection_after_closing_opens_a_new_incident(store: Store) -> None:
    first = _file(store)
    assert first is not None
    with store.session() as session:
        change_status(session, STAFF, first, "closed", "mitigated")
    again = _file(store, start=T0 + timedelta(minutes=10))
    assert again is not None
    assert again != first
    with store.session() as session:
        assert get_incident(session, STAFF, first).status == "closed"
        assert len(get_incident(session, STAFF, first).detections) == 1
        assert get_incident(session, STAFF, again).status == "new"


def test_detection_without_a_party_opens_nothing(store: Store) -> None:
    assert _file(store, target="100.64.0.1", party=None, safe_area=None) is None
    with store.session() as session:
        assert count(session, IncidentRow) == 0
        assert count(session, DetectionRow) == 1  # the detection itself is kept


# --- times must be UTC-aware ------------------------------------------------------------------


def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = datetime(2026, 11, 24, 10, 0)
    with pytest.raises(StatementError, match="naive datetime") as raised, store.session() as s:
        create_incident(s, STAFF, draft(last_seen=naive))
    assert isinstance(raised.value.orig, ValueError)
    with pytest.raises(StatementError, match="naive datetime"), store.session() as s:
        add_detection(s, detection(start=naive))
    with pytest.raises(StatementError, match="naive datetime"), store.session() as s:
        list_incidents(s, STAFF, since=naive)
    with store.session() as session:
        assert count(session, IncidentRow) == 0
        assert count(session, DetectionRow) == 0
        assert count(session, AuditRow) == 1


def test_other_time_zones_are_stored_as_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    local = datetime(2026, 11, 24, 19, 0, tzinfo=tokyo)  # = T0 + 0h in UTC
    with store.session() as session:
        incident_id = create_incident(session, STAFF, draft(last_seen=local)).id
    with store.session() as session:
        row = get_incident(session, STAFF, incident_id)
        assert row.last_seen == T0
        assert row.last_seen.utcoffset() == timedelta(0)
        assert row.last_seen.tzinfo == UTC
        assert row.first_seen == T0 - timedelta(minutes=10)
