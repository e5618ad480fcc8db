"""Early warning: precursors recorded through the DetectionRecorder become deduplicated Messages
to the party concerned (a scan, an indicator hit, a rising baseline, a cross-party pattern)."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import numpy as np
from sqlalchemy import func, select

from cyberpeace.detect import criticality_of, detect
from cyberpeace.detect.baselines import Baselines, BaselineSettings
from cyberpeace.detect.detection import Detection, Source
from cyberpeace.detect.reported import DetectionUpdate
from cyberpeace.mission import Borders, Mandate
from cyberpeace.store import SYSTEM, DetectionRecorder, Store, Viewer
from cyberpeace.store.messages import acknowledge_message, list_messages
from cyberpeace.store.tables import AuditRow, IndicatorRow, MessageRow
from tests.detect.records import NOW, T0, batch_of, records
from tests.store.factories import HOSPITAL, POWER, POWER_HOST, detection

SCANNER = "198.51.100.66"
SCANNED = "198.18.10.5"  # in the Arcadian hospital's safe area
_episodes = count(1)


def scan(at: float = T0, src: str = SCANNER, dst: str = SCANNED) -> list[Detection]:
    """A real vertical scan through the engine: 150 SYN probes over 40 s."""
    ports = np.arange(1, 151)
    when = at + np.linspace(0, 40, len(ports), endpoint=False)
    flows = records(
        len(ports), start=when, src=src, dst=dst, sport=41_337, dport=ports, proto=6,
        tcp_flags=0x02, packets=1, bytes=44,
    )  # fmt: skip
    mandate = _mandate()
    return detect(
        flows,
        Borders.from_mandate(mandate),
        criticality=criticality_of(mandate),
        detectors=["vertical-scan"],
        now=NOW,
    )


def _mandate() -> Mandate:
    from cyberpeace.mission import load_mandate
    from tests.conftest import EXAMPLES

    return load_mandate(EXAMPLES / "demo.yaml")


def record(store: Store, *found: Detection) -> None:
    DetectionRecorder(store)([DetectionUpdate(next(_episodes), d, True) for d in found])


def messages(store: Store, party: str | None = None) -> list[MessageRow]:
    with store.session() as session:
        rows = list_messages(session, SYSTEM, party=party)
        session.expunge_all()
    return rows


def test_a_scan_of_a_safe_area_warns_its_party(store: Store) -> None:
    found = scan()
    assert [(d.kind, d.party, d.safe_area) for d in found] == [
        ("port-scan", "arcadia", "arcadia-central-hospital")
    ]
    record(store, *found)
    (message,) = messages(store)
    assert message.kind == "early-warning"
    assert message.to_party_id == "arcadia"
    assert message.severity == found[0].severity == "high"  # one below the hospital's critical
    assert SCANNER in message.subject
    assert SCANNED in message.subject
    assert "arcadia-central-hospital" in message.body
    assert message.count == 1
    assert message.cause == f"precursor:port-scan:{SCANNER}"
    assert message.incident_id is not None
    assert message.detection_id is not None
    assert messages(store, "borduria") == []
    with store.session() as session:
        actions = session.scalars(
            select(AuditRow.action).where(AuditRow.subject == f"message:{message.id}")
        ).all()
    assert actions == ["message.create"]


def test_the_same_cause_within_the_window_is_one_message(store: Store) -> None:
    record(store, *scan(T0))
    record(store, *scan(T0 + 600))  # the same scanner ten minutes later: a new episode
    (message,) = messages(store)
    assert message.count == 2
    assert message.last_seen is not None
    assert message.first_seen is not None
    assert message.last_seen - message.first_seen >= timedelta(seconds=600)
    assert message.details is not None
    assert len(message.details["detections"]) == 2

    record(store, *scan(T0 + 900, src="198.51.100.77"))  # another scanner: another cause
    assert sorted(m.count or 0 for m in messages(store)) == [1, 2]
    record(store, *scan(T0 + 2 * 3_600 + 900))  # the first again, after the window
    assert sorted(m.count or 0 for m in messages(store)) == [1, 1, 2]


def test_an_acknowledged_message_is_not_reopened(store: Store) -> None:
    record(store, *scan(T0))
    (first,) = messages(store)
    arcadia = Viewer("party", "arcadia", name="party:arcadia")
    with store.session() as session:
        acknowledge_message(session, arcadia, first.id)
    record(store, *scan(T0 + 60))
    rows = messages(store)
    assert len(rows) == 2
    acked = next(m for m in rows if m.id == first.id)
    assert acked.count == 1
    assert acked.acknowledged_by == "party:arcadia"


def test_an_indicator_hit_warns(store: Store) -> None:
    with store.session() as session:
        session.add(
            IndicatorRow(
                kind="ipv4", value=SCANNER, tlp="TLP:GREEN", source="feed", valid_from=T0_DT
            )
        )
    record(store, *scan())
    by_cause = {m.cause: m for m in messages(store)}
    (indicator,) = [m for cause, m in by_cause.items() if cause and cause.startswith("indicator:")]
    assert indicator.to_party_id == "arcadia"
    assert indicator.severity == "high"
    assert SCANNER in indicator.subject
    assert "feed" in indicator.body


def test_a_rising_baseline_warns_the_party_of_the_host(store: Store) -> None:
    rates = np.concatenate([np.full(120, 1_500.0), np.full(10, 30_000.0)])
    start = T0 + np.arange(len(rates)) + 0.25
    packets = rates.astype(np.int64)
    batch = batch_of(
        records(len(rates), start=start, dst=POWER_HOST, packets=packets, bytes=packets * 100)
    )
    baselines = Baselines(BaselineSettings(learning_s=60))
    found = baselines.observe(batch, Borders.from_mandate(_mandate()))
    host = next(d for d in found if d.target == POWER_HOST)
    assert (host.party, host.safe_area) == ("borduria", POWER)
    area = next(d for d in found if d.target == POWER)
    assert (area.party, area.safe_area) == (None, POWER)  # the store knows the area's party
    record(store, host, area)
    rows = messages(store, "borduria")
    assert {m.cause for m in rows} == {f"baseline:{POWER_HOST}", f"baseline:{POWER}"}
    assert all("baseline" in m.subject for m in rows)


def _reflection(target: str, party: str, area: str, at_minutes: int, reflectors: list[str]):
    base = detection(
        start=T0_DT + timedelta(minutes=at_minutes),
        target=target,
        party=party,
        safe_area=area,
        kind="udp-reflection",
    )
    sources = [Source(address=a, share=0.1, packets=10, bytes=100, port=123) for a in reflectors]
    explanation = {"stage": "attack", "summary": "NTP reflection"}
    return base.model_copy(update={"sources": sources, "explanation": explanation})


def test_an_attack_seen_against_another_party_warns_both(store: Store) -> None:
    record(store, _reflection(POWER_HOST, "borduria", POWER, 0, ["192.0.2.10", "192.0.2.11"]))
    assert messages(store) == []  # a first attack is not a warning of anything
    later = _reflection("198.18.10.10", "arcadia", HOSPITAL, 30, ["192.0.2.11"])
    record(store, later)
    (to_arcadia,) = messages(store, "arcadia")
    (to_borduria,) = messages(store, "borduria")
    assert to_arcadia.severity == "high"
    assert to_borduria.severity == "medium"
    assert "192.0.2.11" in to_arcadia.body
    assert "123" in to_arcadia.body
    for message in (to_arcadia, to_borduria):  # neither is told who the other party is
        text = f"{message.subject} {message.body} {message.cause}"
        assert "borduria" not in text.lower() or message.to_party_id == "borduria"
        assert "arcadia" not in text.lower() or message.to_party_id == "arcadia"
    # the same campaign hitting arcadia again is the same warning
    record(store, _reflection("198.18.10.11", "arcadia", HOSPITAL, 40, []))
    assert len(messages(store)) == 2
    again = _reflection("198.18.10.12", "arcadia", HOSPITAL, 45, ["192.0.2.10"])
    record(store, again)
    assert [m.count for m in messages(store, "arcadia")] == [2]


def test_a_different_kind_or_no_overlap_is_no_pattern(store: Store) -> None:
    record(store, _reflection(POWER_HOST, "borduria", POWER, 0, ["192.0.2.10"]))
    ephemeral = [Source(address="192.0.2.99", share=1, packets=1, bytes=1, port=40_000)]
    unrelated = _reflection("198.18.10.10", "arcadia", HOSPITAL, 30, [])
    record(store, unrelated.model_copy(update={"sources": ephemeral}))
    shared = _reflection("198.18.10.10", "arcadia", HOSPITAL, 40, ["192.0.2.10"])
    record(store, shared.model_copy(update={"kind": "syn-flood"}))
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MessageRow)) == 0


T0_DT = detection().start
