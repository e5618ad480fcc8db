"""A small real case store for the STIX tests: the demo mandate, incidents made the real way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cyberpeace.detect.detection import Detection, Source
from cyberpeace.store import SYSTEM, add_detection, assess_incident, file_detection
from cyberpeace.store.tables import ActionRow, IncidentRow, IndicatorRow

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def detection(kind: str, target: str, offset_s: int = 0) -> Detection:
    start = T0 + timedelta(seconds=offset_s)
    return Detection(
        detector=kind,
        kind=kind,
        target=target,
        party="arcadia",
        safe_area="arcadia-central-hospital",
        start=start,
        end=start + timedelta(seconds=30),
        severity="high",
        confidence=0.9,
        magnitude={"pps": 50000.0},
        sources=[
            Source(address="203.0.113.7", share=0.6, packets=600, bytes=60000, port=123),
            Source(address="2001:db8:ffff::9", share=0.4, packets=400, bytes=40000),
        ],
        explanation={"rule": "pps >= 20000"},
    )


def make_incident(session: Session, tlp: str = "TLP:AMBER") -> IncidentRow:
    """An incident of two detections, an indicator it sighted, an action and an assessment."""
    first = add_detection(session, detection("udp-reflection", "198.18.10.5"))
    incident = file_detection(session, first, tlp=tlp)
    assert incident is not None
    second = add_detection(session, detection("syn-flood", "198.18.10.5", 60))
    file_detection(session, second, tlp=tlp)
    session.add(
        IndicatorRow(
            kind="ipv4",
            value="203.0.113.7",
            tlp="TLP:GREEN",
            source="borduria",
            valid_from=T0 - timedelta(days=1),
            valid_until=None,
        )
    )
    session.add(
        IndicatorRow(
            kind="domain",
            value="evil.example",
            tlp="TLP:CLEAR",
            source="arcadia",
            valid_from=T0,
            valid_until=T0 + timedelta(days=7),
        )
    )
    session.add(
        ActionRow(
            incident_id=incident.id,
            kind="blocklist",
            status="proposed",
            parameters={"prefix": "203.0.113.7/32"},
            safeguards=[],
            proposed_at=T0 + timedelta(minutes=5),
            expires_at=None,
        )
    )
    session.flush()
    assess_incident(session, SYSTEM, incident.id)
    return incident
