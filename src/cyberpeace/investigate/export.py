"""Exporting a case's evidence: the files, a manifest signed with Ed25519, SHA256SUMS.

The directory written::

    files/<evidence id>-<name>   each artefact, as held in the locker
    manifest.json                incident, per file its SHA-256 and provenance, custody log
    manifest.sig                 Ed25519 signature (RFC 8032) over manifest.json's exact bytes
    key.pem                      the mission's public key (SubjectPublicKeyInfo PEM)
    SHA256SUMS                   for ``sha256sum -c SHA256SUMS``
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.investigate.evidence import custodian_of, custody_log, list_evidence
from cyberpeace.investigate.locker import Locker
from cyberpeace.investigate.signing import fingerprint, public_pem
from cyberpeace.store import Viewer, audit, get_incident
from cyberpeace.store.tables import AuditRow, EvidenceRow, utcnow

FORMAT = "cyberpeace-evidence-export/1"
MANIFEST, SIGNATURE, PUBLIC_KEY, SUMS = "manifest.json", "manifest.sig", "key.pem", "SHA256SUMS"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ExportError(RuntimeError):
    """The export cannot be written (directory not empty, locker object changed)."""


@dataclass(frozen=True)
class Exported:
    directory: Path
    files: int
    fingerprint: str


def export_case(
    session: Session,
    locker: Locker,
    key: Ed25519PrivateKey,
    viewer: Viewer,
    incident_id: int,
    out: Path,
) -> Exported:
    """Write the incident's evidence to ``out`` (new or empty), recording the export as custody."""
    viewer.require_staff()
    incident = get_incident(session, viewer, incident_id)
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty; export into a new directory")
    (out / "files").mkdir(parents=True, exist_ok=True)
    rows = list_evidence(session, viewer, incident.id)
    for row in rows:
        audit.append(
            session,
            viewer.actor,
            "evidence.export",
            f"evidence:{row.id}",
            {"incident": incident.id, "to": str(out.resolve())},
        )
    entries = [_file_entry(session, locker, out, row) for row in rows]
    head = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
    manifest = {
        "format": FORMAT,
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "party": incident.party_id,
            "status": incident.status,
            "severity": incident.severity,
            "tlp": incident.tlp,
        },
        "exported_at": utcnow().isoformat(),
        "exported_by": viewer.actor,
        "signing_key": {
            "algorithm": "Ed25519",
            "file": PUBLIC_KEY,
            "sha256": fingerprint(key.public_key()),
        },
        "files": entries,
        "custody": [_custody(entry) for entry in custody_log(session, [r.id for r in rows])],
        "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
    }
    body = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    _write(out / MANIFEST, body)
    _write(out / SIGNATURE, key.sign(body))
    _write(out / PUBLIC_KEY, public_pem(key.public_key()))
    sums = [(e["sha256"], e["path"]) for e in entries]
    sums += [
        (hashlib.sha256((out / n).read_bytes()).hexdigest(), n)
        for n in (MANIFEST, SIGNATURE, PUBLIC_KEY)
    ]
    _write(out / SUMS, "".join(f"{digest}  {name}\n" for digest, name in sums).encode())
    return Exported(out, len(entries), fingerprint(key.public_key()))


def _file_entry(session: Session, locker: Locker, out: Path, row: EvidenceRow) -> dict[str, Any]:
    name = f"files/{row.id}-{_safe(row.filename or row.sha256[:16])}"
    digest = hashlib.sha256()
    with locker.path_of(row.sha256).open("rb") as source, (out / name).open("wb") as target:
        while block := source.read(1 << 20):
            digest.update(block)
            target.write(block)
        target.flush()
        os.fsync(target.fileno())
    if digest.hexdigest() != row.sha256:
        raise ExportError(
            f"evidence {row.id}: the locker's object no longer hashes to {row.sha256}; "
            "the locker was tampered with"
        )
    return {
        "path": name,
        "evidence_id": row.id,
        "sha256": row.sha256,
        "size": row.size,
        "kind": row.kind,
        "media_type": row.media_type,
        "filename": row.filename,
        "source": row.source,
        "method": row.method,
        "collected_by": row.collected_by,
        "collected_at": row.collected_at.isoformat(),
        "custodian": custodian_of(session, row),
    }


def _custody(entry: AuditRow) -> dict[str, Any]:
    # detail stays the canonical JSON text the entry's hash was computed over (audit.py).
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _safe(name: str) -> str:
    cleaned = _UNSAFE.sub("_", Path(name).name).strip("._") or "artefact"
    return cleaned[:120]


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def remove_export(out: Path) -> None:
    """Take away a half-written export (its custody entries were rolled back)."""
    shutil.rmtree(out, ignore_errors=True)
