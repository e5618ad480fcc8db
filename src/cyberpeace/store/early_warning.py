"""Early warning: precursors of an attack become warning Messages to the party concerned.

Four precursors warn (the issue's item 5; DESIGN.md "warn of impending attacks"):

- a scan of the party's territory or safe area (a detector of stage ``precursor``);
- a rising baseline (the ``baseline`` detector: a host or safe area far above its own rate);
- an indicator hit (a detection whose sources or target met an intelligence indicator, i.e. a
  sighting recorded for it, ``correlation/sightings.py``);
- an attack on one party whose pattern (the same kind, and a shared source address or port)
  was seen against another party before: the attacked party is told it may be one campaign,
  and the party attacked before that the campaign is active again. Neither is told who the
  other party is.

Warnings are deduplicated: a warning to the same party for the same cause (the scanner, the
indicator, the baselined target, the earlier attack) within ``window_s`` (data/early_warning.yaml)
of the last one is the same message, whose ``count`` and ``last_seen`` grow and whose severity
rises to the highest seen. An acknowledged message is not reopened: the next one is new.
Times are the detections' own (when the traffic was seen), so replayed telemetry warns as live
telemetry would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.store import audit
from cyberpeace.store.correlation_tables import SightingRow
from cyberpeace.store.tables import (
    DetectionRow,
    IncidentRow,
    IndicatorRow,
    MessageRow,
    SafeAreaRow,
)

KIND = "early-warning"
ACTOR = "mission:early-warning"
LEVELS = ("low", "medium", "high", "critical")
SYSTEM_PORTS = 1024
MAX_LISTED = 20  # detections a message lists by id (its count goes on)


@dataclass(frozen=True)
class Cause:
    """One reason to warn: what, to whom, how severe, and the words of the message."""

    name: str  # precursor, baseline, indicator, pattern, pattern_elsewhere
    key: str  # what makes two warnings the same (with the party)
    party: str
    severity: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Rules:
    window: timedelta
    lookback: timedelta
    candidates: int
    causes: dict[str, dict[str, str]]


@cache
def rules() -> Rules:
    """The warning rules of ``detect/data/early_warning.yaml``; a malformed file raises."""
    data = resources.files("cyberpeace.detect").joinpath("data/early_warning.yaml")
    loaded = yaml.safe_load(data.read_text("utf-8"))
    causes = {str(k): {str(f): str(v) for f, v in c.items()} for k, c in loaded["causes"].items()}
    for name, cause in causes.items():
        missing = {"severity", "subject", "body"} - set(cause)
        if missing:
            raise ValueError(f"data/early_warning.yaml: cause {name} lacks {sorted(missing)}")
        if cause["severity"] not in (*LEVELS, "detection"):
            raise ValueError(f"data/early_warning.yaml: cause {name}: unknown severity")
    return Rules(
        timedelta(seconds=int(loaded["window_s"])),
        timedelta(seconds=int(loaded["pattern_lookback_s"])),
        int(loaded["pattern_candidates"]),
        causes,
    )


def warn_of(
    session: Session, detection: DetectionRow, incident: IncidentRow | None = None
) -> list[MessageRow]:
    """The warnings a newly recorded detection gives (new messages or repeats of open ones),
    in the caller's transaction. Call it once per detection, after its sightings are recorded."""
    party = detection.party_id or _area_party(session, detection.safe_area_id)
    causes: list[Cause] = []
    if party is not None:
        causes += _precursor(detection, party)
        if detection.kind != "indicator-hit":  # that detection is the indicator's warning
            causes += _indicators(session, detection, party)
    causes += _patterns(session, detection, party)
    return [_send(session, detection, incident, cause) for cause in causes]


def acknowledge(session: Session, message: MessageRow, by: str, at: datetime) -> MessageRow:
    """Mark ``message`` read and acted on (the caller checked the viewer may)."""
    if message.acknowledged_at is None:
        message.acknowledged_at, message.acknowledged_by = at, by
        session.flush()
        audit.append(session, by, "message.ack", f"message:{message.id}", {})
    return message


