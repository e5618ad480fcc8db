"""The attack an action answers, as the planner and the safeguards read it from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cyberpeace.store.tables import DetectionRow, IncidentRow

REFLECTION = "udp-reflection"
PROTOCOL_OF_KIND = {"syn-flood": "tcp", "icmp-flood": "icmp", REFLECTION: "udp"}
PRECURSORS = frozenset({"port-scan", "network-scan", "brute-force"})


@dataclass(frozen=True)
class Attack:
    """One detection's facts: what, against whom, from where, how big, until when."""

    kind: str
    target: str
    party: str | None
    safe_area: str | None
    start: datetime
    end: datetime
    severity: str
    magnitude: dict[str, Any]
    sources: list[dict[str, Any]]
    explanation: dict[str, Any]
    detection_id: int | None = None
    incident_id: int | None = None

    @classmethod
    def from_detection(cls, row: DetectionRow, incident_id: int | None = None) -> Attack:
        return cls(
            kind=row.kind,
            target=row.target,
            party=row.party_id,
            safe_area=row.safe_area_id,
            start=row.start,
            end=row.end,
            severity=row.severity,
            magnitude=dict(row.magnitude),
            sources=list(row.sources),
            explanation=dict(row.explanation),
            detection_id=row.id,
            incident_id=incident_id,
        )

    @classmethod
    def of_incident(cls, row: IncidentRow) -> list[Attack]:
        """The latest detection of each kind on each target of the incident."""
        latest: dict[tuple[str, str], DetectionRow] = {}
        for detection in row.detections:
            key = (detection.kind, detection.target)
            if key not in latest or detection.end >= latest[key].end:
                latest[key] = detection
        return [cls.from_detection(d, row.id) for d in latest.values()]

    @property
    def source_addresses(self) -> list[str]:
        return [str(s["address"]) for s in self.sources]

    @property
    def reflection_ports(self) -> dict[int, float]:
        """Amplifier source port -> share of the attack's bytes (reflection detections)."""
        mix = self.explanation.get("details", {}).get("amplifiers", {})
        ports = {int(p): float(v.get("share", 0.0)) for p, v in mix.items()}
        if not ports:
            for source in self.sources:
                if source.get("port"):
                    port = int(source["port"])
                    ports[port] = ports.get(port, 0.0) + float(source.get("share", 0.0))
        return ports

    @property
    def peak_bps(self) -> float:
        return float(self.magnitude.get("peak_bps", self.magnitude.get("bits_per_second", 0.0)))

    @property
    def mean_packet_size(self) -> float | None:
        packets = float(self.magnitude.get("packets", 0) or 0)
        size = float(self.magnitude.get("bytes", 0) or 0)
        return size / packets if packets else None
