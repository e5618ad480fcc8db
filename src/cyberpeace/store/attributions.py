"""Attribution records in the store: add, revise, list, and derive the technical one.

Every change leaves an audit entry (subject ``attribution:<id>``, and the incident's) with what
changed, from what to what. Only mission staff attribute; a party sees the records of the
incidents it may see.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.investigate.attribution import (
    AttributionDraft,
    TracedOrigin,
    attribution_facts,
    check,
    technical_draft,
)
from cyberpeace.law.facts import Fact
from cyberpeace.store import audit
from cyberpeace.store.access import NotFound, Viewer
from cyberpeace.store.attribution_tables import AttributionRow
from cyberpeace.store.incidents import get_incident
from cyberpeace.store.tables import PartyRow, utcnow

_FIELDS = ("candidate", "actor", "state", "party", "confidence", "raise_if", "lower_if", "summary")


def add_attribution(
    session: Session, viewer: Viewer, incident_id: int, draft: AttributionDraft
) -> AttributionRow:
    """Record an attribution of the incident (mission staff); AttributionError if unsound."""
    viewer.require_staff()
    incident = get_incident(session, viewer, incident_id)
    check(draft)
    row = AttributionRow(
        incident_id=incident.id,
        kind=draft.kind,
        bases=[b.as_dict() for b in draft.bases],
        created_by=viewer.actor,
        updated_by=viewer.actor,
        version=1,
        **{name: getattr(draft, name) for name in _FIELDS},
    )
    session.add(row)
    session.flush()
    detail = {"incident": incident.id, **row.as_dict()}
    for key in ("created_at", "updated_at", "id", "incident_id"):
        detail.pop(key)
    audit.append(session, viewer.actor, "attribution.create", f"attribution:{row.id}", detail)
    audit.append(
        session,
        viewer.actor,
        "incident.attribution",
        f"incident:{incident.id}",
        {"attribution": row.id, "kind": row.kind, "candidate": row.candidate},
    )
    return row


def revise_attribution(
    session: Session, viewer: Viewer, attribution_id: int, draft: AttributionDraft, reason: str
) -> AttributionRow:
    """Change an attribution (a new version); the audit entry keeps each old and new value."""
    viewer.require_staff()
    row = get_attribution(session, viewer, attribution_id)
    if draft.kind != row.kind:
        raise ValueError("an attribution keeps its kind; record a new one instead")
    if not reason.strip():
        raise ValueError("revising an attribution needs a reason")
    check(draft)
    changes: dict[str, Any] = {}
    bases = [b.as_dict() for b in draft.bases]
    if bases != row.bases:
        changes["bases"] = {"from": row.bases, "to": bases}
        row.bases = bases
    for name in _FIELDS:
        new = getattr(draft, name)
        if getattr(row, name) != new:
            changes[name] = {"from": getattr(row, name), "to": new}
            setattr(row, name, new)
    if not changes:
        return row
    row.version += 1
    row.updated_by, row.updated_at = viewer.actor, utcnow()
    audit.append(
        session,
        viewer.actor,
        "attribution.revise",
        f"attribution:{row.id}",
        {"version": row.version, "reason": reason, "changes": changes},
    )
    return row


def get_attribution(session: Session, viewer: Viewer, attribution_id: int) -> AttributionRow:
    row = session.get(AttributionRow, attribution_id)
    if row is None:
        raise NotFound(f"no attribution {attribution_id}")
    get_incident(session, viewer, row.incident_id)  # Forbidden if the incident is not theirs
    return row


def list_attributions(session: Session, viewer: Viewer, incident_id: int) -> list[AttributionRow]:
    """The incident's attributions, oldest first."""
    incident = get_incident(session, viewer, incident_id)
    query = select(AttributionRow).where(AttributionRow.incident_id == incident.id)
    return list(session.scalars(query.order_by(AttributionRow.id)))


def incident_origins(session: Session, viewer: Viewer, incident_id: int) -> list[TracedOrigin]:
    """The traced sources of the incident's detections, with their parties' countries."""
    incident = get_incident(session, viewer, incident_id)
    countries = dict(session.execute(select(PartyRow.id, PartyRow.country)).all())
    origins = []
    for detection in incident.detections:
        reflection = detection.kind == "udp-reflection"
        spoofed = bool(detection.explanation.get("spoofing_signs"))
        for source in detection.sources:
            party = source.get("party")
            origins.append(
                TracedOrigin(
                    party=party,
                    country=countries.get(party) if party else None,
                    asn=source.get("asn"),
                    role="reflector" if reflection else "source",
                    spoofed=spoofed,
                )
            )
    return origins


def derive_technical(session: Session, viewer: Viewer, incident_id: int) -> AttributionRow | None:
    """Record the technical attribution the traceback supports, unless the same one exists."""
    draft = technical_draft(incident_origins(session, viewer, incident_id))
    if draft is None:
        return None
    existing = [a for a in list_attributions(session, viewer, incident_id) if a.kind == "technical"]
    system = replace(viewer, name=viewer.name or "system")
    if existing:
        latest = existing[-1]
        same = all(getattr(latest, n) == asdict(draft)[n] for n in _FIELDS)
        if same and latest.bases == [b.as_dict() for b in draft.bases]:
            return latest
        return revise_attribution(session, system, latest.id, draft, "traceback changed")
    return add_attribution(session, system, incident_id, draft)


def facts_from_attributions(session: Session, incident_id: int) -> dict[str, Fact[Any]]:
    """What the incident's attributions give the legal engine (``attribution_facts``)."""
    rows = session.scalars(
        select(AttributionRow)
        .where(AttributionRow.incident_id == incident_id)
        .order_by(AttributionRow.updated_at, AttributionRow.id)
    )
    return attribution_facts(r.as_dict() for r in rows)
