"""Fixtures for the REST API tests: an app on the parametrised store, tokens and seeded cases.

Every test that uses ``client`` runs twice, on SQLite and on the real PostgreSQL, because the
app is built on the ``store`` fixture from ``tests/conftest.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cyberpeace.detect.detection import Detection, Source
from cyberpeace.store import (
    SYSTEM,
    IncidentDraft,
    Store,
    add_detection,
    change_status,
    create_incident,
    create_token,
    file_detection,
    share_incident,
    viewer_for,
)
from cyberpeace.store.tables import AuditRow, IncidentRow
from tests.conftest import TestClient as TestClient

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Tokens:
    staff: str
    arcadia: str
    borduria: str
    staff_actor: str


@dataclass(frozen=True)
class Seed:
    """Ids of what ``seeded`` put in the store.

    Detections: two on the Arcadian hospital (merged into one incident), one on the Arcadian
    election commission, one on the Bordurian power utility, one on nobody's territory.
    Incidents: ``hospital`` (arcadia, new, critical), ``elections`` (arcadia, triage, low),
    ``power`` (borduria, new, medium) and ``shared`` (borduria, opened by staff, shared with
    arcadia, high).
    """

    det_hospital: int
    det_hospital_later: int
    det_elections: int
    det_power: int
    det_nowhere: int
    hospital: int
    elections: int
    power: int
    shared: int


@pytest.fixture
def tokens(store: Store) -> Tokens:
    with store.session() as session:
        staff = create_token(session, party_id=None, label="duty-officer", by="test")
        arcadia = create_token(session, party_id="arcadia", by="test")
        borduria = create_token(session, party_id="borduria", by="test")
    with store.session() as session:
        viewer = viewer_for(session, staff)
    assert viewer is not None
    return Tokens(staff, arcadia, borduria, staff_actor=viewer.actor)


@pytest.fixture
def staff(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.staff)


@pytest.fixture
def arcadia(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.arcadia)


@pytest.fixture
def borduria(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.borduria)


def detection(
    target: str,
    party: str | None,
    safe_area: str | None,
    start: datetime,
    severity: str = "high",
    kind: str = "udp-reflection",
) -> Detection:
    return Detection(
        detector="volumetric",
        kind=kind,
        target=target,
        party=party,
        safe_area=safe_area,
        start=start,
        end=start + timedelta(minutes=5),
        severity=severity,
        confidence=0.9,
        magnitude={"packets_per_second": 120_000.0, "bits_per_second": 9.6e8},
        sources=[Source(address="198.19.77.1", share=0.8, packets=1000, bytes=64_000)],
        explanation={"threshold": 10_000, "window": "PT1M"},
    )


@pytest.fixture
def seeded(store: Store) -> Seed:
    with store.session() as session:

        def filed(found: Detection) -> tuple[int, int | None]:
            row = add_detection(session, found)
            incident = file_detection(session, row, tlp="TLP:AMBER")
            session.flush()
            return row.id, incident.id if incident else None

        hospital = "arcadia-central-hospital"
        det_hospital, inc_hospital = filed(detection("198.18.10.5", "arcadia", hospital, T0))
        det_later, inc_later = filed(
            detection("198.18.10.5", "arcadia", hospital, T0 + timedelta(minutes=10), "critical")
        )
        elections = "arcadia-election-commission"
        det_elections, inc_elections = filed(
            detection(
                "198.18.20.7", "arcadia", elections, T0 + timedelta(hours=2), "low", "port-scan"
            )
        )
        power = "borduria-power-utility"
        det_power, inc_power = filed(
            detection("198.19.30.1", "borduria", power, T0 + timedelta(hours=1), "medium")
        )
        det_nowhere, inc_nowhere = filed(
            detection("100.64.0.1", None, None, T0 - timedelta(hours=1), "low")
        )
        draft = IncidentDraft(
            title="Wiper on the Bordurian grid operator",
            party="borduria",
            severity="high",
            first_seen=T0 - timedelta(days=1),
            last_seen=T0 - timedelta(days=1) + timedelta(hours=3),
            tlp="TLP:RED",
            safe_area=power,
            summary="Shared with Arcadia under the confidence-building measures.",
        )
        shared = create_incident(session, SYSTEM, draft)
        share_incident(session, SYSTEM, shared.id, "arcadia")
        assert inc_elections is not None
        change_status(session, SYSTEM, inc_elections, "triage")
    assert inc_hospital is not None
    assert inc_power is not None
    assert inc_later == inc_hospital, "detections on one target should merge into one incident"
    assert inc_nowhere is None
    return Seed(
        det_hospital=det_hospital,
        det_hospital_later=det_later,
        det_elections=det_elections,
        det_power=det_power,
        det_nowhere=det_nowhere,
        hospital=inc_hospital,
        elections=inc_elections,
        power=inc_power,
        shared=shared.id,
    )


def counts(store: Store) -> tuple[int, int]:
    """How many incidents and audit entries the store holds (to prove nothing was written)."""
    with store.session() as session:
        incidents = session.scalar(select(func.count()).select_from(IncidentRow))
        entries = session.scalar(select(func.count()).select_from(AuditRow))
    return int(incidents or 0), int(entries or 0)
