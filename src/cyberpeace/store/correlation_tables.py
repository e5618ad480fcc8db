"""Tables of the correlation: incidents' indicators, sightings, and intelligence's STIX links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cyberpeace.store.tables import Base, utcnow


class IncidentIndicatorRow(Base):
    """A value seen in an incident: a detection's source or target, or one a party reported.

    ``value`` is canonical (``correlation/indicator_kinds.py``); ``key`` is its stable 64-bit hash
    (``correlation/keys.py``) and ``net_high``/``net_low``/``prefix_len`` the 128-bit network of an
    address or prefix (IPv4 mapped), so the correlation index is rebuilt from integers alone.
    """

    __tablename__ = "incident_indicators"
    __table_args__ = (Index("ix_incident_indicators_key", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    key: Mapped[int] = mapped_column(BigInteger)
    net_high: Mapped[int | None] = mapped_column(BigInteger)
    net_low: Mapped[int | None] = mapped_column(BigInteger)
    prefix_len: Mapped[int | None] = mapped_column(SmallInteger)
    role: Mapped[str] = mapped_column(String(16))  # source, target, reported
    observed_by: Mapped[str] = mapped_column(String(16))  # telemetry, report
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class SightingRow(Base):
    """A sighting of an intelligence indicator (STIX 2.1 section 5.2 semantics).

    ``first_seen``/``last_seen`` bound the time it was seen, ``count`` how often (at most
    999,999,999 as in STIX), ``where_sighted`` who saw it (``party:ID`` or ``sensor:ID``), and
    ``value`` what was actually observed (an address inside an indicator's prefix, say).
    """

    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    detection_id: Mapped[int | None] = mapped_column(ForeignKey("detections.id"))
    observed_by: Mapped[str] = mapped_column(String(16))  # telemetry, report
    where_sighted: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(2048))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndicatorStixRow(Base):
    """An intelligence indicator and the STIX object it was imported from."""

    __tablename__ = "indicator_stix"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(200), primary_key=True)
