"""Evidence in the locker: adding (file first, then its row), listing, access and transfer,
each recorded as custody in the hash-chained audit log (subject ``evidence:<id>``)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cyberpeace.investigate.locker import Locker, Received
from cyberpeace.investigate.vocabulary import case_vocabulary
from cyberpeace.store import Store, Viewer, audit, get_incident
from cyberpeace.store.access import NotFound
from cyberpeace.store.tables import AuditRow, EvidenceRow, utcnow

log = logging.getLogger(__name__)
CUSTODY_ACTIONS = ("evidence.collect", "evidence.access", "evidence.transfer", "evidence.export")


@dataclass(frozen=True)
class EvidenceMeta:
    """What is known of an artefact besides its bytes."""

    source: str
    method: str
    kind: str = "file"
    media_type: str | None = None
    filename: str | None = None
    collected_at: datetime | None = None
    collected_by: str | None = None

    def problems(self) -> list[str]:
        found = []
        kinds = case_vocabulary().evidence_kinds
        if self.kind not in kinds:
            found.append(f"kind {self.kind!r} is not one of {list(kinds)}")
        for name, value, most in (
            ("source", self.source, 200),
            ("method", self.method, 5000),
            ("collected_by", self.collected_by or "x", 100),
            ("media_type", self.media_type or "x", 200),
            ("filename", self.filename or "x", 255),
        ):
            if not value.strip():
                found.append(f"{name} must not be empty")
            elif len(value) > most or "\x00" in value:
                found.append(f"{name} holds at most {most} characters and no NUL")
        if self.media_type and "/" not in self.media_type:
            found.append(f"media_type {self.media_type!r} is not TYPE/SUBTYPE")
        if self.collected_at is not None and self.collected_at.tzinfo is None:
            found.append("collected_at must carry a time zone")
        return found


class BadEvidence(ValueError):
    """Metadata the locker refuses; nothing was stored."""


def media_type_for(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return case_vocabulary().media_types.get(suffix, "application/octet-stream")


def add_evidence(
    store: Store,
    locker: Locker,
    viewer: Viewer,
    incident_id: int,
    received: Received,
    meta: EvidenceMeta,
) -> EvidenceRow:
    """Put the bytes in the locker, then commit their row and custody entry.

    If the row cannot be committed (a refused request, a lost connection) the object is
    removed again, but only when this call placed it and no committed row refers to it.
    """
    problems = meta.problems()
    if problems:
        received.path.unlink(missing_ok=True)
        raise BadEvidence("; ".join(problems))
    with locker.locked(received.sha256):
        placed = locker.place(received)
        try:
            with store.session() as session:
                row = _record(session, viewer, incident_id, received, meta)
        except BaseException:
            if placed:
                _remove_if_unreferenced(store, locker, received.sha256)
            raise
    return row


def _record(
    session: Session, viewer: Viewer, incident_id: int, received: Received, meta: EvidenceMeta
) -> EvidenceRow:
    incident = get_incident(session, viewer, incident_id)
    collector = meta.collected_by or viewer.actor
    row = EvidenceRow(
        incident_id=incident.id,
        sha256=received.sha256,
        kind=meta.kind,
        size=received.size,
        source=meta.source.strip(),
        collected_by=collector,
        collected_at=meta.collected_at or utcnow(),
        method=meta.method.strip(),
        media_type=meta.media_type or media_type_for(meta.filename),
        filename=meta.filename,
        stored_at=utcnow(),
    )
    session.add(row)
    session.flush()
    detail = {
        "incident": incident.id,
        "sha256": row.sha256,
        "size": row.size,
        "source": row.source,
        "method": row.method,
        "collected_by": collector,
        "stored_by": viewer.actor,
        "custodian": collector,
    }
    audit.append(session, viewer.actor, "evidence.collect", f"evidence:{row.id}", detail)
    return row


def _remove_if_unreferenced(store: Store, locker: Locker, sha256: str) -> None:
    """Remove an object whose row failed, unless some committed row does refer to it.

    The check runs on a fresh connection: the failed one may be gone, and a commit whose
    acknowledgement was lost may still have succeeded (then the row exists and the file stays).
    If even that check fails the file is kept and logged: an unreferenced object can be swept
    later (``sweep_orphans``), while evidence removed under a committed row is lost for good.
    """
    try:
        with store.session() as session:
            refs = session.scalar(
                select(func.count()).select_from(EvidenceRow).where(EvidenceRow.sha256 == sha256)
            )
    except Exception:
        log.exception("evidence object %s kept: could not check for rows referring to it", sha256)
        return
    if not refs:
        locker.remove(sha256)


def sweep_orphans(session: Session, locker: Locker) -> list[str]:
    """Remove every object no evidence row refers to; return their digests."""
    held = set(session.scalars(select(EvidenceRow.sha256).distinct()))
    removed = []
    for digest in list(locker.object_digests()):
        if digest not in held:
            with locker.locked(digest):
                locker.remove(digest)
            removed.append(digest)
    return removed


def list_evidence(session: Session, viewer: Viewer, incident_id: int) -> list[EvidenceRow]:
    incident = get_incident(session, viewer, incident_id)
    query = select(EvidenceRow).where(EvidenceRow.incident_id == incident.id)
    return list(session.scalars(query.order_by(EvidenceRow.id)))


def get_evidence(session: Session, viewer: Viewer, evidence_id: int) -> EvidenceRow:
    row = session.get(EvidenceRow, evidence_id)
    if row is None:
        raise NotFound(f"no evidence {evidence_id}")
    get_incident(session, viewer, row.incident_id)  # Forbidden when the case is not the viewer's
    return row


def access_evidence(
    session: Session, locker: Locker, viewer: Viewer, evidence_id: int, purpose: str
) -> tuple[EvidenceRow, Path]:
    """The object's path, with the access recorded in the custody log first."""
    row = get_evidence(session, viewer, evidence_id)
    path = locker.path_of(row.sha256)
    if not path.is_file():
        raise NotFound(f"evidence {evidence_id}: object {row.sha256} is missing from the locker")
    audit.append(
        session, viewer.actor, "evidence.access", f"evidence:{row.id}", {"purpose": purpose}
    )
    return row, path


