"""The hash-chained audit log: appends chain, the database refuses edits, verify finds tampering."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from cyberpeace.store import SYSTEM, IncidentDraft, Store, audit, create_incident
from cyberpeace.store.audit import GENESIS, entry_hash
from cyberpeace.store.tables import AuditRow, IncidentRow
from tests.store.factories import T0


def _append(store: Store, count: int) -> None:
    with store.session() as session:
        for i in range(count):
            audit.append(session, "tester", "test.event", f"thing:{i}", {"n": i, "note": "ünïcode"})


def _rows(store: Store) -> list[AuditRow]:
    with store.session() as session:
        return list(session.scalars(select(AuditRow).order_by(AuditRow.seq)))


def _drop_guards(store: Store) -> None:
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def _verify(store: Store, batch: int = 5000) -> audit.Verification:
    with store.session() as session:
        return audit.verify(session, batch=batch)


def test_appends_form_a_chain(store: Store) -> None:
    _append(store, 4)
    rows = _rows(store)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]  # 1 is the fixture's mandate load
    assert rows[0].prev_hash == GENESIS
    for previous, row in itertools.pairwise(rows):
        assert row.prev_hash == previous.hash
    for row in rows:
        recomputed = entry_hash(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, row.detail
        )
        assert row.hash == recomputed
    assert len({r.hash for r in rows}) == len(rows)
    assert rows[2].subject == "thing:1"
    assert rows[2].detail == '{"n":1,"note":"ünïcode"}'


def test_verify_accepts_an_untouched_log(store: Store) -> None:
    _append(store, 6)
    result = _verify(store)
    assert result == audit.Verification(ok=True, entries=7)


def test_verify_accepts_an_empty_log(store_url: str) -> None:
    from cyberpeace.store import open_store

    opened = open_store(store_url)
    try:
        assert _verify(opened) == audit.Verification(ok=True, entries=0)
    finally:
        opened.close()


def test_entries_filters_by_subject_and_pages(store: Store) -> None:
    _append(store, 5)
    with store.session() as session:
        only = audit.entries(session, subject="thing:3")
        page = audit.entries(session, after=2, limit=2)
    assert [(e.seq, e.subject) for e in only] == [(5, "thing:3")]
    assert [e.seq for e in page] == [3, 4]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET detail = 'forged' WHERE seq = 2",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_log",
    ],
)
def test_database_refuses_update_and_delete(store: Store, statement: str) -> None:
    _append(store, 3)
    before = [(r.seq, r.actor, r.detail, r.hash) for r in _rows(store)]
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.execute(text(statement))
    assert [(r.seq, r.actor, r.detail, r.hash) for r in _rows(store)] == before
    assert _verify(store).ok


def _orm_edit(store: Store) -> None:
    with store.session() as session:
        row = session.get(AuditRow, 1)
        assert row is not None
        row.detail = "{}"


def _orm_delete(store: Store) -> None:
    with store.session() as session:
        row = session.get(AuditRow, 1)
        assert row is not None
        session.delete(row)


@pytest.mark.parametrize("change", [_orm_edit, _orm_delete], ids=["edit", "delete"])
def test_orm_changes_to_an_entry_are_refused_too(
    store: Store, change: Callable[[Store], None]
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        change(store)
    assert len(_rows(store)) == 1
    assert _verify(store).ok


def _edit_detail(connection: Connection) -> None:
    connection.execute(
        text("UPDATE audit_log SET detail = :detail WHERE seq = 4"), {"detail": '{"n":99}'}
    )


def _edit_actor(connection: Connection) -> None:
    connection.execute(text("UPDATE audit_log SET actor = 'innocent' WHERE seq = 4"))


def _delete_middle(connection: Connection) -> None:
    connection.execute(text("DELETE FROM audit_log WHERE seq = 4"))


def _delete_first(connection: Connection) -> None:
    connection.execute(text("DELETE FROM audit_log WHERE seq = 1"))


def _swap_rows(connection: Connection) -> None:
    """Reorder: entries 4 and 5 trade places, each keeping its own content and hashes."""
    connection.execute(text("UPDATE audit_log SET seq = -1 WHERE seq = 4"))
    connection.execute(text("UPDATE audit_log SET seq = 4 WHERE seq = 5"))
    connection.execute(text("UPDATE audit_log SET seq = 5 WHERE seq = -1"))


def _swap_contents(connection: Connection) -> None:
    """Entries 4 and 5 trade what they say but keep their places and hashes."""
    columns = ["at", "actor", "action", "subject", "detail"]
    rows = {
        seq: connection.execute(
            text(f"SELECT {', '.join(columns)} FROM audit_log WHERE seq = :seq"),  # noqa: S608
            {"seq": seq},
        ).one()
        for seq in (4, 5)
    }
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    for seq, other in ((4, 5), (5, 4)):
        values = dict(zip(columns, rows[other], strict=True))
        connection.execute(
            text(f"UPDATE audit_log SET {assignments} WHERE seq = :seq"),  # noqa: S608
            {**values, "seq": seq},
        )


def _rewrite_with_new_hash(connection: Connection) -> None:
    """Edit entry 4 and give it a correct hash of its own; entry 5 still points at the old one."""
    row = connection.execute(
        text("SELECT seq, at, actor, action, subject, prev_hash FROM audit_log WHERE seq = 4")
    ).one()
    forged = entry_hash(row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, "{}")
    connection.execute(
        text("UPDATE audit_log SET detail = '{}', hash = :hash WHERE seq = 4"), {"hash": forged}
    )


@pytest.mark.parametrize(
    ("tamper", "first_bad_seq", "good", "reason"),
    [
        (_edit_detail, 4, 3, "entry 4 was changed after it was written"),
        (_edit_actor, 4, 3, "entry 4 was changed after it was written"),
        # The first entry that does not fit is the one after the gap; the reason names the gap.
        (_delete_middle, 5, 3, "entry 4 is missing"),
        (_delete_first, 2, 0, "entry 1 is missing"),
        (_swap_rows, 4, 3, "entry 4 does not follow entry 3"),
        (_swap_contents, 4, 3, "entry 4 was changed after it was written"),
        (_rewrite_with_new_hash, 5, 4, "entry 5 does not follow entry 4"),
    ],
    ids=[
        "edit-detail",
        "edit-actor",
        "delete-middle",
        "delete-first",
        "swap-rows",
        "swap-contents",
        "rehash-one",
    ],
)
@pytest.mark.parametrize("batch", [5000, 3])
def test_verify_finds_tampering(
    store: Store,
    tamper: Callable[[Connection], None],
    first_bad_seq: int,
    good: int,
    reason: str,
    batch: int,
) -> None:
    _append(store, 6)  # entries 1..7
    assert _verify(store, batch).ok
    _drop_guards(store)
    with store.engine.begin() as connection:
        tamper(connection)
    result = _verify(store, batch)
    assert not result.ok
    assert result.first_bad_seq == first_bad_seq
    assert result.reason == reason
    assert result.entries == good  # entries found sound before the first bad one


DRAFT = IncidentDraft("Flood", "arcadia", "high", T0, T0, "TLP:AMBER")


def _incident_then_failure(store: Store) -> None:
    with store.session() as session:
        incident = create_incident(session, SYSTEM, DRAFT)
        assert audit.entries(session, subject=f"incident:{incident.id}")
        # Same transaction, then a database error: a foreign key to a party that is not there.
        session.add(
            IncidentRow(
                title="broken",
                status="new",
                severity="low",
                tlp="TLP:AMBER",
                party_id="atlantis",
                reported_by="x",
                first_seen=T0,
                last_seen=T0,
            )
        )
        session.flush()


def test_audit_entry_rolls_back_with_the_change_it_documents(store: Store) -> None:
    with pytest.raises(IntegrityError):
        _incident_then_failure(store)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 1
        assert audit.entries(session, subject="incident:1") == []
    assert _verify(store).ok
    # The chain carries on from the last committed entry, with no hole.
    with store.session() as session:
        incident = create_incident(session, SYSTEM, DRAFT)
        (entry,) = audit.entries(session, subject=f"incident:{incident.id}")
    assert entry.seq == 2
    assert _verify(store) == audit.Verification(ok=True, entries=2)


def _append_then_raise(store: Store) -> None:
    with store.session() as session:
        audit.append(session, "tester", "test.event", "thing:x")
        raise RuntimeError("changed my mind")


def test_audit_entry_rolls_back_when_the_caller_raises(store: Store) -> None:
    with pytest.raises(RuntimeError, match="changed my mind"):
        _append_then_raise(store)
    assert [r.seq for r in _rows(store)] == [1]


@pytest.mark.parametrize("entries", [1, 2, 3, 4, 6, 7, 10])
def test_verify_works_across_batches(store: Store, entries: int) -> None:
    _append(store, entries - 1)
    assert _verify(store, batch=3) == audit.Verification(ok=True, entries=entries)


def test_tampering_in_a_later_batch_is_found(store: Store) -> None:
    _append(store, 9)  # entries 1..10, batches of 3: [1-3] [4-6] [7-9] [10]
    _drop_guards(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET subject = 'nothing' WHERE seq = 8"))
    result = _verify(store, batch=3)
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 8, 7)
    assert "entry 8" in result.reason
