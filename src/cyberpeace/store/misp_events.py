"""MISP events received, kept whole as they came (share/misp_import.py reads them).

One row per event uuid: its latest version (by the event's ``timestamp``), the incident it was
filed as when the victim was known, and the body exactly as received, so that attributes the
mission has no indicator for (JA3 fingerprints, user agents, objects' context) are not lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cyberpeace.store.tables import Base, utcnow


class MispEventRow(Base):
    __tablename__ = "misp_events"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    info: Mapped[str] = mapped_column(Text)
    org: Mapped[str] = mapped_column(String(100))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tlp: Mapped[str | None] = mapped_column(String(20))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    galaxies: Mapped[list[Any]]
    body: Mapped[str] = mapped_column(Text)  # the event's JSON text
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
