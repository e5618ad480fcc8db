"""The incident timeline shows when each detected attack peaked (the engine's timeline)."""

from __future__ import annotations

from datetime import timedelta

from cyberpeace.investigate.case_file import timeline
from cyberpeace.store import SYSTEM, Store, add_detection, file_detection
from tests.store.factories import T0, detection


def test_the_peak_is_an_event_of_the_timeline(store: Store) -> None:
    peak = T0 + timedelta(minutes=2)
    course = {"start": T0.isoformat(), "peak": peak.isoformat(), "end": T0.isoformat()}
    found = detection().model_copy(
        update={"explanation": {"timeline": course}, "magnitude": {"peak_pps": 412_000.0}}
    )
    plain = detection(start=T0 + timedelta(minutes=1))  # no timeline: no peak event
    with store.session() as session:
        rows = [add_detection(session, d) for d in (found, plain)]
        incident = file_detection(session, rows[0], tlp="TLP:AMBER")
        file_detection(session, rows[1], tlp="TLP:AMBER")
        assert incident is not None
        events = timeline(session, SYSTEM, incident.id)
    peaks = [e for e in events if e.kind == "peak"]
    assert [(e.at, e.ref) for e in peaks] == [(peak, f"detection:{rows[0].id}")]
    assert "peaked at 412,000 packets/s" in peaks[0].summary
    kinds = [e.kind for e in events]
    assert kinds.index("peak") > kinds.index("detection")  # oldest first
