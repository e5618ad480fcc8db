"""The attribution records of incidents (store/attributions.py, investigate/attribution.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cyberpeace.store.tables import Base, utcnow


class AttributionRow(Base):
    __tablename__ = "attributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # technical or responsibility
    candidate: Mapped[str] = mapped_column(String(200))  # actor name or party id
    actor: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(200))
    party: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[str] = mapped_column(String(16))
    bases: Mapped[list[Any]]  # {kind, weight, detail}
    raise_if: Mapped[str] = mapped_column(Text, default="")
    lower_if: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "kind": self.kind,
            "candidate": self.candidate,
            "actor": self.actor,
            "state": self.state,
            "party": self.party,
            "confidence": self.confidence,
            "bases": list(self.bases),
            "raise_if": self.raise_if,
            "lower_if": self.lower_if,
            "summary": self.summary,
            "version": self.version,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat(),
        }
