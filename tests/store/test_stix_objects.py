"""STIX objects per collection: versions held once, date added strictly increasing."""

from __future__ import annotations

from datetime import UTC, datetime

from cyberpeace.store import Store
from cyberpeace.store.stix_objects import NewObject, add_objects, objects_added_after

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _indicator(n: int, modified: str = "2026-01-01T00:00:00.000Z") -> NewObject:
    oid = f"indicator--00000000-0000-4000-8000-{n:012d}"
    return NewObject(oid, "indicator", "2.1", modified, "TLP:GREEN", f'{{"id":"{oid}"}}')


def test_same_instant_gets_distinct_increasing_dates_added(store: Store) -> None:
    with store.session() as session:
        first = add_objects(session, "c1", [_indicator(n) for n in range(5)], "test", now=NOW)
        second = add_objects(session, "c1", [_indicator(9)], "test", now=NOW)
    stamps = [s.added for s in first + second]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 6
    assert stamps[0] == "2026-12-02T12:00:00.000000Z"


def test_a_version_already_held_is_not_stored_twice(store: Store) -> None:
    with store.session() as session:
        add_objects(session, "c1", [_indicator(1)], "test", now=NOW)
        again = add_objects(
            session, "c1", [_indicator(1), _indicator(1, "2026-02-01T00:00:00.000Z")], "test"
        )
        other = add_objects(session, "c2", [_indicator(1)], "test")
        assert [s.new for s in again] == [False, True]
        assert other[0].new
        rows = objects_added_after(session, "c1")
    assert [r.version for r in rows] == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]


def test_paging_by_date_added_misses_nothing(store: Store) -> None:
    with store.session() as session:
        add_objects(session, "c1", [_indicator(n) for n in range(25)], "test", now=NOW)
        seen: list[str] = []
        after: str | None = None
        while page := objects_added_after(session, "c1", after, limit=7):
            seen += [row.object_id for row in page]
            after = page[-1].added
    assert len(seen) == 25 == len(set(seen))
