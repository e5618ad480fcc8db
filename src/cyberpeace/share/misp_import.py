"""Import of MISP events into the case store.

Each good event is kept whole (``misp_events``), its IDS attributes (``to_ids``) of a mapped type
become indicators of the sending organisation with the event's TLP (or the attribute's, if more
restricted), and, when its victim is known, it is filed as a reported incident. The victim is
the party named by the mission's ``cyberpeace:victim`` tag, or else the party whose territory
holds a target address (``ip-dst``) of the event. An event seen again is updated only when its
``timestamp`` is newer. Each event is its own transaction: one that is refused leaves the others.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.share.misp_event import MispEvent, read_path
from cyberpeace.share.misp_types import misp_table
from cyberpeace.share.tlp import most_restrictive
from cyberpeace.store import audit
from cyberpeace.store.access import Viewer
from cyberpeace.store.database import Store
from cyberpeace.store.incidents import SEVERITIES, IncidentDraft, create_incident
from cyberpeace.store.indicators import upsert_indicator
from cyberpeace.store.misp_events import MispEventRow
from cyberpeace.store.tables import IncidentRow, PartyRow, utcnow

UNMARKED_TLP = "TLP:AMBER"  # as for STIX: unmarked is restricted until an analyst says


@dataclass
class MispImportResult:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    indicators: int = 0
    kept: int = 0  # attributes of types that make no indicator, kept with their event
    incidents: int = 0
    unfiled: list[str] = field(default_factory=list)  # events whose victim is not known
    refused: list[str] = field(default_factory=list)


def import_misp(
    store: Store, path: Path, *, default_tlp: str = UNMARKED_TLP, added_by: str = "misp-import"
) -> MispImportResult:
    """Import every event of a file or feed folder; refused events are listed with the reason."""
    read = read_path(path)
    result = MispImportResult(refused=[str(error) for error in read.errors])
    for event in read.events:
        with store.session() as session:
            import_event(session, event, result, default_tlp=default_tlp, added_by=added_by)
    return result


def import_event(
    session: Session,
    event: MispEvent,
    result: MispImportResult,
    *,
    default_tlp: str,
    added_by: str,
    reporter: Viewer | None = None,
) -> None:
    """One event; ``reporter``, a party filing its own report, is the victim and the reporter."""
    row = session.get(MispEventRow, event.uuid)
    if row is not None and row.timestamp >= event.timestamp:
        result.unchanged += 1
        return
    tlp = event.tlp or default_tlp
    _indicators(session, event, tlp, result)
    incident_id = row.incident_id if row is not None else None
    victim = reporter.party_id if reporter is not None else victim_of(session, event)
    if incident_id is not None:
        _refresh(session, incident_id, event)
    elif victim is not None:
        incident_id = _file(session, event, victim, tlp, reporter)
        result.incidents += 1
    else:
        result.unfiled.append(f"{event.uuid} ({event.info[:60]}): no victim party known")
    if row is None:
        row = MispEventRow(uuid=event.uuid, imported_by=added_by)
        session.add(row)
        result.imported += 1
    else:
        result.updated += 1
    row.info, row.org, row.timestamp, row.tlp = event.info, event.org, event.timestamp, tlp
    row.incident_id, row.galaxies, row.imported_at = incident_id, event.galaxies, utcnow()
    row.body = json.dumps({"Event": event.body}, ensure_ascii=False, sort_keys=True)
    session.flush()
    audit.append(
        session,
        added_by,
        "misp.import",
        f"misp:{event.uuid}",
        {"info": event.info[:200], "org": event.org, "incident": incident_id, "tlp": tlp},
    )


def _indicators(session: Session, event: MispEvent, tlp: str, result: MispImportResult) -> None:
    valid_from = datetime.combine(event.date, time(), UTC)
    for attribute in event.attributes:
        if attribute.indicator is None:
            result.kept += 1
            continue
        if not attribute.to_ids:
            continue
        upsert_indicator(
            session,
            kind=attribute.indicator.kind,
            value=attribute.indicator.value,
            source=f"misp:{event.org}",
            tlp=most_restrictive([tlp, attribute.tlp or tlp]) or tlp,
            valid_from=valid_from,
        )
        result.indicators += 1


def victim_of(session: Session, event: MispEvent) -> str | None:
    """The party the event is against: named by the victim tag, or holding a target address."""
    named = event.tag_value(misp_table()["victim_tag"])
    if named is not None and session.get(PartyRow, named) is not None:
        return named
    targets = [
        ipaddress.ip_network(a.indicator.value, strict=False)
        for a in event.attributes
        if a.role == "target" and a.indicator is not None
    ]
    if not targets:
        return None
    for party in session.scalars(select(PartyRow).order_by(PartyRow.id)):
        prefixes = [ipaddress.ip_network(p) for p in party.territory.get("prefixes", [])]
        if any(
            t.version == p.version and t.subnet_of(p)  # type: ignore[arg-type]
            for t in targets
            for p in prefixes
        ):
            return party.id
    return None


def span(event: MispEvent) -> tuple[datetime, datetime]:
    table = misp_table()
    firsts, lasts = [], []
    for attribute in event.attributes:
        moment = _moment(attribute.value) if attribute.relation else None
        if moment is None:
            continue
        if attribute.relation in table["first_seen_relations"]:
            firsts.append(moment)
        elif attribute.relation in table["last_seen_relations"]:
            lasts.append(moment)
    start = min(firsts) if firsts else datetime.combine(event.date, time(), UTC)
    return start, max([start, *lasts])


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _severity(event: MispEvent) -> str:
    severity: str = misp_table()["severity_of_threat_level"][event.threat_level]
    return severity


def _summary(event: MispEvent) -> str:
    sources = sorted(
        {a.indicator.value for a in event.attributes if a.role == "source" and a.indicator}
    )
    parts = [f"Reported in MISP event {event.uuid} of {event.org}: {event.info}"]
    if sources:
        shown = ", ".join(sources[:20]) + (" ..." if len(sources) > 20 else "")
        parts.append(f"Sources ({len(sources)}): {shown}")
    if event.galaxies:
        parts.append("Galaxies: " + "; ".join(event.galaxies[:20]))
    return "\n".join(parts)


def _file(
    session: Session, event: MispEvent, victim: str, tlp: str, reporter: Viewer | None
) -> int:
    first, last = span(event)
    draft = IncidentDraft(
        title=event.info[:300],
        party=victim,
        severity=_severity(event),
        first_seen=first,
        last_seen=last,
        tlp=tlp,
        summary=_summary(event),
    )
    if reporter is None:
        reporter = Viewer("staff", name=f"misp:{event.org}"[:100])
    return create_incident(session, reporter, draft).id


def _refresh(session: Session, incident_id: int, event: MispEvent) -> None:
    """A newer version of an event already filed: its title, span, severity and summary."""
    incident = session.get(IncidentRow, incident_id)
    if incident is None:
        return
    first, last = span(event)
    incident.title, incident.summary = event.info[:300], _summary(event)
    incident.first_seen = min(incident.first_seen, first)
    incident.last_seen = max(incident.last_seen, last)
    severity = _severity(event)
    if SEVERITIES.index(severity) > SEVERITIES.index(incident.severity):
        incident.severity = severity
    incident.updated_at = utcnow()
