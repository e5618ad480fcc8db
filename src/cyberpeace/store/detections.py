"""Detections in the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
        traceback=_traceback(detection),
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


def _traceback(detection: Detection) -> dict[str, Any] | None:
    return detection.traceback.model_dump() if detection.traceback is not None else None


def update_detection(session: Session, detection_id: int, detection: Detection) -> DetectionRow:
    """Bring a stored detection up to date with a later view of the same episode (a live
    detector's: the span grew, a peak rose); what it is and whom it concerns stay."""
    row = session.get(DetectionRow, detection_id)
    if row is None:
        raise NotFound(f"no detection {detection_id}")
    if (row.detector, row.target) != (detection.detector, detection.target):
        raise ValueError(
            f"detection {detection_id} is {row.detector} on {row.target}, "
            f"not {detection.detector} on {detection.target}"
        )
    row.start, row.end = detection.start, detection.end
    row.severity, row.confidence = detection.severity, detection.confidence
    row.magnitude = detection.magnitude
    row.sources = [s.model_dump() for s in detection.sources]
    row.explanation = detection.explanation
    row.traceback = _traceback(detection)
    session.flush()
    audit.append(
        session,
        f"detector:{detection.detector}",
        "detection.update",
        f"detection:{row.id}",
        {
            "start": detection.start.isoformat(),
            "end": detection.end.isoformat(),
            "severity": detection.severity,
            "peak_pps": detection.magnitude.get("peak_pps"),
        },
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
