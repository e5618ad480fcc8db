"""Realistic console data: a reflection DDoS on the hospital and a scan of the election commission.

Shared by the web tests and ``docs/screenshot.py`` (which falls back to it until the demo runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cyberpeace.detect.detection import Detection, Source
from cyberpeace.law import parse_overrides
from cyberpeace.mission import Mandate
from cyberpeace.store import (
    SYSTEM,
    Store,
    Viewer,
    add_detection,
    assess_incident,
    create_token,
    file_detection,
    set_facts,
    sync_mandate,
)

ANALYST = Viewer("staff", name="analyst-ana")
ATTRIBUTION = {"attribution.party": {"value": "borduria", "confidence": 0.7}}

HOSPITAL_TARGET = "198.18.10.10"
REFLECTION_SUMMARY = (
    "UDP from source port 53 and 123 to 198.18.10.10 peaked at 412,000 packets/s "
    "(2.9 Gbit/s), 58 times the 5-minute baseline, from 1,874 reflectors."
)
SCAN_SUMMARY = "198.19.77.4 probed 1,024 TCP ports on 254 hosts of 198.18.20.0/24 in 4 minutes."


@dataclass(frozen=True)
class Seeded:
    staff_token: str
    borduria_token: str
    reflection_incident: int
    reflection_title: str
    scan_incident: int
    scan_title: str


def reflection_detection(end: datetime) -> Detection:
    start = end - timedelta(minutes=6)
    sources = [
        Source(
            address="203.0.113.53",
            share=0.312,
            packets=7_710_000,
            bytes=10_950_000_000,
            port=53,
            party="calvinia",
        ),
        Source(
            address="192.0.2.123",
            share=0.187,
            packets=4_620_000,
            bytes=2_260_000_000,
            port=123,
            party="calvinia",
        ),
        Source(
            address="198.19.4.53",
            share=0.094,
            packets=2_330_000,
            bytes=3_310_000_000,
            port=53,
            party="borduria",
        ),
        Source(
            address="198.51.100.17", share=0.041, packets=1_010_000, bytes=490_000_000, port=123
        ),
    ]
    return Detection(
        detector="reflection",
        kind="udp-reflection",
        target=HOSPITAL_TARGET,
        party="arcadia",
        safe_area="arcadia-central-hospital",
        start=start,
        end=end,
        severity="critical",
        confidence=0.97,
        magnitude={"peak_pps": 412_000, "peak_bps": 2_930_000_000, "reflectors": 1_874},
        sources=sources,
        explanation={
            "summary": REFLECTION_SUMMARY,
            "window_s": 60,
            "baseline_pps": 7_100,
            "threshold_pps": 50_000,
            "ports": [53, 123],
        },
    )


def scan_detection(end: datetime) -> Detection:
    return Detection(
        detector="scan",
        kind="port-scan",
        target="198.18.20.0/24",
        party="arcadia",
        safe_area="arcadia-election-commission",
        start=end - timedelta(minutes=14),
        end=end - timedelta(minutes=10),
        severity="high",
        confidence=0.88,
        magnitude={"peak_pps": 2_400, "peak_bps": 1_230_000, "ports": 1_024, "hosts": 254},
        sources=[
            Source(
                address="198.19.77.4",
                share=1.0,
                packets=520_000,
                bytes=31_200_000,
                party="borduria",
            )
        ],
        explanation={"summary": SCAN_SUMMARY, "window_s": 300, "threshold_ports": 100},
    )


def seed_console(store: Store, mandate: Mandate, *, now: datetime | None = None) -> Seeded:
    """Load the mandate, file both detections into incidents, make a staff and a party token."""
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    tlp = mandate.data_policy.default_tlp
    with store.session() as session:
        sync_mandate(session, mandate)
        scan = file_detection(session, add_detection(session, scan_detection(end)), tlp=tlp)
        flood = file_detection(session, add_detection(session, reflection_detection(end)), tlp=tlp)
        assert scan is not None
        assert flood is not None
        staff = create_token(session, party_id=None, label="web-tests")
        borduria = create_token(session, party_id="borduria", label="web-tests")
        # The flood assessed twice (as detected, then with an analyst's attribution); the scan not.
        assess_incident(session, SYSTEM, flood.id, mandate=mandate)
        overrides = parse_overrides(ATTRIBUTION, ANALYST.actor)
        set_facts(session, ANALYST, flood.id, overrides, reason="traceback", mandate=mandate)
        return Seeded(staff, borduria, flood.id, flood.title, scan.id, scan.title)
