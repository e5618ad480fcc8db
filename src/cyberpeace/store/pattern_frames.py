"""The incidents and detections as Arrow tables, for the columnar pattern queries.

JSON columns are read as their text (DuckDB parses them), so SQLite and PostgreSQL give the
same tables. One query per table; nothing per record beyond what the driver does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from cyberpeace.store.access import Viewer
from cyberpeace.store.incidents import _visible
from cyberpeace.store.tables import DetectionRow, IncidentDetectionRow, IncidentRow

INCIDENT_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("party", pa.string()),
        ("safe_area", pa.string()),
        ("sector", pa.string()),
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)
DETECTION_SCHEMA = pa.schema(
    [
        ("incident_id", pa.int64()),
        ("kind", pa.string()),
        ("start", pa.timestamp("us", tz="UTC")),
        ("sources", pa.string()),
    ]
)


@dataclass(frozen=True)
class PatternFrames:
    incidents: pa.Table
    detections: pa.Table


def pattern_frames(
    session: Session, viewer: Viewer, *, since: datetime | None = None
) -> PatternFrames:
    """The incidents the viewer may see (last seen since ``since``) and their detections."""
    query = select(
        IncidentRow.id,
        IncidentRow.party_id,
        IncidentRow.safe_area_id,
        IncidentRow.sector,
        IncidentRow.first_seen,
        IncidentRow.last_seen,
    )
    found = (
        select(
            IncidentDetectionRow.incident_id,
            DetectionRow.kind,
            DetectionRow.start,
            cast(DetectionRow.sources, String),
        )
        .join(DetectionRow, DetectionRow.id == IncidentDetectionRow.detection_id)
        .join(IncidentRow, IncidentRow.id == IncidentDetectionRow.incident_id)
    )
    # The same conditions on both, so the detections are those of the incidents listed.
    if not viewer.is_staff:
        query, found = query.where(_visible(viewer)), found.where(_visible(viewer))
    if since is not None:
        query = query.where(IncidentRow.last_seen >= since)
        found = found.where(IncidentRow.last_seen >= since)
    columns = list(zip(*session.execute(query).all(), strict=False))
    incidents = _table(columns, INCIDENT_SCHEMA)
    rows = session.execute(found).all()
    return PatternFrames(incidents, _table(list(zip(*rows, strict=False)), DETECTION_SCHEMA))


def _table(columns: list[tuple[object, ...]], schema: pa.Schema) -> pa.Table:
    if not columns:
        return schema.empty_table()
    arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)
