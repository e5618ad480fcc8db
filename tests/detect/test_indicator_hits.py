"""Indicator hits: records to or from watched addresses and networks, through the engine, the
store's watchlist and the live detector into a stored detection and an early warning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.cli_options import settings_from
from cyberpeace.detect import analyse
from cyberpeace.detect.indicator_hits import Indicator, Watchlist
from cyberpeace.mission import Borders, Mandate
from cyberpeace.store import SYSTEM, DetectionRecorder, Store, open_store
from cyberpeace.store.messages import list_messages
from cyberpeace.store.tables import DetectionRow, IncidentDetectionRow, IndicatorRow
from cyberpeace.store.watchlist import StoreWatchlist, watchlist
from tests.conftest import EXAMPLES

from .records import T0, batch_of, join, records
from .test_live import detector_for

HOSPITAL_HOST = "198.18.10.10"  # in arcadia-central-hospital
C2 = "203.0.113.7"
BAD_NET = "192.0.2.0/24"
BAD_HOST_IN_NET = "192.0.2.9"
BAD_V6 = "2001:db8:bad::/48"


def watched() -> Watchlist:
    return Watchlist(
        [
            Indicator(C2, "feed-a", "TLP:GREEN"),
            Indicator(BAD_NET, "feed-b", "TLP:AMBER"),
            Indicator(BAD_HOST_IN_NET, "party:borduria", "TLP:GREEN"),
            Indicator(BAD_V6, "feed-c", "TLP:CLEAR"),
            Indicator("evil.example", "feed-a", "TLP:GREEN"),  # a domain: not for flows
        ]
    )


def traffic() -> object:
    return join(
        records(3, start=T0 + 1, src=C2, dst=HOSPITAL_HOST, packets=2, bytes=300),
        records(2, start=T0 + 5, src=HOSPITAL_HOST, dst="192.0.2.50", packets=1, bytes=60),
        records(1, start=T0 + 7, src=HOSPITAL_HOST, dst=BAD_HOST_IN_NET, packets=4, bytes=400),
        records(1, start=T0 + 8, src="2001:db8:bad::5", dst="2001:db8:a000::1", bytes=90),
        records(50, start=T0 + 2, src="198.51.100.1", dst=HOSPITAL_HOST),  # nothing watched
    )


def test_both_ends_are_matched_by_longest_prefix(borders: Borders) -> None:
    wl = watched()
    assert len(wl) == 4  # the domain is left out
    found = wl.observe(batch_of(traffic()), borders)  # type: ignore[arg-type]
    seen = {
        (d.target, d.explanation["indicator"]["value"], d.explanation["direction"]): d
        for d in found
    }
    assert set(seen) == {
        (HOSPITAL_HOST, C2, "from the indicator"),
        (HOSPITAL_HOST, BAD_NET, "to the indicator"),
        (HOSPITAL_HOST, BAD_HOST_IN_NET, "to the indicator"),  # the host, not its /24
        ("2001:db8:a000::1", BAD_V6, "from the indicator"),
    }
    c2 = seen[(HOSPITAL_HOST, C2, "from the indicator")]
    assert c2.kind == "indicator-hit"
    assert c2.magnitude["records"] == 3
    assert c2.magnitude["packets"] == 6
    assert c2.magnitude["bytes"] == 900
    assert c2.party == "arcadia"
    assert c2.safe_area == "arcadia-central-hospital"
    assert c2.explanation["stage"] == "precursor"
    assert c2.explanation["indicator"]["source"] == "feed-a"
    assert c2.start == datetime.fromtimestamp(T0 + 1, UTC)
    assert c2.sources[0].address == C2
    assert seen[(HOSPITAL_HOST, BAD_NET, "to the indicator")].magnitude["records"] == 2
    assert seen[("2001:db8:a000::1", BAD_V6, "from the indicator")].party == "arcadia"


def test_the_engine_adds_them_only_when_given_a_watchlist(borders: Borders) -> None:
    flows = traffic()
    plain = analyse(flows, borders, now=T0 + 60)  # type: ignore[arg-type]
    assert not [d for d in plain.detections if d.kind == "indicator-hit"]
    watching = analyse(flows, borders, now=T0 + 60, indicators=watched())  # type: ignore[arg-type]
    assert len([d for d in watching.detections if d.kind == "indicator-hit"]) == 4
    empty = analyse(flows, borders, now=T0 + 60, indicators=Watchlist([]))  # type: ignore[arg-type]
    assert not [d for d in empty.detections if d.kind == "indicator-hit"]


def test_a_flood_of_pairs_is_capped_and_counted() -> None:
    sources = [f"10.{i // 250}.{i % 250}.1" for i in range(300)]
    flows = join(
        *(records(1, start=T0, src=s, dst=C2, bytes=100 + i) for i, s in enumerate(sources))
    )
    found = Watchlist([Indicator(C2, "feed", "TLP:GREEN")]).observe(batch_of(flows))
    assert len(found) == 200
    assert {d.explanation["pairs_left_out"] for d in found} == {100}
    assert min(d.magnitude["bytes"] for d in found) == 100 + 100  # the loudest 200 are kept


def test_the_store_watchlist_holds_valid_addresses_and_networks(store: Store) -> None:
    now = datetime.fromtimestamp(T0, UTC)
    with store.session() as session:
        for value, until in [
            (C2, None),
            (BAD_NET, now + timedelta(days=1)),
            ("198.51.100.99", now - timedelta(seconds=1)),  # expired
            ("evil.example", None),
        ]:
            session.add(
                IndicatorRow(
                    kind="ipv4", value=value, tlp="TLP:GREEN", source="feed",
                    valid_from=now - timedelta(days=2), valid_until=until,
                )
            )  # fmt: skip
    with store.session() as session:
        held = watchlist(session, now)
    assert sorted(i.value for i in held.indicators) == sorted([C2, BAD_NET])


def hold_c2(store: Store) -> None:
    """The store holds C2 as an indicator, valid since the day before T0."""
    with store.session() as session:
        session.add(
            IndicatorRow(
                kind="ipv4", value=C2, tlp="TLP:GREEN", source="feed-a",
                valid_from=datetime.fromtimestamp(T0 - 86_400, UTC),
            )
        )  # fmt: skip


def test_the_live_detector_stores_the_hit_and_warns_the_party(
    store: Store, demo_mandate: Mandate
) -> None:
    hold_c2(store)
    recorder = DetectionRecorder(store, tlp=demo_mandate.data_policy.default_tlp)
    detector = detector_for(recorder, demo_mandate, update_every=0.05)
    detector.watchlist = StoreWatchlist(store, refresh_s=0)
    try:
        detector(records(3, start=T0, src=C2, dst=HOSPITAL_HOST, packets=2, bytes=300))
        detector.drain()
    finally:
        detector.close()
    with store.session() as session:
        rows = list(
            session.scalars(select(DetectionRow).where(DetectionRow.kind == "indicator-hit"))
        )
        assert [(r.target, r.party_id) for r in rows] == [(HOSPITAL_HOST, "arcadia")]
        warned = [m for m in list_messages(session, SYSTEM, party="arcadia") if C2 in m.subject]
    assert warned, "the indicator hit gave no early warning to the hospital's party"


def test_detect_watches_a_file_of_indicators_and_names_bad_lines(tmp_path: Path) -> None:
    flows = tmp_path / "flows.parquet"
    pq.write_table(traffic(), flows)  # type: ignore[arg-type]
    listed = tmp_path / "watch.txt"
    listed.write_text(
        f"# shared by CERT-B\n{C2}\n\n{BAD_V6}  # the v6 block\nevil.example\n300.1.2.3\n",
        "utf-8",
    )
    result = CliRunner().invoke(
        app,
        ["detect", str(flows), "--indicators", str(listed), "--json",
         "--mandate", str(EXAMPLES / "demo.yaml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    hits = sorted(
        (d["target"], d["sources"][0]["address"]) for d in found if d["kind"] == "indicator-hit"
    )
    assert hits == [("198.18.10.10", C2), ("2001:db8:a000::1", BAD_V6)]
    assert "line 5: 'evil.example' is not an address or network" in result.stderr
    assert "line 6: '300.1.2.3'" in result.stderr

    binary = tmp_path / "watch.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    refused = CliRunner().invoke(app, ["detect", str(flows), "--indicators", str(binary)])
    assert refused.exit_code == 2
    assert "not UTF-8 text" in refused.stderr


def test_detect_with_the_store_watches_its_indicators_and_files_incidents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cyberpeace detect --store``: the store's indicators are watched (here only there), the
    hits are filed into incidents of the mandate's party, and the party is warned; a second run
    over the same records files nothing new (the open incident takes them, warnings dedup)."""
    data = tmp_path / "data"
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(data))
    monkeypatch.delenv("CYBERPEACE_DATABASE_URL", raising=False)
    store = open_store(settings_from(data_dir=data).database_url)
    try:
        hold_c2(store)
    finally:
        store.close()
    flows = tmp_path / "flows.parquet"
    pq.write_table(traffic(), flows)  # type: ignore[arg-type]
    command = ["detect", str(flows), "--store", "--json", "--mandate", str(EXAMPLES / "demo.yaml")]

    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    found = [json.loads(line) for line in first.stdout.splitlines() if line.startswith("{")]
    assert [(d["kind"], d["target"]) for d in found] == [("indicator-hit", HOSPITAL_HOST)]
    assert "watching 1 address indicators from the store" in first.stderr
    assert "filed 1 detections: 1 new incidents, 1 new early warnings" in first.stderr
    store = open_store(settings_from(data_dir=data).database_url)
    try:
        with store.session() as session:
            rows = list(session.scalars(select(DetectionRow)))
            assert [(r.kind, r.party_id) for r in rows] == [("indicator-hit", "arcadia")]
            filed = list(session.scalars(select(IncidentDetectionRow)))
            assert [link.detection_id for link in filed] == [rows[0].id]
            warned = list_messages(session, SYSTEM, party="arcadia")
            assert [C2 in m.subject for m in warned] == [True]
    finally:
        store.close()

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    assert "filed 1 detections: 0 new incidents, 0 new early warnings" in again.stderr
