"""Tables of the TAXII 2.1 server and client: status resources and federation cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cyberpeace.store.tables import Base, utcnow


class TaxiiStatusRow(Base):
    """One TAXII 2.1 status resource (section 4.3.1), as returned when objects were added."""

    __tablename__ = "taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection_id: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(100))  # the viewer who posted, by its actor name
    body: Mapped[str] = mapped_column(Text)  # the status resource's JSON text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaxiiCursorRow(Base):
    """How far this node has pulled from, or pushed to, one collection of a remote server."""

    __tablename__ = "taxii_cursors"
    __table_args__ = (UniqueConstraint("remote", "collection", "direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remote: Mapped[str] = mapped_column(String(500))  # the API root URL
    collection: Mapped[str] = mapped_column(String(100))  # the remote collection id
    direction: Mapped[str] = mapped_column(String(4))  # pull or push
    added_after: Mapped[str] = mapped_column(String(40))  # remote (pull) or local (push) date
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
