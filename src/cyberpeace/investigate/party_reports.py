"""Incidents a party files itself, from a STIX 2.1 bundle or a MISP event, in one transaction.

The input is read by the existing parsers (``share/stix_bundle.py``, ``share/misp_event.py``) and
stored by the existing imports (``share/stix_import.py``: the objects kept whole in the mission's
intake collection; ``share/misp_import.py``: the event kept whole), so that a report is kept
like any other shared intelligence. On top of that the report becomes the party's incident:

* STIX: the bundle holds exactly one ``incident`` object (STIX 2.1 section 4.8); its indicators
  with a simple pattern, its cyber-observables (section 6, ``data/party_reports.yaml``) and its
  sightings' and observed data's times are the incident's. The incident's STIX id is kept
  (``stix_incidents``), so a later bundle with the same id updates the same incident.
* MISP: each event of the document is an incident (victim: the reporting party), updated when
  the same event uuid comes again with a newer ``timestamp``.

The values become the incident's indicators (``correlation.observe``, role ``reported``, or
source / target where MISP says so) and a ``report`` note records the filing in the timeline.
Anything wrong with the input (too large, not JSON, an invalid object, no incident) refuses the
whole report with the reason: the caller's transaction is then rolled back and nothing is kept.
A value that is no valid indicator is listed as refused and the others are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import msgspec
import yaml
from sqlalchemy.orm import Session

from cyberpeace.correlation import Context, IndicatorError, Side, observe
from cyberpeace.investigate.notes import add_note
from cyberpeace.share.misp_event import MispEvent, read_bytes
from cyberpeace.share.misp_import import MispImportResult, import_event, span
from cyberpeace.share.stix_bundle import BundleError, Parsed, parse_bundle
from cyberpeace.share.stix_import import INTAKE, ImportResult, import_parsed, pattern_indicator
from cyberpeace.store import Forbidden, IncidentDraft, Viewer, create_incident, get_incident
from cyberpeace.store.case_tables import StixIncidentRow
from cyberpeace.store.misp_events import MispEventRow
from cyberpeace.store.tables import IncidentRow, utcnow

STIX_MEDIA = "application/stix+json"
MISP_MEDIA = ("application/json", "application/misp+json")


class ReportRefused(ValueError):
    """The report cannot be filed; the message names what is wrong with it."""


class ReportTooLarge(ReportRefused):
    """The report is larger than ``max_bytes``."""


@dataclass
class Filed:
    """One incident filed or updated from a report."""

    incident_id: int
    outcome: str  # created, updated, or unchanged (a MISP event seen with this timestamp)
    source: str  # stix:incident--UUID or misp:UUID
    added: int = 0
    widened: int = 0
    refused: list[str] = field(default_factory=list)


@cache
def settings() -> dict[str, Any]:
    path = resources.files("cyberpeace.investigate").joinpath("data/party_reports.yaml")
    loaded: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return loaded


def format_of(media_type: str) -> str:
    """``stix`` or ``misp`` for a request's content type (its parameters ignored)."""
    base = media_type.split(";")[0].strip().lower()
    if base == STIX_MEDIA:
        return "stix"
    if base in MISP_MEDIA:
        return "misp"
    raise ReportRefused(
        f"content type {base or '(none)'!r}: send {STIX_MEDIA} (a STIX 2.1 bundle) "
        f"or {MISP_MEDIA[0]} (a MISP event)"
    )


def sniff(data: bytes) -> str:
    """``stix`` for a document whose top level is a STIX bundle, else ``misp``."""
    try:
        top = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ReportRefused(f"not valid JSON: {exc}") from None
    return "stix" if isinstance(top, dict) and top.get("type") == "bundle" else "misp"