def transfer_evidence(
    session: Session, viewer: Viewer, evidence_id: int, to: str, reason: str
) -> EvidenceRow:
    """Hand custody to someone else (mission staff only), with the reason."""
    viewer.require_staff()
    row = get_evidence(session, viewer, evidence_id)
    to, reason = to.strip(), reason.strip()
    if not to or len(to) > 100:
        raise ValueError("a transfer needs a recipient of at most 100 characters")
    if not reason:
        raise ValueError("a transfer needs a reason")
    previous = custodian_of(session, row)
    detail = {"from": previous, "to": to, "reason": reason}
    audit.append(session, viewer.actor, "evidence.transfer", f"evidence:{row.id}", detail)
    return row


def custody_log(session: Session, evidence_ids: list[int]) -> list[AuditRow]:
    """Every custody entry of these artefacts, in the order of the audit chain."""
    subjects = [f"evidence:{i}" for i in evidence_ids]
    query = select(AuditRow).where(AuditRow.subject.in_(subjects))
    return list(session.scalars(query.order_by(AuditRow.seq)))


def custodian_of(session: Session, row: EvidenceRow) -> str:
    """Who holds the artefact now: the last transfer's recipient, else the collector."""
    query = (
        select(AuditRow)
        .where(AuditRow.subject == f"evidence:{row.id}", AuditRow.action == "evidence.transfer")
        .order_by(AuditRow.seq.desc())
        .limit(1)
    )
    last = session.scalars(query).first()
    if last is None:
        return row.collected_by
    detail: dict[str, Any] = json.loads(last.detail)
    return str(detail["to"])
