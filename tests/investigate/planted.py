"""Synthetic incidents with two planted campaigns and unrelated noise, filed through the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cyberpeace.detect.detection import Detection, Source
from cyberpeace.store import Store, add_detection, file_detection
from tests.store.factories import ELECTIONS, HOSPITAL, T0


@dataclass(frozen=True)
class Planted:
    hospital_campaign: list[int]
    election_campaign: list[int]
    unrelated: list[int]


def _incident(
    store: Store,
    *,
    hours: float,
    target: str,
    safe_area: str | None,
    kind: str,
    sources: list[tuple[str, str | None]],
) -> int:
    start = T0 + timedelta(hours=hours)
    detection = Detection(
        detector=kind,
        kind=kind,
        target=target,
        party="arcadia",
        safe_area=safe_area,
        start=start,
        end=start + timedelta(minutes=5),
        severity="high",
        confidence=0.9,
        magnitude={"packets_per_second": 1000.0},
        sources=[
            Source(address=a, share=1 / len(sources), packets=10, bytes=100, party=p)
            for a, p in sources
        ],
        explanation={},
    )
    with store.session() as session:
        incident = file_detection(session, add_detection(session, detection), tlp="TLP:AMBER")
        assert incident is not None
        return incident.id


def plant(store: Store) -> Planted:
    """Five SYN floods on the hospital from one Borduria /24, every 12 hours; four scans of the
    election commission from one Calvinia /24, every 20 hours; four one-off incidents."""
    hospital = [
        _incident(
            store,
            hours=12 * i,
            target=f"198.18.10.{10 + i}",
            safe_area=HOSPITAL,
            kind="syn-flood",
            sources=[(f"45.10.20.{i + 1}", "borduria"), (f"45.10.20.{i + 50}", "borduria")],
        )
        for i in range(5)
    ]
    elections = [
        _incident(
            store,
            hours=6 + 20 * i,
            target=f"198.18.20.{4 + i}",
            safe_area=ELECTIONS,
            kind="port-scan",
            sources=[(f"91.77.3.{i + 7}", "calvinia")],
        )
        for i in range(4)
    ]
    unrelated = [
        _incident(
            store,
            hours=500 + 200 * i,
            target=f"198.18.40.{i + 1}",
            safe_area=None,
            kind=kind,
            sources=[(f"{20 + 30 * i}.{i}.{i}.1", None)],
        )
        for i, kind in enumerate(["brute-force", "icmp-flood", "udp-reflection", "host-sweep"])
    ]
    return Planted(hospital, elections, unrelated)
