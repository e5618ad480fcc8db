"""Sightings: where telemetry or a report meets an intelligence indicator (STIX 2.1 section 5.2).

The meeting is columnar: a batch of observed values (a detection's sources, a report's
indicators) or of raw flow addresses is looked up in the intelligence side of the index at once,
exact keys and containing prefixes together. Each (indicator, incident, observer, observed value)
has one sighting whose ``count`` grows and whose ``first_seen``/``last_seen`` widen as it is seen
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.correlation.index import Columns, Side
from cyberpeace.store.correlation_tables import SightingRow
from cyberpeace.store.tables import utcnow

I64 = NDArray[np.int64]
MAX_COUNT = 999_999_999  # STIX 2.1 section 5.2: count is at most 999,999,999


def meet(intelligence: Side, observed: Columns) -> tuple[I64, I64]:
    """``(observed position, indicator id)`` for every indicator an observed value matches:
    the same value, or a prefix that holds it. An observed prefix does not sight the addresses
    inside it: seeing a network is not seeing each of its hosts."""
    q_same, same = intelligence.by_key.lookup(observed.key)
    q_in, inside = intelligence.networks.containing(observed.high, observed.low, observed.length)
    query = np.concatenate([q_same, q_in])
    members = intelligence.columns.member[np.concatenate([same, inside])]
    pairs = np.unique(np.stack([query, members]), axis=1)
    return pairs[0], pairs[1]


def flow_words(addresses: NDArray[np.bytes_]) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """High and low words of 16-byte network-order addresses (the Flow schema's, IPv4 mapped)."""
    raw = np.frombuffer(np.ascontiguousarray(addresses, dtype="S16"), dtype=">u8").reshape(-1, 2)
    return raw[:, 0].astype(np.uint64), raw[:, 1].astype(np.uint64)


@dataclass(frozen=True)
class FlowSightings:
    """Per indicator met by a batch of flow addresses: how often, first and last time."""

    indicator: I64
    count: I64
    first: I64  # seconds since the epoch
    last: I64


def meet_flows(intelligence: Side, addresses: NDArray[np.bytes_], seen: I64) -> FlowSightings:
    """Match a batch of flow addresses against the intelligence, aggregated per indicator."""
    high, low = flow_words(addresses)
    length = np.full(len(high), 128, dtype=np.int64)
    query, rows = intelligence.networks.containing(high, low, length, strict=False)
    indicator = intelligence.columns.member[rows]
    ids, inverse = np.unique(indicator, return_inverse=True)
    at = np.asarray(seen, dtype=np.int64)[query]
    first = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(len(ids), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, inverse, at)
    np.maximum.at(last, inverse, at)
    return FlowSightings(ids, np.bincount(inverse, minlength=len(ids)), first, last)


@dataclass(frozen=True)
class Seen:
    """One observation to record as a sighting."""

    indicator_id: int
    value: str
    first_seen: datetime
    last_seen: datetime
    count: int = 1


def record(
    session: Session,
    seen: list[Seen],
    *,
    incident_id: int | None,
    observed_by: str,
    where_sighted: str,
    detection_id: int | None = None,
) -> int:
    """Add or widen one sighting per observation; the number of sightings touched."""
    for item in seen:
        row = session.scalars(
            select(SightingRow).where(
                SightingRow.indicator_id == item.indicator_id,
                SightingRow.incident_id.is_(None)
                if incident_id is None
                else SightingRow.incident_id == incident_id,
                SightingRow.where_sighted == where_sighted,
                SightingRow.observed_by == observed_by,
                SightingRow.value == item.value,
            )
        ).first()
        if row is None:
            session.add(
                SightingRow(
                    indicator_id=item.indicator_id,
                    incident_id=incident_id,
                    detection_id=detection_id,
                    observed_by=observed_by,
                    where_sighted=where_sighted,
                    value=item.value,
                    first_seen=item.first_seen,
                    last_seen=item.last_seen,
                    count=min(item.count, MAX_COUNT),
                )
            )
            continue
        row.first_seen = min(row.first_seen, item.first_seen)
        row.last_seen = max(row.last_seen, item.last_seen)
        if detection_id is None or row.detection_id != detection_id:
            # A detection that grows is one sighting widened, not another one.
            row.count = min(row.count + item.count, MAX_COUNT)
        row.detection_id = detection_id or row.detection_id
        row.updated_at = utcnow()
    session.flush()
    return len(seen)


def record_flows(
    session: Session, found: FlowSightings, *, where_sighted: str, value: str = "flows"
) -> int:
    """Record what ``meet_flows`` found, outside any incident (telemetry before detection)."""
    seen = [
        Seen(
            int(ident),
            value,
            datetime.fromtimestamp(int(first), UTC),
            datetime.fromtimestamp(int(last), UTC),
            int(count),
        )
        for ident, count, first, last in zip(
            found.indicator, found.count, found.first, found.last, strict=True
        )
    ]
    return record(
        session, seen, incident_id=None, observed_by="telemetry", where_sighted=where_sighted
    )
