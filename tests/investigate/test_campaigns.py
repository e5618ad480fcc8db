"""Campaign clustering and the pattern report over a real store (SQLite, then PostgreSQL)."""

from __future__ import annotations

import pytest

from cyberpeace.investigate.campaigns import campaigns, settings
from cyberpeace.investigate.patterns import pattern_report
from cyberpeace.store import SYSTEM, Store, Viewer
from cyberpeace.store.pattern_frames import pattern_frames
from tests.investigate.planted import plant


def test_the_planted_campaigns_are_found_and_nothing_else_is_merged(store: Store) -> None:
    planted = plant(store)
    with store.session() as session:
        found = campaigns(pattern_frames(session, SYSTEM))
    groups = [c.members for c in found]
    assert groups == [planted.hospital_campaign, planted.election_campaign]
    hospital, elections = found
    assert hospital.shared["source_prefix"] == ["45.10.20.0/24"]
    assert "T1499.001" in hospital.shared["technique"]
    assert hospital.shared["safe_area"] == ["arcadia-central-hospital"]
    assert elections.shared["source_party"] == ["calvinia"]
    assert (hospital.last_seen - hospital.first_seen).total_seconds() == 48 * 3600 + 300
    assert not set(planted.unrelated) & {m for c in found for m in c.members}


def test_clustering_is_the_same_on_every_run(store: Store) -> None:
    plant(store)
    with store.session() as session:
        frames = pattern_frames(session, SYSTEM)
    first = [c.as_dict() for c in campaigns(frames)]
    assert first == [c.as_dict() for c in campaigns(frames)]


def test_a_higher_link_threshold_splits_nothing_into_false_campaigns(store: Store) -> None:
    planted = plant(store)
    strict = settings().model_copy(update={"min_link": 10.0})
    with store.session() as session:
        assert campaigns(pattern_frames(session, SYSTEM), strict) == []
    assert planted.hospital_campaign


def test_the_report_says_who_is_targeted_by_what_from_where_and_when(store: Store) -> None:
    plant(store)
    with store.session() as session:
        report = pattern_report(
            pattern_frames(session, SYSTEM), {"borduria": "XB", "calvinia": "XC"}
        )
    assert report.incidents == 13
    assert report.rankings["targets_by_party"] == [("arcadia", 13)]
    assert report.rankings["targets_by_sector"] == [("health", 5), ("elections", 4)]
    assert report.kinds[:2] == [("syn-flood", 5), ("port-scan", 4)]
    assert report.rankings["source_parties"] == [("borduria", 5), ("calvinia", 4)]
    assert report.source_countries == [("XB", 5), ("XC", 4)]
    assert sum(n for _, n in report.per_day) == 13
    assert report.per_day[0] == ("2026-11-24", 3)  # hours 0 and 12 (hospital), 6 (elections)
    assert sum(n for _, n in report.per_week) == 13
    assert len(report.campaigns) == 2
    assert report.as_dict()["campaigns"][0]["members"] == report.campaigns[0].members


def test_a_party_sees_patterns_only_over_its_own_incidents(store: Store) -> None:
    plant(store)
    with store.session() as session:
        frames = pattern_frames(session, Viewer("party", party_id="borduria"))
    assert frames.incidents.num_rows == 0
    assert frames.detections.num_rows == 0
    assert campaigns(frames) == []


@pytest.mark.parametrize("since_hours", [0, 10_000])
def test_since_limits_the_incidents(store: Store, since_hours: int) -> None:
    from datetime import timedelta

    from tests.store.factories import T0

    plant(store)
    with store.session() as session:
        frames = pattern_frames(session, SYSTEM, since=T0 + timedelta(hours=since_hours))
    assert frames.incidents.num_rows == (13 if since_hours == 0 else 0)
