"""Reading STIX objects of a TAXII collection page by page, as TAXII 2.1 sections 3.4 and 5 ask.

Pages are cut on ``added`` (the date added), which add_objects makes strictly increasing across
the store, so a page ends at an exact point: the next page starts after it, whatever is added
meanwhile and however many objects share a ``created`` or ``modified`` timestamp.

Which rows a reader may see is a ``Sight``; its SQL clause is applied in the query, so a page
holds ``limit`` visible objects and nothing withheld is ever read into memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from cyberpeace.store.stix_objects import version_key
from cyberpeace.store.tables import StixObjectRow
from cyberpeace.store.taxii_tables import TaxiiCursorRow, TaxiiStatusRow

_T = StixObjectRow


@dataclass(frozen=True)
class Sight:
    """What a reader may see: every row, or the rows whose TLP is open to it or that name it.

    ``open_levels`` are the TLP levels served to this reader whatever the audience; unmarked rows
    count as ``default_tlp``. ``party`` sees, besides, the rows whose audience names it.
    """

    everything: bool = False
    open_levels: tuple[str, ...] = ()
    default_tlp: str = "TLP:AMBER"
    party: str | None = None

    def clause(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        level = func.coalesce(_T.tlp, self.default_tlp)
        allowed: list[ColumnElement[bool]] = []
        if self.open_levels:
            allowed.append(level.in_(self.open_levels))
        if self.party is not None:
            allowed.append(_T.audience.like(f"%,{_escape(self.party)},%", escape="\\"))
        return or_(*allowed) if allowed else false()


@dataclass(frozen=True)
class Filters:
    """The URL filters of TAXII 2.1 section 3.5 and the page cursor."""

    added_after: str | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    limit: int = 100


def page(
    session: Session,
    collection: str,
    filters: Filters,
    sight: Sight,
    columns: Sequence[Any] = (_T.added, _T.body),
) -> tuple[list[Row[Any]], bool]:
    """Up to ``filters.limit`` visible rows, oldest added first, and whether more follow."""
    query = (
        select(*columns)
        .where(_T.collection_id == collection, sight.clause(), *_conditions(filters))
        .order_by(_T.added)
        .limit(filters.limit + 1)
    )
    rows = list(session.execute(query))
    return rows[: filters.limit], len(rows) > filters.limit


def remove(
    session: Session, collection: str, object_id: str, filters: Filters, sight: Sight
) -> int:
    """Delete the visible versions of one object that match ``filters`` (section 5.7)."""
    chosen = select(_T.seq).where(
        _T.collection_id == collection,
        _T.object_id == object_id,
        sight.clause(),
        *_conditions(filters),
    )
    seqs = list(session.scalars(chosen))
    if seqs:
        session.execute(delete(_T).where(_T.seq.in_(seqs)))
    return len(seqs)


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.added_after is not None:
        found.append(_T.added > filters.added_after)
    if filters.ids:
        found.append(_T.object_id.in_(filters.ids))
    if filters.types:
        found.append(_T.type.in_(filters.types))
    if filters.spec_versions:
        found.append(_T.spec_version.in_(filters.spec_versions))
    if "all" not in filters.versions:
        found.append(or_(*(_version(value) for value in filters.versions)))
    return found


def _version(value: str) -> ColumnElement[bool]:
    if value in ("first", "last"):
        other = aliased(_T)
        pick = func.min if value == "first" else func.max
        extreme = (
            select(pick(other.version_key))
            .where(other.collection_id == _T.collection_id, other.object_id == _T.object_id)
            .scalar_subquery()
        )
        return _T.version_key == extreme
    return _T.version_key == version_key(value)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def save_status(session: Session, status_id: str, collection: str, owner: str, body: str) -> None:
    session.add(TaxiiStatusRow(id=status_id, collection_id=collection, owner=owner, body=body))
    session.flush()


def get_status(session: Session, status_id: str) -> TaxiiStatusRow | None:
    return session.get(TaxiiStatusRow, status_id)


def get_cursor(session: Session, remote: str, collection: str, direction: str) -> str | None:
    row = _cursor(session, remote, collection, direction)
    return row.added_after if row is not None else None


def set_cursor(
    session: Session, remote: str, collection: str, direction: str, added_after: str
) -> None:
    row = _cursor(session, remote, collection, direction)
    if row is None:
        session.add(
            TaxiiCursorRow(
                remote=remote, collection=collection, direction=direction, added_after=added_after
            )
        )
    else:
        row.added_after = added_after
    session.flush()


def _cursor(
    session: Session, remote: str, collection: str, direction: str
) -> TaxiiCursorRow | None:
    return session.scalars(
        select(TaxiiCursorRow).where(
            and_(
                TaxiiCursorRow.remote == remote,
                TaxiiCursorRow.collection == collection,
                TaxiiCursorRow.direction == direction,
            )
        )
    ).first()