# --- the causes -------------------------------------------------------------------------------


def _precursor(detection: DetectionRow, party: str) -> list[Cause]:
    stage = detection.explanation.get("stage")
    if detection.detector == "baseline":
        name, key = "baseline", f"baseline:{detection.target}"
    elif stage == "precursor":
        source = _main_source(detection)
        name, key = "precursor", f"precursor:{detection.kind}:{source}"
    else:
        return []
    return [Cause(name, key, party, _severity(name, detection), _fields(detection))]


def _indicators(session: Session, detection: DetectionRow, party: str) -> list[Cause]:
    met = session.execute(
        select(IndicatorRow, SightingRow.value)
        .join(SightingRow, SightingRow.indicator_id == IndicatorRow.id)
        .where(SightingRow.detection_id == detection.id)
        .order_by(IndicatorRow.id)
    ).all()
    causes, seen = [], set()
    for indicator, value in met:
        if indicator.id in seen:
            continue
        seen.add(indicator.id)
        fields = _fields(detection) | {
            "value": value,
            "indicator_kind": indicator.kind,
            "indicator_source": indicator.source,
        }
        key = f"indicator:{indicator.id}"
        causes.append(Cause("indicator", key, party, _severity("indicator", detection), fields))
    return causes


def _patterns(session: Session, detection: DetectionRow, party: str | None) -> list[Cause]:
    """The warnings of an attack whose kind, and a source or port, an earlier attack on another
    party shared: to the party attacked now, and to the party attacked before."""
    if party is None or detection.explanation.get("stage", "attack") != "attack":
        return []
    if detection.detector == "baseline":
        return []
    addresses, ports = _signature(detection)
    if not addresses and not ports:
        return []
    r = rules()
    earlier = session.scalars(
        select(DetectionRow)
        .where(
            DetectionRow.kind == detection.kind,
            DetectionRow.party_id.is_not(None),
            DetectionRow.party_id != party,
            DetectionRow.id != detection.id,
            DetectionRow.start <= detection.start,
            DetectionRow.start >= detection.start - r.lookback,
        )
        .order_by(DetectionRow.start.desc())
        .limit(r.candidates)
    )
    causes: list[Cause] = []
    told: set[str] = set()
    for other in earlier:  # newest first: the latest attack on each other party
        if other.party_id is None or other.party_id in told:
            continue
        theirs_addresses, theirs_ports = _signature(other)
        shared = _shared(addresses & theirs_addresses, ports & theirs_ports)
        if not shared:
            continue
        told.add(other.party_id)
        here = _fields(detection) | {
            "shared": shared,
            "other_start": _when(other.start),
            "other_target": other.target,
        }
        # The keys name the other party by a digest only: a party is not told who else was hit.
        mine, theirs = _pseudonym(party), _pseudonym(other.party_id)
        causes.append(Cause("pattern", f"pattern:{detection.kind}:{theirs}", party, "", here))
        causes.append(
            Cause(
                "pattern_elsewhere",
                f"pattern_elsewhere:{detection.kind}:{mine}",
                other.party_id,
                "",
                here,
            )
        )
    return [Cause(c.name, c.key, c.party, _severity(c.name, detection), c.fields) for c in causes]


def _signature(detection: DetectionRow) -> tuple[set[str], set[int]]:
    """A detection's source addresses, and the system ports (below 1024, RFC 6335 section 6)
    its sources sent from: an amplifier's service port is a pattern, an ephemeral port that two
    floods happen to share is not."""
    addresses = {str(s["address"]) for s in detection.sources if s.get("address")}
    ports = {
        int(s["port"])
        for s in detection.sources
        if s.get("port") is not None and 0 < int(s["port"]) < SYSTEM_PORTS
    }
    return addresses, ports


def _pseudonym(party: str) -> str:
    return hashlib.sha256(party.encode("utf-8")).hexdigest()[:16]