def file_report(
    session: Session,
    viewer: Viewer,
    party: str,
    data: bytes,
    fmt: str,
    intelligence: Side | None = None,
) -> list[Filed]:
    """File ``data`` (``fmt``: stix or misp) as ``party``'s incident(s), in the caller's session."""
    if not viewer.may_see_party(party):
        raise Forbidden("a party files reports for itself only")
    limit = int(settings()["max_bytes"])
    if len(data) > limit:
        raise ReportTooLarge(f"the report is {len(data):,} bytes; at most {limit:,} are accepted")
    name = f"party:{party}" if viewer.party_id == party else f"party:{party} via {viewer.actor}"
    reporter = Viewer("party", party_id=party, name=name[:100])
    if fmt == "stix":
        return [_file_stix(session, reporter, data, intelligence)]
    if fmt == "misp":
        return _file_misp(session, reporter, data, intelligence)
    raise ReportRefused(f"unknown report format {fmt!r}; expected stix or misp")


def _file_stix(session: Session, reporter: Viewer, data: bytes, intelligence: Side | None) -> Filed:
    try:
        parsed = parse_bundle(data)
    except BundleError as exc:
        raise ReportRefused(str(exc)) from None
    if parsed.errors:
        shown = int(settings()["errors_named"])
        named = "; ".join(
            f"object {e.index} ({e.id or 'no id'}): {e.reason}" for e in parsed.errors[:shown]
        )
        more = f"; and {len(parsed.errors) - shown} more" if len(parsed.errors) > shown else ""
        raise ReportRefused(f"the bundle has {len(parsed.errors)} invalid object(s): {named}{more}")
    bodies = {obj.id: msgspec.json.decode(obj.body) for obj in parsed.valid}
    incidents = [obj for obj in parsed.valid if obj.type == "incident"]
    if len(incidents) != 1:
        raise ReportRefused(
            f"a report bundle holds exactly one incident object; this one holds {len(incidents)}"
        )
    incident_obj = incidents[0]
    body = bodies[incident_obj.id]
    first, last = _stix_span(bodies.values())
    held = session.get(StixIncidentRow, incident_obj.id)
    if held is not None and held.party_id != reporter.party_id:
        raise Forbidden(f"{incident_obj.id} was filed by another party")
    title = str(body.get("name") or "Incident reported in STIX")[:300]
    summary = str(body.get("description") or "")
    if held is None:
        draft = IncidentDraft(
            title=title,
            party=str(reporter.party_id),
            severity=str(settings()["stix_severity"]),
            first_seen=first,
            last_seen=last,
            tlp=incident_obj.tlp or str(settings()["default_tlp"]),
            summary=summary,
        )
        incident_id = create_incident(session, reporter, draft).id
        session.add(
            StixIncidentRow(
                stix_id=incident_obj.id, incident_id=incident_id, party_id=reporter.party_id
            )
        )
        outcome = "created"
    else:
        incident_id = held.incident_id
        _refresh(session, reporter, incident_id, title, summary, first, last)
        outcome = "updated"
    import_parsed(session, parsed, ImportResult(), collection=INTAKE, added_by=reporter.actor)
    filed = Filed(incident_id, outcome, f"stix:{incident_obj.id}")
    values = _stix_values(parsed, bodies, filed)
    _observe(session, filed, values, (first, last), reporter, intelligence)
    what = f"STIX bundle {parsed.bundle_id or '(no id)'}, incident {incident_obj.id}"
    _note(session, reporter, filed, f"{what}, {len(parsed.valid)} objects")
    return filed


def _stix_values(
    parsed: Parsed, bodies: dict[str, dict[str, Any]], filed: Filed
) -> list[tuple[str, str, str]]:
    observables: dict[str, str] = settings()["observables"]
    values: list[tuple[str, str, str]] = []
    for obj in parsed.valid:
        body = bodies[obj.id]
        if obj.type == "indicator":
            found = pattern_indicator(body)
            if found is None:
                filed.refused.append(f"{obj.id}: pattern is not one simple comparison; not indexed")
            else:
                values.append((*found, "reported"))
        elif obj.type in observables:
            held = body.get(observables[obj.type])
            if obj.type == "file" and isinstance(held, dict):
                values += [("hash", str(v), "reported") for v in held.values()]
            elif obj.type == "autonomous-system" and held is not None:
                values.append(("asn", f"AS{held}", "reported"))
            elif isinstance(held, str):
                values.append((obj.type, held, "reported"))
    return values


