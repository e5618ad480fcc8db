"""STIX 2.1 objects held per TAXII collection: add them, read them back in the order added.

The store keeps each object version's JSON text as received, so a TAXII GET can return it
without parsing and re-serialising it. Versions follow TAXII 2.1 section 3.4.1 (``modified``,
else ``created``, else the date added); a version already held is reported and not stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cyberpeace.store.tables import StixObjectRow

_POSTGRES_STIX_LOCK = 0x63_70_73_78  # "cpsx": serialises date_added across connections
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class NewObject:
    """A parsed and validated STIX object ready to store; ``body`` is its JSON text."""

    id: str
    type: str
    spec_version: str
    version: str | None  # modified or created; None for objects that have neither
    tlp: str | None
    body: str
    audience: str | None = None  # ",party,party," as share/taxii_access computes it


@dataclass(frozen=True)
class Stored:
    """What became of one object: its version and date added, and whether it was new."""

    id: str
    version: str
    added: str
    new: bool


def stamp(moment: datetime) -> str:
    """A fixed-width UTC timestamp with microseconds, which sorts as text in time order."""
    return moment.astimezone(UTC).strftime(_STAMP)


def version_key(version: str) -> str:
    """A STIX timestamp with its fraction padded to 9 digits, so versions sort as text.

    ``2024-01-01T00:00:00Z`` and ``2024-01-01T00:00:00.5Z`` do not sort as text as they are.
    """
    head, _, fraction = version.rstrip("Z").partition(".")
    return f"{head}.{fraction[:9]:0<9}Z"


def parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)


def add_objects(
    session: Session,
    collection_id: str,
    objects: Sequence[NewObject],
    added_by: str,
    now: datetime | None = None,
) -> list[Stored]:
    """Store ``objects`` in ``collection_id`` in the caller's transaction.

    Each new version gets a date added later than every date added before it in the store, one
    microsecond apart within a batch, so that ``added_after`` paging is exact.
    """
    _lock(session)
    moment = _next_moment(session, now or datetime.now(UTC))
    held = _held_versions(session, collection_id, {obj.id for obj in objects})
    outcome: list[Stored] = []
    for obj in objects:
        added = stamp(moment)
        version = obj.version or added
        if (obj.id, version) in held:
            outcome.append(Stored(obj.id, version, held[(obj.id, version)], new=False))
            continue
        session.add(
            StixObjectRow(
                collection_id=collection_id,
                object_id=obj.id,
                type=obj.type,
                spec_version=obj.spec_version,
                version=version,
                added=added,
                tlp=obj.tlp,
                added_by=added_by,
                body=obj.body,
                audience=obj.audience,
                version_key=version_key(version),
            )
        )
        held[(obj.id, version)] = added
        outcome.append(Stored(obj.id, version, added, new=True))
        moment += timedelta(microseconds=1)
    session.flush()
    return outcome


def objects_added_after(
    session: Session, collection_id: str, added_after: str | None = None, limit: int = 100
) -> list[StixObjectRow]:
    """Up to ``limit`` object versions of a collection added after ``added_after``, oldest first."""
    query = select(StixObjectRow).where(StixObjectRow.collection_id == collection_id)
    if added_after is not None:
        query = query.where(StixObjectRow.added > added_after)
    return list(session.scalars(query.order_by(StixObjectRow.added).limit(limit)))


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_STIX_LOCK})


def _next_moment(session: Session, now: datetime) -> datetime:
    last = session.scalar(select(func.max(StixObjectRow.added)))
    if last is None:
        return now
    return max(now, parse_stamp(last) + timedelta(microseconds=1))


def _held_versions(
    session: Session, collection_id: str, ids: set[str]
) -> dict[tuple[str, str], str]:
    held: dict[tuple[str, str], str] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 500):  # bounded IN lists
        chunk = id_list[start : start + 500]
        rows = session.execute(
            select(StixObjectRow.object_id, StixObjectRow.version, StixObjectRow.added).where(
                StixObjectRow.collection_id == collection_id, StixObjectRow.object_id.in_(chunk)
            )
        )
        held.update({(oid, version): added for oid, version, added in rows})
    return held