def _shared(addresses: set[str], ports: set[int]) -> str:
    parts = []
    if addresses:
        listed = ", ".join(sorted(addresses)[:3]) + (" ..." if len(addresses) > 3 else "")
        parts.append(
            f"{len(addresses)} source address{'es' if len(addresses) > 1 else ''} ({listed})"
        )
    if ports:
        listed = ", ".join(str(p) for p in sorted(ports)[:5])
        parts.append(f"port{'s' if len(ports) > 1 else ''} {listed}")
    return " and ".join(parts)


# --- one message per party and cause ------------------------------------------------------------


def _send(
    session: Session, detection: DetectionRow, incident: IncidentRow | None, cause: Cause
) -> MessageRow:
    window = rules().window
    open_row = session.scalars(
        select(MessageRow)
        .where(
            MessageRow.to_party_id == cause.party,
            MessageRow.cause == cause.key,
            MessageRow.acknowledged_at.is_(None),
            MessageRow.last_seen >= detection.start - window,
        )
        .order_by(MessageRow.last_seen.desc())
        .limit(1)
    ).first()
    if open_row is not None:
        return _repeat(session, open_row, detection, cause)
    text = rules().causes[cause.name]
    row = MessageRow(
        kind=KIND,
        severity=cause.severity,
        to_party_id=cause.party,
        incident_id=_incident_of(incident, cause.party),
        subject=text["subject"].format(**cause.fields)[:300],
        body=text["body"].format(**cause.fields),
        cause=cause.key[:200],
        count=1,
        first_seen=detection.start,
        last_seen=detection.end,
        detection_id=detection.id,
        details={"precursor": cause.name, "detections": [detection.id]},
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        ACTOR,
        "message.create",
        f"message:{row.id}",
        {"to": cause.party, "cause": cause.key, "severity": cause.severity},
    )
    return row


def _repeat(session: Session, row: MessageRow, detection: DetectionRow, cause: Cause) -> MessageRow:
    row.count = (row.count or 1) + 1
    row.last_seen = max(row.last_seen or detection.end, detection.end)
    row.first_seen = min(row.first_seen or detection.start, detection.start)
    if LEVELS.index(cause.severity) > LEVELS.index(row.severity):
        row.severity = cause.severity
    details = dict(row.details or {})
    listed = list(details.get("detections", []))
    if len(listed) < MAX_LISTED and detection.id not in listed:
        listed.append(detection.id)
    details["detections"] = listed
    row.details = details
    session.flush()
    audit.append(
        session,
        ACTOR,
        "message.repeat",
        f"message:{row.id}",
        {"count": row.count, "detection": detection.id, "severity": row.severity},
    )
    return row


# --- words ------------------------------------------------------------------------------------


def _severity(name: str, detection: DetectionRow) -> str:
    level = rules().causes[name]["severity"]
    if level == "detection":
        return detection.severity if detection.severity in LEVELS else "medium"
    return level


def _fields(detection: DetectionRow) -> dict[str, str]:
    summary = str(detection.explanation.get("summary", "")).strip()
    if summary and not summary.endswith("."):
        summary += "."
    return {
        "kind": detection.kind,
        "target": detection.target,
        "where": f" (safe area {detection.safe_area_id})" if detection.safe_area_id else "",
        "source": _main_source(detection),
        "start": _when(detection.start),
        "end": _when(detection.end),
        "summary": summary,
    }


def _main_source(detection: DetectionRow) -> str:
    sources: list[dict[str, Any]] = detection.sources
    return str(sources[0]["address"]) if sources else "an unknown source"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _incident_of(incident: IncidentRow | None, party: str) -> int | None:
    """The incident a warning belongs to: the detection's, when it is the same party's."""
    return incident.id if incident is not None and incident.party_id == party else None


def _area_party(session: Session, safe_area: str | None) -> str | None:
    if safe_area is None:
        return None
    area = session.get(SafeAreaRow, safe_area)
    return None if area is None else area.party_id
