"""Tables of an incident's case file: further victims, notes and reports, tasks, links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cyberpeace.store.tables import Base, utcnow


class IncidentVictimRow(Base):
    """A victim beyond the incident's own party: another party, safe area or sector hit."""

    __tablename__ = "incident_victims"
    __table_args__ = (UniqueConstraint("incident_id", "party_id", "safe_area_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    safe_area_id: Mapped[str | None] = mapped_column(ForeignKey("safe_areas.id"))
    sector: Mapped[str | None] = mapped_column(String(32))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncidentNoteRow(Base):
    """An analyst's note (mission only) or a party's report on an incident (seen by its party)."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # note | report
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncidentTaskRow(Base):
    """Work to be done on a case, with the person who owns it."""

    __tablename__ = "incident_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # open | done
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_by: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(Text, default="")


class IncidentLinkRow(Base):
    """A directed link between two incidents: ``incident`` is a duplicate of, related to, or
    part of ``other``."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "other_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StixIncidentRow(Base):
    """The incident a party's STIX ``incident`` object was filed as (investigate/party_reports)."""

    __tablename__ = "stix_incidents"

    stix_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