def _stix_span(bodies: Any) -> tuple[datetime, datetime]:
    """First and last moment the report names: sightings, observed data, then its objects."""
    seen: list[datetime] = []
    made: list[datetime] = []
    for body in bodies:
        for key in ("first_seen", "last_seen", "first_observed", "last_observed"):
            if isinstance(body.get(key), str):
                seen.append(_when(body[key]))
        if body.get("type") == "incident":
            made += [_when(body[key]) for key in ("created", "modified") if key in body]
    moments = seen or made or [utcnow()]
    return min(moments), max(moments)


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _file_misp(
    session: Session, reporter: Viewer, data: bytes, intelligence: Side | None
) -> list[Filed]:
    read = read_bytes(data, "report")
    if read.errors:
        raise ReportRefused(
            "; ".join(str(e) for e in read.errors[: int(settings()["errors_named"])])
        )
    if not read.events:
        raise ReportRefused("the document holds no MISP event")
    out = []
    for event in read.events:
        held = session.get(MispEventRow, event.uuid)
        if held is not None and held.incident_id is not None:
            filed_as = session.get(IncidentRow, held.incident_id)
            if filed_as is not None and filed_as.party_id != reporter.party_id:
                raise Forbidden(f"MISP event {event.uuid} was filed by another party")
        result = MispImportResult()
        tlp = str(settings()["default_tlp"])
        import_event(
            session, event, result, default_tlp=tlp, added_by=reporter.actor, reporter=reporter
        )
        row = session.get(MispEventRow, event.uuid)
        if row is None or row.incident_id is None:  # imported before, unfiled, not newer
            raise ReportRefused(
                f"MISP event {event.uuid} was imported before without a victim; "
                "send it again with a newer timestamp to file it"
            )
        if result.unchanged:
            out.append(Filed(row.incident_id, "unchanged", f"misp:{event.uuid}"))
            continue
        filed = Filed(
            row.incident_id, "created" if result.incidents else "updated", f"misp:{event.uuid}"
        )
        _observe(session, filed, _misp_values(event), span(event), reporter, intelligence)
        _note(
            session, reporter, filed, f"MISP event {event.uuid} of {event.org}: {event.info[:200]}"
        )
        out.append(filed)
    return out


def _misp_values(event: MispEvent) -> list[tuple[str, str, str]]:
    return [
        (a.indicator.kind, a.indicator.value, a.role or "reported")
        for a in event.attributes
        if a.indicator is not None and a.to_ids
    ]


def _observe(
    session: Session,
    filed: Filed,
    values: list[tuple[str, str, str]],
    when: tuple[datetime, datetime],
    reporter: Viewer,
    intelligence: Side | None,
) -> None:
    context = Context(when[0], when[1], "report", f"party:{reporter.party_id}")
    try:
        seen = observe(session, filed.incident_id, values, context, intelligence)
    except IndicatorError as exc:
        raise ReportRefused(str(exc)) from None
    filed.added, filed.widened = seen.added, seen.widened
    filed.refused += seen.refused


def _refresh(
    session: Session,
    reporter: Viewer,
    incident_id: int,
    title: str,
    summary: str,
    first: datetime,
    last: datetime,
) -> None:
    incident: IncidentRow = get_incident(session, reporter, incident_id)
    incident.title, incident.summary = title, summary or incident.summary
    incident.first_seen = min(incident.first_seen, first)
    incident.last_seen = max(incident.last_seen, last)
    incident.updated_at = utcnow()


def _note(session: Session, reporter: Viewer, filed: Filed, what: str) -> None:
    text = (
        f"Report {filed.outcome} from {what}: {filed.added} indicator(s) added, "
        f"{filed.widened} seen again, {len(filed.refused)} refused."
    )
    add_note(session, reporter, filed.incident_id, text, "report")
