"""Export of incidents as STIX 2.1 bundles (section 8), for the incidents a viewer may see.

Per incident: the incident (with the incident core extension), its victim party as identity and
location, one attack-pattern per detection kind with its ATT&CK technique, one observed-data per
detection with its addresses and traffic, the indicators the detections sighted, the actions as
courses of action, the latest legal assessment as a note and opinions, and a report that lists
it all; relationships tie them together. Indicators of the store are exported to staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.share.stix_mapping import CLEAR, Mapper, StixObject, matches
from cyberpeace.share.tlp import marking_definition, tlp_of
from cyberpeace.store.access import Viewer
from cyberpeace.store.incidents import get_incident, list_incidents
from cyberpeace.store.tables import (
    ActionRow,
    AssessmentRow,
    IncidentRow,
    IndicatorRow,
    PartyRow,
)


def export_bundle(
    session: Session,
    viewer: Viewer,
    mapper: Mapper,
    incident_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """A bundle of the incidents asked for, or of every incident the viewer may see."""
    if incident_ids is None:
        incidents = list_incidents(session, viewer, limit=1_000_000)
    else:
        incidents = [get_incident(session, viewer, number) for number in incident_ids]
    indicators = list(session.scalars(select(IndicatorRow).order_by(IndicatorRow.id)))
    objects: dict[str, StixObject] = {}
    _add(objects, [mapper.mission_identity()])
    for incident in sorted(incidents, key=lambda row: row.id):
        _add(objects, incident_objects(session, mapper, incident, indicators))
    if viewer.is_staff and incident_ids is None:
        _add(objects, [mapper.indicator(row) for row in indicators])
    levels = sorted({_tlp(obj) for obj in objects.values()} | {CLEAR})
    markings = [marking_definition(level) for level in levels]
    body = [*markings, *sorted(objects.values(), key=lambda o: (o["type"], o["id"]))]
    key = ",".join(sorted(objects))
    return {
        "type": "bundle",
        "id": f"bundle--{mapper.ids.uuid('bundle/' + key)}",
        "objects": body,
    }


def incident_objects(
    session: Session, mapper: Mapper, incident: IncidentRow, indicators: Sequence[IndicatorRow]
) -> list[StixObject]:
    tlp = incident.tlp
    out: list[StixObject] = []
    party = session.get(PartyRow, incident.party_id)
    stix_incident = mapper.incident(incident)
    out.append(stix_incident)
    created = stix_incident["created"]
    victim = None
    if party is not None:
        victim, place = mapper.party_identity(party), mapper.location(party)
        out.append(victim)
        if place is not None:
            out += [place, mapper.relationship("located-at", victim, place, CLEAR, created)]
        out.append(mapper.relationship("related-to", stix_incident, victim, tlp, created))
    for detection in incident.detections:
        pattern = mapper.attack_pattern(detection.kind)
        observables = mapper.observables(detection)
        observed = mapper.observed_data(detection, observables, tlp)
        out += [pattern, *observables, observed]
        out.append(mapper.relationship("related-to", stix_incident, observed, tlp, created))
        out.append(mapper.relationship("related-to", stix_incident, pattern, tlp, created))
        if victim is not None:
            out.append(mapper.relationship("targets", pattern, victim, tlp, created))
        addresses = [detection.target, *(s["address"] for s in detection.sources)]
        for row in indicators:
            if any(matches(row, address) for address in addresses):
                indicator = mapper.indicator(row)
                out += [
                    indicator,
                    mapper.relationship("indicates", indicator, pattern, tlp, created),
                ]
                if victim is not None:
                    out.append(mapper.sighting(indicator, observed, victim, tlp))
    for action in session.scalars(
        select(ActionRow).where(ActionRow.incident_id == incident.id).order_by(ActionRow.id)
    ):
        course = mapper.course_of_action(action, tlp)
        out += [course, mapper.relationship("related-to", course, stix_incident, tlp, created)]
    assessment = session.scalars(
        select(AssessmentRow)
        .where(AssessmentRow.incident_id == incident.id)
        .order_by(AssessmentRow.version.desc())
        .limit(1)
    ).first()
    if assessment is not None:
        out += [
            mapper.note(assessment, stix_incident, tlp),
            *mapper.opinions(assessment, stix_incident, tlp),
        ]
    out.append(mapper.report(incident, [o["id"] for o in out]))
    return out


def _add(objects: dict[str, StixObject], new: Sequence[StixObject]) -> None:
    for obj in new:
        objects.setdefault(obj["id"], obj)


def _tlp(obj: StixObject) -> str:
    return tlp_of(obj) or CLEAR
