"""Sightings: detections and reports meeting intelligence indicators, through the real paths."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from cyberpeace.correlation import (
    Correlator,
    IndicatorError,
    meet_flows,
    record_flows,
    report_indicators,
)
from cyberpeace.detect.detection import Source
from cyberpeace.detect.reported import DetectionUpdate
from cyberpeace.store import SYSTEM, DetectionRecorder, Forbidden, Store, Viewer
from cyberpeace.store.correlation_tables import IncidentIndicatorRow, SightingRow
from cyberpeace.store.tables import IndicatorRow
from tests.store.factories import T0, detection


def _intelligence(store: Store, *indicators: tuple[str, str, str]) -> dict[str, int]:
    with store.session() as session:
        rows = {}
        for kind, value, tlp in indicators:
            row = IndicatorRow(kind=kind, value=value, tlp=tlp, source="feed", valid_from=T0)
            session.add(row)
            session.flush()
            rows[value] = row.id
    return rows


def test_a_detection_sights_the_prefixes_and_addresses_it_meets(store: Store) -> None:
    ids = _intelligence(
        store,
        ("prefix", "203.0.113.0/24", "TLP:GREEN"),
        ("ipv4", "203.0.113.53", "TLP:GREEN"),
        ("prefix", "2001:db8:bad::/48", "TLP:AMBER"),
        ("prefix", "198.51.100.0/24", "TLP:GREEN"),  # not met
    )
    found = detection().model_copy(
        update={
            "sources": [
                Source(address="203.0.113.53", share=0.5, packets=10, bytes=100),
                Source(address="2001:db8:bad::7", share=0.5, packets=10, bytes=100),
                Source(address="not-an-address", share=0.0, packets=0, bytes=0),
            ]
        }
    )
    recorder = DetectionRecorder(store)
    recorder([DetectionUpdate(episode=1, detection=found, new=True)])
    with store.session() as session:
        sightings = session.scalars(select(SightingRow).order_by(SightingRow.indicator_id)).all()
        met = {(s.indicator_id, s.value) for s in sightings}
        assert met == {
            (ids["203.0.113.0/24"], "203.0.113.53"),
            (ids["203.0.113.53"], "203.0.113.53"),
            (ids["2001:db8:bad::/48"], "2001:db8:bad::7"),
        }
        assert all(s.count == 1 and s.observed_by == "telemetry" for s in sightings)
        assert all(s.first_seen == found.start and s.last_seen == found.end for s in sightings)
        assert all(s.where_sighted == "party:arcadia" for s in sightings)
        kept = session.scalars(select(IncidentIndicatorRow.value)).all()
        # The bad source is refused; the target and the good sources are the incident's.
        assert sorted(kept) == sorted(["198.18.10.10", "203.0.113.53", "2001:db8:bad::7"])

    # The same episode growing widens its sightings; it does not count them again.
    grown = found.model_copy(update={"end": found.end + timedelta(minutes=10)})
    recorder([DetectionUpdate(episode=1, detection=grown, new=False)])
    with store.session() as session:
        sightings = session.scalars(select(SightingRow)).all()
        assert len(sightings) == 3
        assert all(s.count == 1 and s.last_seen == grown.end for s in sightings)
        assert session.scalar(select(func.count()).select_from(IncidentIndicatorRow)) == 3


def test_reports_sight_indicators_and_refuse_bad_values(store: Store) -> None:
    ids = _intelligence(store, ("domain", "c2.example", "TLP:GREEN"))
    recorder = DetectionRecorder(store)
    recorder([DetectionUpdate(episode=1, detection=detection(), new=True)])
    with store.session() as session:
        incident_id = session.scalar(select(func.max(IncidentIndicatorRow.incident_id)))
        assert incident_id is not None
        correlator = Correlator()
        result = report_indicators(
            session,
            Viewer("party", "arcadia"),
            incident_id,
            [
                ("domain", "C2.Example."),
                ("url", "no-url"),
                ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
            ],
            (T0, T0 + timedelta(hours=1)),
            correlator.intelligence(session),
        )
        assert (result.added, result.sightings) == (2, 1)
        assert len(result.refused) == 1
        assert "absolute URL" in result.refused[0]
        sighting = session.scalars(select(SightingRow)).one()
        assert (sighting.indicator_id, sighting.observed_by) == (ids["c2.example"], "report")
        assert sighting.where_sighted == "party:arcadia"
        with pytest.raises(Forbidden):
            report_indicators(
                session,
                Viewer("party", "borduria"),
                incident_id,
                [("domain", "x.example")],
                (T0, T0),
            )
        with pytest.raises(IndicatorError, match="at most"):
            report_indicators(
                session, SYSTEM, incident_id, [("domain", "x.example")] * 10_001, (T0, T0)
            )


def test_a_batch_of_flow_addresses_is_met_column_wise(store: Store) -> None:
    ids = _intelligence(
        store,
        ("prefix", "203.0.113.0/24", "TLP:GREEN"),
        ("ipv6", "2001:db8::53", "TLP:GREEN"),
        ("domain", "not.an.address", "TLP:GREEN"),
    )
    addresses = ["203.0.113.9", "203.0.113.200", "192.0.2.1", "2001:db8::53", "2001:db8::54"]
    packed = np.array(
        [
            ipaddress.ip_address(a).packed
            if ":" in a
            else b"\0" * 10 + b"\xff\xff" + ipaddress.ip_address(a).packed
            for a in addresses
        ],
        dtype="S16",
    )
    seen = np.array([100, 50, 10, 70, 80], dtype=np.int64) + 1_790_000_000
    with store.session() as session:
        side = Correlator().intelligence(session)
        found = meet_flows(side, packed, seen)
        got = {
            int(i): (int(c), int(f), int(last))
            for i, c, f, last in zip(
                found.indicator, found.count, found.first, found.last, strict=True
            )
        }
        assert got == {
            ids["203.0.113.0/24"]: (2, 1_790_000_050, 1_790_000_100),
            ids["2001:db8::53"]: (1, 1_790_000_070, 1_790_000_070),
        }
        assert record_flows(session, found, where_sighted="sensor:edge-1") == 2
        record_flows(session, found, where_sighted="sensor:edge-1")
        counts = dict(session.execute(select(SightingRow.indicator_id, SightingRow.count)).all())
        assert counts == {ids["203.0.113.0/24"]: 4, ids["2001:db8::53"]: 2}
