"""A mission's case file for the report tests: three incidents marked GREEN, AMBER and RED.

- AMBER: the reflection DDoS on the hospital (the console's seed), moved along the workflow,
  assessed twice, with real planned actions (one approved), two evidence rows and two analyst
  notes, one of them marked RED in its own right.
- GREEN: the scan of the election commission.
- RED: an incident Borduria reported itself, with a secret in its summary.

Evidence rows are written straight into the ``evidence`` table: the evidence locker that will
write them is being built in parallel; the report reads only the row (sha256, source, collector).
Notes are audit entries ``incident.note`` with their text and TLP, as the case workflow records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cyberpeace.law import parse_overrides
from cyberpeace.mission import Mandate
from cyberpeace.respond import PlanContext, approve, respond
from cyberpeace.respond.attack import Attack
from cyberpeace.store import (
    SYSTEM,
    IncidentDraft,
    Store,
    Viewer,
    add_detection,
    assess_incident,
    audit,
    change_status,
    create_incident,
    create_token,
    file_detection,
    set_facts,
    sync_mandate,
)
from cyberpeace.store.tables import EvidenceRow
from tests.web.seed import ATTRIBUTION, reflection_detection, scan_detection

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ANALYST = Viewer("staff", name="analyst-ana")
RED_NOTE = "HUMINT source KESTREL-7 names the booter operator"
AMBER_NOTE = "Hospital CERT confirms the emergency ward lost its patient records system"
RED_SUMMARY = "Wiper SHADOWFAX-9 found on two substations of the Borduria grid"
PCAP = b"\xd4\xc3\xb2\xa1" + bytes(range(256)) * 8  # stand-ins for the artefacts' bytes
FLOWS = b"PAR1" + b"flow extract of the reflection" * 40


@dataclass(frozen=True)
class Case:
    amber: int
    green: int
    red: int
    amber_title: str
    green_title: str
    hashes: tuple[str, str]
    staff_token: str
    arcadia_token: str
    borduria_token: str


def seed_reports(store: Store, mandate: Mandate) -> Case:
    with store.session() as session:
        sync_mandate(session, mandate)
        scan = file_detection(session, add_detection(session, scan_detection(T0)), tlp="TLP:GREEN")
        flood_row = add_detection(session, reflection_detection(T0))
        flood = file_detection(session, flood_row, tlp="TLP:AMBER")
        assert scan is not None
        assert flood is not None
        change_status(session, ANALYST, flood.id, "triage", "hospital outage confirmed")
        change_status(session, ANALYST, flood.id, "investigating", "tracing the reflectors")
        for text, tlp in ((AMBER_NOTE, None), (RED_NOTE, "TLP:RED")):
            detail = {"text": text} if tlp is None else {"text": text, "tlp": tlp}
            audit.append(session, ANALYST.actor, "incident.note", f"incident:{flood.id}", detail)
        assess_incident(session, SYSTEM, flood.id, mandate=mandate)
        overrides = parse_overrides(ATTRIBUTION, ANALYST.actor)
        set_facts(session, ANALYST, flood.id, overrides, reason="traceback", mandate=mandate)
        created = respond(
            session, Attack.of_incident(flood), PlanContext.of(mandate, T0 + timedelta(minutes=1))
        ).created
        assert created, "the planner proposed nothing against the reflection"
        approve(session, ANALYST, created[0].id, "hospital down", T0 + timedelta(minutes=2))
        hashes = []
        for kind, body, source in (
            ("pcap", PCAP, "sensor arcadia-edge-1"),
            ("flows", FLOWS, "hub"),
        ):
            digest = hashlib.sha256(body).hexdigest()
            hashes.append(digest)
            session.add(
                EvidenceRow(
                    incident_id=flood.id,
                    sha256=digest,
                    kind=kind,
                    size=len(body),
                    source=source,
                    collected_by="analyst-ana",
                    collected_at=T0 + timedelta(minutes=3),
                    method="captured at the hospital uplink during the attack",
                )
            )
        red = create_incident(
            session,
            Viewer("party", "borduria"),
            IncidentDraft(
                "Wiper on the Borduria grid",
                "borduria",
                "high",
                T0 - timedelta(hours=2),
                T0 - timedelta(hours=1),
                "TLP:RED",
                summary=RED_SUMMARY,
            ),
        )
        return Case(
            amber=flood.id,
            green=scan.id,
            red=red.id,
            amber_title=flood.title,
            green_title=scan.title,
            hashes=(hashes[0], hashes[1]),
            staff_token=create_token(session, party_id=None, label="report-tests"),
            arcadia_token=create_token(session, party_id="arcadia", label="report-tests"),
            borduria_token=create_token(session, party_id="borduria", label="report-tests"),
        )
