"""Export of an incident as a MISP event (MISP core format, draft-dulaunoy-misp-core-format).

The event carries the incident's title (``info``), first day, threat level (from severity),
analysis (from status), distribution and ``tlp:`` tag (from its TLP), and the victim party as
the mission's ``cyberpeace:victim`` tag. Attributes: each detection's target (``ip-dst``, not
for IDS: it is the victim) and sources (``ip-src``, for IDS), and the indicators of the store
that the detections sighted. Objects: a ``ddos`` object per flood or reflection detection, a
``network-connection`` object per source of a scan or brute force, after the misp-objects
templates. Identifiers are derived from the mission and the records, so exporting again gives
the same event. Values are strings and numbers are written as MISP writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.share.misp_types import misp_table
from cyberpeace.share.stix_ids import MissionIds
from cyberpeace.share.stix_mapping import mapping_table, matches
from cyberpeace.store.access import Viewer
from cyberpeace.store.incidents import get_incident
from cyberpeace.store.tables import DetectionRow, IncidentRow, IndicatorRow

MispObject = dict[str, Any]


def export_event(
    session: Session, viewer: Viewer, mission_id: str, mission_name: str, incident_id: int
) -> dict[str, Any]:
    """``{"Event": {...}}`` for one incident the viewer may see."""
    incident = get_incident(session, viewer, incident_id)
    ids = _Ids(MissionIds(mission_id), incident.id)
    table = misp_table()
    stamp = str(int(incident.updated_at.timestamp()))
    indicators = list(session.scalars(select(IndicatorRow).order_by(IndicatorRow.id)))
    attributes = _Attributes(ids, stamp)
    objects: list[MispObject] = []
    for detection in incident.detections:
        attributes.add("ip-dst", detection.target, False, f"target of {detection.kind}")
        for source in detection.sources:
            attributes.add("ip-src", source["address"], True, f"source of {detection.kind}")
        objects += _objects(ids, stamp, detection)
        addresses = [detection.target, *(s["address"] for s in detection.sources)]
        for row in indicators:
            if any(matches(row, address) for address in addresses):
                attributes.add_indicator(row)
    return {
        "Event": {
            "uuid": ids.of("event"),
            "info": incident.title,
            "date": incident.first_seen.astimezone(UTC).date().isoformat(),
            "timestamp": stamp,
            "published": False,
            "threat_level_id": str(table["threat_level_of_severity"][incident.severity]),
            "analysis": str(table["analysis_of_status"][incident.status]),
            "distribution": str(table["distribution_of_tlp"][incident.tlp]),
            "Orgc": {"name": mission_name, "uuid": str(ids.mission.uuid("misp/org"))},
            "Tag": [{"name": name} for name in _event_tags(incident)],
            "Attribute": attributes.rows,
            "Object": objects,
        }
    }


class _Ids:
    def __init__(self, mission: MissionIds, incident: int) -> None:
        self.mission, self.incident = mission, incident

    def of(self, *key: object) -> str:
        name = "/".join(["misp", "incident", str(self.incident), *(str(k) for k in key)])
        return str(self.mission.uuid(name))


def _tlp_tag(level: str) -> str:
    for tag, mapped in misp_table()["tlp_tags"].items():
        if mapped == level and tag != "tlp:white":
            return str(tag)
    raise ValueError(f"no MISP tag for {level}")


def _event_tags(incident: IncidentRow) -> list[str]:
    table = misp_table()
    tags = [_tlp_tag(incident.tlp), f'{table["victim_tag"]}="{incident.party_id}"']
    for kind in sorted({d.kind for d in incident.detections}):
        tags.append(f'{table["kind_tag"]}="{kind}"')
    return tags


def _attribute(
    ids: _Ids, stamp: str, kind: str, value: str, to_ids: bool, comment: str, *key: object
) -> dict[str, Any]:
    return {
        "uuid": ids.of(*key, kind, value),
        "type": kind,
        "category": misp_table()["categories"][kind],
        "value": value,
        "to_ids": to_ids,
        "comment": comment,
        "distribution": "5",  # inherit the event's
        "timestamp": stamp,
        "disable_correlation": False,
    }


class _Attributes:
    """The event's attributes, one per type and value (the first comment kept)."""

    def __init__(self, ids: _Ids, stamp: str) -> None:
        self.ids, self.stamp = ids, stamp
        self.rows: list[dict[str, Any]] = []
        self._seen: dict[tuple[str, str], dict[str, Any]] = {}

    def add(
        self, kind: str, value: str, to_ids: bool, comment: str, tlp: str | None = None
    ) -> None:
        known = self._seen.get((kind, value))
        if known is not None:
            known["to_ids"] = known["to_ids"] or to_ids
            return
        row = _attribute(self.ids, self.stamp, kind, value, to_ids, comment, "attribute")
        if tlp is not None:
            row["Tag"] = [{"name": _tlp_tag(tlp)}]
        self._seen[(kind, value)] = row
        self.rows.append(row)

    def add_indicator(self, row: IndicatorRow) -> None:
        table = misp_table()
        if row.kind == "hash":
            kind = table["export_hash_types"].get(len(row.value))
        else:
            kind = table["export_types"].get(row.kind)
        if kind is not None:
            self.add(kind, row.value, True, f"indicator from {row.source}", row.tlp)


