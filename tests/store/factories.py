"""Builders shared by the case-store tests: detections and incident drafts with UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cyberpeace.detect.detection import Detection, Severity, Source

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
HOSPITAL = "arcadia-central-hospital"
ELECTIONS = "arcadia-election-commission"
POWER = "borduria-power-utility"
HOSPITAL_HOST = "198.18.10.10"
POWER_HOST = "198.19.30.7"


def detection(
    *,
    start: datetime = T0,
    minutes: int = 5,
    target: str = HOSPITAL_HOST,
    party: str | None = "arcadia",
    safe_area: str | None = HOSPITAL,
    severity: Severity = "medium",
    kind: str = "udp-reflection",
) -> Detection:
    return Detection(
        detector="volumetric",
        kind=kind,
        target=target,
        party=party,
        safe_area=safe_area,
        start=start,
        end=start + timedelta(minutes=minutes),
        severity=severity,
        confidence=0.9,
        magnitude={"packets_per_second": 412_000.0},
        sources=[Source(address="203.0.113.53", share=0.3, packets=10, bytes=100, port=53)],
        explanation={"threshold": 50_000, "window": "PT1M"},
    )
