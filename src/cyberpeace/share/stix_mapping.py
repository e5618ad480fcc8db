"""The mission's records as STIX 2.1 objects (sections 4-7), with deterministic ids.

One function per kind of record. Every object is created by the mission's identity and marked
with the TLP of the incident it comes from; identities, locations and attack-patterns are facts
any party may know and are marked TLP:CLEAR. Timestamps are the records' own (opened, updated,
detected), never the time of export, so exporting again gives the same objects.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import pycountry
import yaml

from cyberpeace.share.stix_ids import MissionIds, sco_id
from cyberpeace.share.tlp import marking_id
from cyberpeace.store.tables import (
    ActionRow,
    AssessmentRow,
    DetectionRow,
    IncidentRow,
    IndicatorRow,
    PartyRow,
)

StixObject = dict[str, Any]
CLEAR = "TLP:CLEAR"


@cache
def mapping_table() -> dict[str, Any]:
    path = resources.files("cyberpeace.share").joinpath("data/stix_mapping.yaml")
    table: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return table


def timestamp(moment: datetime) -> str:
    """A STIX timestamp with milliseconds (section 3.2: created/modified precision)."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Mapper:
    """Turns one mission's records into STIX objects."""

    mission_id: str
    mission_name: str
    epoch: str = "2020-01-01T00:00:00.000Z"  # created time of the mission's own identity

    @property
    def ids(self) -> MissionIds:
        return MissionIds(self.mission_id)

    @property
    def mission_ref(self) -> str:
        return self.ids.of("identity", "mission")

    def _sdo(
        self, kind: str, key: tuple[object, ...], created: str, modified: str, tlp: str
    ) -> StixObject:
        return {
            "type": kind,
            "spec_version": "2.1",
            "id": self.ids.of(kind, *key),
            "created": created,
            "modified": max(created, modified),
            "created_by_ref": self.mission_ref,
            "object_marking_refs": [marking_id(tlp)],
        }

    def mission_identity(self) -> StixObject:
        obj = self._sdo("identity", ("mission",), self.epoch, self.epoch, CLEAR)
        obj.update(
            name=self.mission_name,
            identity_class="organization",
            description="The cyber peacekeeping mission that produced these objects.",
        )
        return obj

    def party_identity(self, party: PartyRow) -> StixObject:
        stamp = timestamp(party.updated_at)
        obj = self._sdo("identity", ("party", party.id), stamp, stamp, CLEAR)
        obj.update(
            name=party.name,
            identity_class="organization",
            sectors=["government-national"],
            external_references=[{"source_name": "cyberpeace-party", "external_id": party.id}],
        )
        return obj

    def location(self, party: PartyRow) -> StixObject | None:
        """The party's country; None for codes ISO 3166-1 does not assign (fictional states)."""
        if pycountry.countries.get(alpha_2=party.country) is None:
            return None
        stamp = timestamp(party.updated_at)
        obj = self._sdo("location", ("country", party.country), stamp, stamp, CLEAR)
        obj.update(name=party.country, country=party.country)
        return obj

    def relationship(
        self, kind: str, source: StixObject, target: StixObject, tlp: str, created: str
    ) -> StixObject:
        obj = self._sdo("relationship", (source["id"], kind, target["id"]), created, created, tlp)
        obj.update(relationship_type=kind, source_ref=source["id"], target_ref=target["id"])
        return obj

    def incident(self, row: IncidentRow) -> StixObject:
        table = mapping_table()
        status = table["incident_status"][row.status]
        obj = self._sdo(
            "incident",
            ("incident", row.id),
            timestamp(row.opened_at),
            timestamp(row.updated_at),
            row.tlp,
        )
        obj.update(
            name=row.title,
            description=row.summary or row.title,
            external_references=[
                {"source_name": "cyberpeace", "external_id": f"incident-{row.id}"}
            ],
            extensions={
                table["incident_extension"]: {
                    "extension_type": "property-extension",
                    "investigation_status": status["investigation_status"],
                    "determination": status["determination"],
                    "criticality": table["criticality"][row.severity],
                }
            },
        )
        return obj

    def attack_pattern(self, kind: str) -> StixObject:
        entry = mapping_table()["detection_kinds"].get(kind)
        obj = self._sdo("attack-pattern", ("kind", kind), self.epoch, self.epoch, CLEAR)
        if entry is None:
            obj.update(name=kind)
            return obj
        # No url: a reference with a url SHOULD carry the hash of what it points to (2.3).
        obj.update(
            name=entry["name"],
            external_references=[
                {"source_name": "mitre-attack", "external_id": entry["technique"]}
            ],
        )
        return obj

    def observables(self, detection: DetectionRow) -> list[StixObject]:
        """The target, the sources, and one network-traffic per source towards the target."""
        target = address_object(detection.target)
        out = [target]
        protocols = (
            mapping_table()["detection_kinds"].get(detection.kind, {}).get("protocols", ["ipv4"])
        )
        for source in detection.sources[: mapping_table()["max_sources"]]:
            origin = address_object(source["address"])
            traffic: StixObject = {
                "src_ref": origin["id"],
                "dst_ref": target["id"],
                "protocols": list(protocols),
                "start": timestamp(detection.start),
            }
            if source.get("port") is not None:
                traffic["src_port"] = source["port"]
            traffic.update(
                type="network-traffic",
                spec_version="2.1",
                id=sco_id("network-traffic", traffic),
                src_packets=source["packets"],
                src_byte_count=source["bytes"],
            )
            out += [origin, traffic]
        return out

    def observed_data(
        self, detection: DetectionRow, observables: list[StixObject], tlp: str
    ) -> StixObject:
        created = timestamp(detection.created_at)
        obj = self._sdo("observed-data", ("detection", detection.id), created, created, tlp)
        first, last = timestamp(detection.start), timestamp(detection.end)
        obj.update(
            first_observed=first,
            last_observed=max(first, last),
            number_observed=1,
            object_refs=sorted({o["id"] for o in observables}),
            confidence=round(detection.confidence * 100),
        )
        return obj

    def indicator(self, row: IndicatorRow) -> StixObject:
        stamp = timestamp(row.valid_from)
        obj = self._sdo("indicator", ("indicator", row.id), stamp, stamp, row.tlp)
        obj.update(
            name=f"{row.kind} {row.value}",
            description=f"{row.kind} {row.value}, reported by {row.source}",
            pattern=pattern_of(row.kind, row.value),
            pattern_type="stix",
            pattern_version="2.1",
            valid_from=stamp,
            indicator_types=["malicious-activity"],
            external_references=[{"source_name": row.source, "description": "reported by"}],
        )
        if row.valid_until is not None and row.valid_until > row.valid_from:
            obj["valid_until"] = timestamp(row.valid_until)
        return obj

    def sighting(
        self, indicator: StixObject, observed: StixObject, where: StixObject, tlp: str
    ) -> StixObject:
        created = observed["created"]
        obj = self._sdo("sighting", (indicator["id"], observed["id"]), created, created, tlp)
        obj.update(
            sighting_of_ref=indicator["id"],
            observed_data_refs=[observed["id"]],
            where_sighted_refs=[where["id"]],
            count=1,
            first_seen=observed["first_observed"],
            last_seen=observed["last_observed"],
        )
        return obj

    def course_of_action(self, row: ActionRow, tlp: str) -> StixObject:
        stamp = timestamp(row.proposed_at)
        obj = self._sdo("course-of-action", ("action", row.id), stamp, stamp, tlp)
        details = ", ".join(f"{k}={v}" for k, v in sorted(row.parameters.items()))
        obj.update(
            name=f"{row.kind} ({row.status})",
            description=f"{row.kind}, {row.status}: {details or 'no parameters'}",
        )
        return obj

    def note(self, row: AssessmentRow, incident: StixObject, tlp: str) -> StixObject:
        stamp = timestamp(row.created_at)
        obj = self._sdo("note", ("assessment", row.id), stamp, stamp, tlp)
        lines = [f"- {f['title']}: {f['level']} ({f['citation']})" for f in row.findings]
        obj.update(
            abstract=f"Legal assessment, version {row.version}",
            content="\n".join(lines) or "No findings.",
            authors=[row.created_by],
            object_refs=[incident["id"]],
        )
        return obj

    def opinions(self, row: AssessmentRow, incident: StixObject, tlp: str) -> list[StixObject]:
        stamp = timestamp(row.created_at)
        levels = mapping_table()["opinion_of_level"]
        out = []
        for finding in row.findings:
            obj = self._sdo("opinion", ("assessment", row.id, finding["rule"]), stamp, stamp, tlp)
            reasons = "; ".join(finding.get("reasons", [])) or "no reasons recorded"
            obj.update(
                opinion=levels[finding["level"]],
                explanation=(
                    f"Whether this incident engages {finding['title']} "
                    f"({finding['citation']}): {finding['level']}. {reasons}"
                ),
                authors=[row.created_by],
                object_refs=[incident["id"]],
            )
            out.append(obj)
        return out

    def report(self, incident: IncidentRow, refs: list[str]) -> StixObject:
        stamp = timestamp(incident.updated_at)
        obj = self._sdo("report", ("incident-report", incident.id), stamp, stamp, incident.tlp)
        obj.update(
            name=f"Incident {incident.id}: {incident.title}",
            published=stamp,
            report_types=["attack-pattern", "observed-data", "indicator"],
            object_refs=sorted(set(refs)),
        )
        return obj


