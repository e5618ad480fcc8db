"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical JSON
(sorted keys, no spaces), so changing, removing or reordering any entry breaks every hash after
it. The database also refuses UPDATE and DELETE on the table (triggers in migration 0001);
``verify`` catches what someone with the rights to drop those triggers could still do.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cyberpeace.store.tables import AuditRow

GENESIS = "0" * 64
_POSTGRES_AUDIT_LOCK = 0x63_70_61_75  # "cpau": serialises appends across connections


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def canonical(detail: dict[str, Any]) -> str:
    return json.dumps(
        detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def entry_hash(
    prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str, detail: str
) -> str:
    body = canonical(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    session: Session, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None
) -> AuditRow:
    """Add one entry in the caller's transaction, so it commits or rolls back with the change."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_AUDIT_LOCK})
    last = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
    seq = last.seq + 1 if last else 1
    prev = last.hash if last else GENESIS
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    body = canonical(detail or {})
    row = AuditRow(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=body,
        prev_hash=prev,
        hash=entry_hash(prev, seq, at, actor, action, subject, body),
    )
    session.add(row)
    session.flush()
    return row


def verify(session: Session, batch: int = 5000) -> Verification:
    """Walk the whole chain and report the first entry that does not fit."""
    prev, expected_seq, count = GENESIS, 1, 0
    while True:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.seq >= expected_seq).order_by(AuditRow.seq).limit(batch)
        ).all()
        if not rows:
            return Verification(True, count)
        for row in rows:
            problem = _check(row, prev, expected_seq)
            if problem:
                return Verification(False, count, row.seq, problem)
            prev, expected_seq, count = row.hash, expected_seq + 1, count + 1


def _check(row: AuditRow, prev: str, expected_seq: int) -> str:
    if row.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if row.prev_hash != prev:
        return f"entry {row.seq} does not follow entry {row.seq - 1}"
    recomputed = entry_hash(
        row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, row.detail
    )
    if recomputed != row.hash:
        return f"entry {row.seq} was changed after it was written"
    return ""


def entries(
    session: Session, *, after: int = 0, limit: int = 100, subject: str | None = None
) -> list[AuditRow]:
    query = select(AuditRow).where(AuditRow.seq > after)
    if subject:
        query = query.where(AuditRow.subject == subject)
    return list(session.scalars(query.order_by(AuditRow.seq).limit(limit)))
