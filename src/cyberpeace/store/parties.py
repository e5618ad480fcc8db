"""Parties and safe areas in the store: loaded from the mandate, read through a viewer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.mission import Mandate
from cyberpeace.store import audit
from cyberpeace.store.access import Forbidden, NotFound, Viewer
from cyberpeace.store.tables import PartyRow, SafeAreaRow


def sync_mandate(session: Session, mandate: Mandate, *, by: str = "system") -> None:
    """Insert or update every party and safe area of the mandate (none are deleted)."""
    for party in mandate.parties:
        session.merge(
            PartyRow(
                id=party.id,
                name=party.name,
                country=party.country,
                contact=party.contact.model_dump(),
                territory=party.territory.model_dump(),
            )
        )
    session.flush()
    for area in mandate.safe_areas:
        session.merge(
            SafeAreaRow(
                id=area.id,
                party_id=area.party,
                name=area.name,
                sector=area.sector,
                criticality=area.criticality,
                prefixes=area.prefixes,
                hosts=area.hosts,
                domains=area.domains,
            )
        )
    detail = {
        "mission": mandate.mission.id,
        "parties": len(mandate.parties),
        "safe_areas": len(mandate.safe_areas),
    }
    audit.append(session, by, "mandate.load", f"mission:{mandate.mission.id}", detail)


def list_parties(session: Session, viewer: Viewer) -> list[PartyRow]:
    query = select(PartyRow).order_by(PartyRow.id)
    if not viewer.is_staff:
        query = query.where(PartyRow.id == viewer.party_id)
    return list(session.scalars(query))


def get_party(session: Session, viewer: Viewer, party_id: str) -> PartyRow:
    row = session.get(PartyRow, party_id)
    if row is None:
        raise NotFound(f"no party {party_id!r}")
    if not viewer.may_see_party(row.id):
        raise Forbidden(f"party {party_id!r} is not yours")
    return row


def list_safe_areas(
    session: Session, viewer: Viewer, party: str | None = None
) -> list[SafeAreaRow]:
    query = select(SafeAreaRow).order_by(SafeAreaRow.party_id, SafeAreaRow.id)
    if not viewer.is_staff:
        query = query.where(SafeAreaRow.party_id == viewer.party_id)
    if party:
        query = query.where(SafeAreaRow.party_id == party)
    return list(session.scalars(query))


def get_safe_area(session: Session, viewer: Viewer, area_id: str) -> SafeAreaRow:
    row = session.get(SafeAreaRow, area_id)
    if row is None:
        raise NotFound(f"no safe area {area_id!r}")
    if not viewer.may_see_party(row.party_id):
        raise Forbidden(f"safe area {area_id!r} belongs to another party")
    return row
