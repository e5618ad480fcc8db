"""Legal assessments of incidents in the store: versioned, each citing its knowledge version.

An assessment is made from two layers of facts: what the incident shows (its victim, safe area
and detections, ``law/incident_facts.py``) and what analysts set (``law/overrides.py``). Each
new version keeps the facts it was made from, the findings, and which facts changed since the
previous version with who changed them; the audit log records it too. Nothing changes a
version once written. A party sees the assessments of the incidents it may see; only mission
staff assess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.law import (
    Assessment,
    DetectionRecord,
    Fact,
    Finding,
    IncidentRecord,
    Knowledge,
    SafeAreaRecord,
    analysts_facts,
    apply_overrides,
    assess,
    facts_from_dict,
    facts_from_flat,
    flat_facts,
    incident_facts,
)
from cyberpeace.mission.model import Mandate
from cyberpeace.store import audit
from cyberpeace.store.access import NotFound, Viewer
from cyberpeace.store.attributions import facts_from_attributions
from cyberpeace.store.incidents import get_incident
from cyberpeace.store.tables import AssessmentRow, IncidentRow, SafeAreaRow


def assess_incident(
    session: Session,
    viewer: Viewer,
    incident_id: int,
    *,
    mandate: Mandate | None = None,
    knowledge: Knowledge | None = None,
) -> AssessmentRow:
    """Assess the incident as it now stands, keeping the analysts' facts of the last version.

    A new version is written only when the facts or the findings differ from the latest one
    (new detections, another knowledge version, another mandate); otherwise that one is returned.
    """
    return set_facts(session, viewer, incident_id, {}, mandate=mandate, knowledge=knowledge)


def set_facts(
    session: Session,
    viewer: Viewer,
    incident_id: int,
    overrides: Mapping[str, Fact[Any] | None],
    *,
    reason: str = "",
    mandate: Mandate | None = None,
    knowledge: Knowledge | None = None,
) -> AssessmentRow:
    """A new version with analysts' facts (``law.overrides.parse_overrides``) set or withdrawn."""
    viewer.require_staff()
    incident = get_incident(session, viewer, incident_id)
    # Versions are numbered per incident: serialise writers on the incident (PostgreSQL).
    session.refresh(incident, with_for_update=True)
    latest = _latest(session, incident.id)
    before = flat_facts(facts_from_dict(latest.facts)) if latest else {}
    analysts = apply_overrides(analysts_facts(before), overrides)
    facts = facts_from_flat(
        {
            **incident_facts(_record(session, incident)),
            **facts_from_attributions(session, incident.id),
            **analysts,
        },
        incident=f"incident {incident.id}",
        summary=incident.title,
    )
    result = assess(facts, mandate, knowledge)
    document = facts.model_dump(mode="json", exclude_defaults=True)
    findings = [f.model_dump(mode="json") for f in [*result.mandate, *result.findings]]
    details = result.model_dump(
        mode="json", include={"thresholds", "responses", "offences", "contradictions", "missing"}
    )
    if latest and (latest.facts, latest.findings, latest.details) == (document, findings, details):
        return latest
    changes = _changes(before, flat_facts(facts), viewer.actor, reason)
    row = AssessmentRow(
        incident_id=incident.id,
        version=latest.version + 1 if latest else 1,
        knowledge_version=result.knowledge_version,
        facts=document,
        findings=findings,
        details=details,
        changes=changes,
        created_by=viewer.actor,
    )
    session.add(row)
    session.flush()
    detail = {
        "version": row.version,
        "knowledge": row.knowledge_version,
        "changed": [c["fact"] for c in changes],
    }
    if reason:
        detail["reason"] = reason
    audit.append(session, viewer.actor, "assessment.create", f"incident:{incident.id}", detail)
    return row


def get_assessment(
    session: Session, viewer: Viewer, incident_id: int, version: int | None = None
) -> AssessmentRow:
    """The latest assessment of an incident the viewer may see, or the version asked for."""
    incident = get_incident(session, viewer, incident_id)
    if version is None:
        row = _latest(session, incident.id)
    else:
        row = session.scalars(
            select(AssessmentRow).where(
                AssessmentRow.incident_id == incident.id, AssessmentRow.version == version
            )
        ).first()
    if row is None:
        if version is None:
            raise NotFound(f"incident {incident_id} has not been assessed yet")
        raise NotFound(f"incident {incident_id} has no assessment version {version}")
    return row


def list_assessments(session: Session, viewer: Viewer, incident_id: int) -> list[AssessmentRow]:
    """Every version of an incident's assessment, oldest first."""
    incident = get_incident(session, viewer, incident_id)
    query = select(AssessmentRow).where(AssessmentRow.incident_id == incident.id)
    return list(session.scalars(query.order_by(AssessmentRow.version)))


def assessment_of(row: AssessmentRow) -> Assessment:
    """The stored assessment as the law package made it."""
    findings = [Finding.model_validate(f) for f in row.findings]
    return Assessment.model_validate(
        {
            **row.details,
            "knowledge_version": row.knowledge_version,
            "incident": f"incident {row.incident_id}",
            "findings": [f for f in findings if f.kind != "term"],
            "mandate": [f for f in findings if f.kind == "term"],
        }
    )


def _latest(session: Session, incident_id: int) -> AssessmentRow | None:
    query = select(AssessmentRow).where(AssessmentRow.incident_id == incident_id)
    return session.scalars(query.order_by(AssessmentRow.version.desc()).limit(1)).first()


def _record(session: Session, incident: IncidentRow) -> IncidentRecord:
    area = session.get(SafeAreaRow, incident.safe_area_id) if incident.safe_area_id else None
    return IncidentRecord(
        id=incident.id,
        title=incident.title,
        party=incident.party_id,
        first_seen=incident.first_seen,
        safe_area=SafeAreaRecord(area.id, area.name, area.sector, area.criticality)
        if area
        else None,
        detections=[
            DetectionRecord(d.id, d.kind, d.target, d.start, d.end, d.confidence)
            for d in incident.detections
        ],
    )


def _changes(
    before: Mapping[str, Fact[Any]], after: Mapping[str, Fact[Any]], actor: str, reason: str
) -> list[dict[str, Any]]:
    """Each fact that differs, with its old and new value (None: unknown, no source)."""
    changed = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        change: dict[str, Any] = {
            "fact": path,
            "from": old.model_dump(mode="json") if old else None,
            "to": new.model_dump(mode="json") if new else None,
            "by": actor,
        }
        if reason:
            change["reason"] = reason
        changed.append(change)
    return changed