def _objects(ids: _Ids, stamp: str, detection: DetectionRow) -> list[MispObject]:
    template = misp_table()["detection_templates"].get(detection.kind)
    if template == "ddos":
        return [_ddos(ids, stamp, detection)]
    if template == "network-connection":
        return [_connection(ids, stamp, detection, i) for i in range(len(detection.sources))]
    return []


def _protocol(detection: DetectionRow) -> str:
    protocols = mapping_table()["detection_kinds"].get(detection.kind, {}).get("protocols", [])
    last = protocols[-1] if protocols else "ip"
    return "IP" if last.startswith("ipv") else str(last).upper()


def _object(
    ids: _Ids, stamp: str, name: str, key: Sequence[object], comment: str
) -> tuple[MispObject, list[dict[str, Any]]]:
    template = misp_table()["templates"][name]
    attributes: list[dict[str, Any]] = []
    obj = {
        "uuid": ids.of(*key),
        "name": name,
        "meta-category": template["meta-category"],
        "description": template["description"],
        "template_uuid": template["uuid"],
        "template_version": str(template["version"]),
        "distribution": "5",
        "timestamp": stamp,
        "comment": comment,
        "Attribute": attributes,
    }
    return obj, attributes


def _relation(
    ids: _Ids, stamp: str, key: Sequence[object], relation: str, kind: str, value: object
) -> dict[str, Any]:
    to_ids = kind == "ip-src"
    row = _attribute(ids, stamp, kind, str(value), to_ids, "", *key, relation)
    row["object_relation"] = relation
    return row


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _ddos(ids: _Ids, stamp: str, detection: DetectionRow) -> MispObject:
    key = ("detection", detection.id)
    obj, rows = _object(ids, stamp, "ddos", key, f"{detection.kind} ({detection.detector})")
    pairs: list[tuple[str, str, object]] = [
        ("ip-dst", "ip-dst", detection.target),
        ("protocol", "text", _protocol(detection)),
        ("first-seen", "datetime", _when(detection.start)),
        ("last-seen", "datetime", _when(detection.end)),
        ("type", "text", detection.kind),
    ]
    pairs += [("ip-src", "ip-src", s["address"]) for s in detection.sources]
    ports = sorted({s["port"] for s in detection.sources if s.get("port") is not None})
    pairs += [("src-port", "port", port) for port in ports]
    magnitude = detection.magnitude
    for relation, name in (("total-pps", "peak_pps"), ("total-bps", "peak_bps")):
        if name in magnitude:
            pairs.append((relation, "integer", round(float(magnitude[name]))))
    rows += [_relation(ids, stamp, key, *pair) for pair in pairs]
    return obj


def _connection(ids: _Ids, stamp: str, detection: DetectionRow, index: int) -> MispObject:
    source = detection.sources[index]
    key = ("detection", detection.id, "source", index)
    name = "network-connection"
    obj, rows = _object(ids, stamp, name, key, f"{detection.kind} ({detection.detector})")
    pairs: list[tuple[str, str, object]] = [
        ("ip-src", "ip-src", source["address"]),
        ("ip-dst", "ip-dst", detection.target),
        ("layer4-protocol", "text", _protocol(detection)),
        ("first-packet-seen", "datetime", _when(detection.start)),
        ("last-packet-seen", "datetime", _when(detection.end)),
        ("src-packets-count", "counter", source.get("packets", 0)),
        ("src-bytes-count", "size-in-bytes", source.get("bytes", 0)),
    ]
    if source.get("port") is not None:
        pairs.append(("src-port", "port", source["port"]))
    rows += [_relation(ids, stamp, key, *pair) for pair in pairs]
    return obj
