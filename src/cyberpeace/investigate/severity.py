"""An analyst's change of an incident's severity, with the reason kept in the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cyberpeace.store import SEVERITIES, Viewer, audit, get_incident
from cyberpeace.store.tables import IncidentRow, utcnow


def change_severity(
    session: Session, viewer: Viewer, incident_id: int, severity: str, reason: str
) -> IncidentRow:
    viewer.require_staff()
    row = get_incident(session, viewer, incident_id)
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; expected one of {list(SEVERITIES)}")
    if not reason.strip():
        raise ValueError("changing the severity needs a reason")
    previous, row.severity, row.updated_at = row.severity, severity, utcnow()
    audit.append(
        session,
        viewer.actor,
        "incident.severity",
        f"incident:{row.id}",
        {"from": previous, "to": severity, "reason": reason.strip()},
    )
    return row
