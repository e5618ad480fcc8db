"""The case store's tables (SQLAlchemy 2 declarative). The schema itself is made by Alembic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the case store; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class PartyRow(Base):
    __tablename__ = "parties"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    contact: Mapped[dict[str, Any]]
    territory: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SafeAreaRow(Base):
    __tablename__ = "safe_areas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))
    criticality: Mapped[str] = mapped_column(String(16))
    prefixes: Mapped[list[Any]]
    hosts: Mapped[list[Any]]
    domains: Mapped[list[Any]]


class SensorRow(Base):
    __tablename__ = "sensors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime | None]


class DetectionRow(Base):
    __tablename__ = "detections"
    __table_args__ = (Index("ix_detections_start", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"), index=True)
    safe_area_id: Mapped[str | None] = mapped_column(ForeignKey("safe_areas.id"))
    sensor_id: Mapped[str | None] = mapped_column(ForeignKey("sensors.id"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    severity: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    magnitude: Mapped[dict[str, Any]]
    sources: Mapped[list[Any]]
    explanation: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where the sources are and the signs of spoofing (detect/traceback.py; migration corr_0001).
    traceback: Mapped[dict[str, Any] | None]


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16))
    tlp: Mapped[str] = mapped_column(String(20))
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    safe_area_id: Mapped[str | None] = mapped_column(ForeignKey("safe_areas.id"))
    sector: Mapped[str | None] = mapped_column(String(32))
    reported_by: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    detections: Mapped[list[DetectionRow]] = relationship(
        secondary="incident_detections", order_by="DetectionRow.start"
    )
    shared_with: Mapped[list[IncidentShareRow]] = relationship(cascade="all, delete-orphan")


class IncidentDetectionRow(Base):
    __tablename__ = "incident_detections"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    detection_id: Mapped[int] = mapped_column(ForeignKey("detections.id"), primary_key=True)


class IncidentShareRow(Base):
    """A party other than the victim that may see an incident."""

    __tablename__ = "incident_shares"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), primary_key=True)


class EvidenceRow(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    collected_by: Mapped[str] = mapped_column(String(100))
    collected_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(Text)
    # The evidence locker (investigate/locker.py, migration cases_0001).
    media_type: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(255))
    stored_at: Mapped[datetime | None]


class IndicatorRow(Base):
    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("kind", "value", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(2048), index=True)
    tlp: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]


class AssessmentRow(Base):
    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    knowledge_version: Mapped[str] = mapped_column(String(64))
    facts: Mapped[dict[str, Any]]  # the Facts document assessed (facts.py), defaults left out
    findings: Mapped[list[Any]]  # every Finding, the mandate's terms first
    details: Mapped[dict[str, Any]]  # thresholds, responses, offences, contradictions, missing
    changes: Mapped[list[Any]]  # facts changed since the previous version: path, from, to, by
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionRow(Base):
    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    detection_id: Mapped[int | None] = mapped_column(ForeignKey("detections.id"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    parameters: Mapped[dict[str, Any]]
    safeguards: Mapped[list[Any]]
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    # The response lifecycle (respond/lifecycle.py, migration respond_0001).
    target: Mapped[str | None] = mapped_column(String(64))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"), index=True)
    dedup_key: Mapped[str | None] = mapped_column(String(300), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    approvals_needed: Mapped[int | None] = mapped_column(Integer)
    approvals: Mapped[list[Any] | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    in_force: Mapped[bool | None]
    attempts: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    enforcement: Mapped[list[Any] | None]
    updated_at: Mapped[datetime | None]


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    to_party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Early warnings (store/early_warning.py, migration warn_0001): why the message was sent,
    # how often and when its cause was seen, and whether the party acknowledged it.
    cause: Mapped[str | None] = mapped_column(String(200), index=True)
    count: Mapped[int | None] = mapped_column(Integer)
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    detection_id: Mapped[int | None] = mapped_column(ForeignKey("detections.id"))
    details: Mapped[dict[str, Any] | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))


class AuditRow(Base):
    """One entry of the append-only, hash-chained audit log (see ``audit.py``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class TokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class StixObjectRow(Base):
    """One version of one STIX 2.1 object in one TAXII collection, as it was received.

    ``added`` is the TAXII date_added (TAXII 2.1 section 3.4.1): a fixed-width UTC string, made
    strictly increasing across the store so that resuming with ``added_after`` never skips an
    object that shared a timestamp with the last one seen. ``seq`` orders additions too.
    """

    __tablename__ = "stix_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "object_id", "version"),
        Index("ix_stix_objects_collection_added", "collection_id", "added"),
        Index(
            "ix_stix_objects_collection_object_version", "collection_id", "object_id", "version_key"
        ),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(100))
    spec_version: Mapped[str] = mapped_column(String(10))
    version: Mapped[str] = mapped_column(String(40))
    added: Mapped[str] = mapped_column(String(30))
    tlp: Mapped[str | None] = mapped_column(String(20))
    added_by: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)  # the object's JSON text, exactly as stored
    # Parties a TAXII server may serve an AMBER or RED object to (",a,b,"); see share/taxii_access.
    audience: Mapped[str | None] = mapped_column(String(1000))
    version_key: Mapped[str | None] = mapped_column(String(30))  # version, fixed-width, sortable