def address_object(value: str) -> StixObject:
    """An ipv4-addr or ipv6-addr SCO for an address or prefix (sections 6.8, 6.9)."""
    network = ipaddress.ip_network(value, strict=False)
    kind = "ipv4-addr" if network.version == 4 else "ipv6-addr"
    text = str(network.network_address) if network.num_addresses == 1 else str(network)
    return {"type": kind, "spec_version": "2.1", "id": sco_id(kind, {"value": text}), "value": text}


_HASHES = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}


def pattern_of(kind: str, value: str) -> str:
    """The STIX pattern (section 9) that matches one indicator of the case store."""
    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
    if kind in ("ipv4", "ipv6", "prefix"):
        network = ipaddress.ip_network(value, strict=False)
        sco = "ipv4-addr" if network.version == 4 else "ipv6-addr"
        return f"[{sco}:value = '{network}']" if kind == "prefix" else f"[{sco}:value = '{quoted}']"
    if kind == "domain":
        return f"[domain-name:value = '{quoted}']"
    if kind == "url":
        return f"[url:value = '{quoted}']"
    if kind == "hash":
        algorithm = _HASHES.get(len(value))
        if algorithm is None:
            raise ValueError(f"hash {value!r} is not MD5, SHA-1, SHA-256 or SHA-512 hex")
        return f"[file:hashes.'{algorithm}' = '{value.lower()}']"
    if kind == "stix":
        return value
    raise ValueError(f"no STIX pattern for indicator kind {kind!r}")


def matches(indicator: IndicatorRow, address: str) -> bool:
    """Whether an address indicator (ipv4, ipv6, prefix) covers ``address``."""
    if indicator.kind not in ("ipv4", "ipv6", "prefix"):
        return False
    try:
        inner = ipaddress.ip_network(address, strict=False)
        outer = ipaddress.ip_network(indicator.value, strict=False)
    except ValueError:
        return False
    return inner.version == outer.version and (
        inner.network_address in outer and inner.broadcast_address in outer
    )


def by_id(objects: list[StixObject]) -> Mapping[str, StixObject]:
    return {obj["id"]: obj for obj in objects}
