"""Victims of an incident beyond its own party: other parties, safe areas and sectors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.mission.vocabulary import vocabulary
from cyberpeace.store import NotFound, Viewer, audit, get_incident, share_incident
from cyberpeace.store.case_tables import IncidentVictimRow
from cyberpeace.store.tables import PartyRow, SafeAreaRow


def add_victim(
    session: Session,
    viewer: Viewer,
    incident_id: int,
    party: str,
    *,
    safe_area: str | None = None,
    sector: str | None = None,
) -> IncidentVictimRow:
    """Record another victim (mission staff only); the victim party may then see the case."""
    viewer.require_staff()
    incident = get_incident(session, viewer, incident_id)
    if session.get(PartyRow, party) is None:
        raise NotFound(f"no party {party!r}")
    if safe_area is not None:
        area = session.get(SafeAreaRow, safe_area)
        if area is None or area.party_id != party:
            raise NotFound(f"no safe area {safe_area!r} of party {party!r}")
        sector = sector or area.sector
    if sector is not None and sector not in vocabulary().sectors:
        raise ValueError(
            f"unknown sector {sector!r}; expected one of {sorted(vocabulary().sectors)}"
        )
    if _already(session, incident_id, party, safe_area):
        raise ValueError(f"{party}{'/' + safe_area if safe_area else ''} is already a victim")
    row = IncidentVictimRow(
        incident_id=incident.id,
        party_id=party,
        safe_area_id=safe_area,
        sector=sector,
        added_by=viewer.actor,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        viewer.actor,
        "incident.victim",
        f"incident:{incident.id}",
        {"party": party, "safe_area": safe_area, "sector": sector},
    )
    if party != incident.party_id:
        share_incident(session, viewer, incident.id, party)
    return row


def _already(session: Session, incident_id: int, party: str, safe_area: str | None) -> bool:
    query = select(IncidentVictimRow.id).where(
        IncidentVictimRow.incident_id == incident_id,
        IncidentVictimRow.party_id == party,
        IncidentVictimRow.safe_area_id.is_(None)
        if safe_area is None
        else IncidentVictimRow.safe_area_id == safe_area,
    )
    return session.scalar(query) is not None


def list_victims(session: Session, viewer: Viewer, incident_id: int) -> list[IncidentVictimRow]:
    """Every victim recorded, the incident's own party first (as an unsaved row)."""
    incident = get_incident(session, viewer, incident_id)
    own = IncidentVictimRow(
        incident_id=incident.id,
        party_id=incident.party_id,
        safe_area_id=incident.safe_area_id,
        sector=incident.sector,
        added_by=incident.reported_by,
        added_at=incident.opened_at,
    )
    query = select(IncidentVictimRow).where(IncidentVictimRow.incident_id == incident.id)
    return [own, *session.scalars(query.order_by(IncidentVictimRow.id))]
