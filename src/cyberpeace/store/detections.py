"""Detections in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.detect.detection import Detection
from cyberpeace.store import audit
from cyberpeace.store.access import Forbidden, NotFound, Viewer
from cyberpeace.store.tables import DetectionRow


def add_detection(
    session: Session, detection: Detection, *, sensor: str | None = None
) -> DetectionRow:
    row = DetectionRow(
        detector=detection.detector,
        kind=detection.kind,
        target=detection.target,
        party_id=detection.party,
        safe_area_id=detection.safe_area,
        sensor_id=sensor,
        start=detection.start,
        end=detection.end,
        severity=detection.severity,
        confidence=detection.confidence,
        magnitude=detection.magnitude,
        sources=[s.model_dump() for s in detection.sources],
        explanation=detection.explanation,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        f"detector:{detection.detector}",
        "detection.create",
        f"detection:{row.id}",
        {"kind": detection.kind, "target": detection.target},
    )
    return row


def list_detections(
    session: Session,
    viewer: Viewer,
    *,
    kind: str | None = None,
    party: str | None = None,
    safe_area: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DetectionRow]:
    query = select(DetectionRow)
    if not viewer.is_staff:
        query = query.where(DetectionRow.party_id == viewer.party_id)
    if kind:
        query = query.where(DetectionRow.kind == kind)
    if party:
        query = query.where(DetectionRow.party_id == party)
    if safe_area:
        query = query.where(DetectionRow.safe_area_id == safe_area)
    if since:
        query = query.where(DetectionRow.end >= since)
    query = query.order_by(DetectionRow.start.desc(), DetectionRow.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def get_detection(session: Session, viewer: Viewer, detection_id: int) -> DetectionRow:
    row = session.get(DetectionRow, detection_id)
    if row is None:
        raise NotFound(f"no detection {detection_id}")
    if not viewer.may_see_party(row.party_id):
        raise Forbidden(f"detection {detection_id} concerns another party")
    return row
