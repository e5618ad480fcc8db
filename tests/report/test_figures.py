"""The figures (party map, charts, volumes) and the text handling, without a store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cyberpeace.report import ReportError, parse_moment, parse_tlp
from cyberpeace.report.charts import column_chart, row_chart
from cyberpeace.report.party_map import party_map, volume_text
from cyberpeace.report.rendering import css_string
from cyberpeace.report.volumes import PartyFlow, party_flows, peak_rates, top_sources
from cyberpeace.share.tlp import TLP_LEVELS
from cyberpeace.store.tables import DetectionRow

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _detection(
    start_min: int, minutes: int, pps: float, sources: list[dict[str, object]]
) -> DetectionRow:
    return DetectionRow(
        party_id="arcadia",
        start=T0 + timedelta(minutes=start_min),
        end=T0 + timedelta(minutes=start_min + minutes),
        magnitude={"peak_pps": pps},
        sources=sources,
    )


DETECTIONS = [
    _detection(
        0,
        10,
        100_000,
        [
            {"address": "203.0.113.53", "party": "calvinia", "bytes": 9_000, "packets": 90},
            {"address": "198.51.100.17", "bytes": 1_000, "packets": 10},
        ],
    ),
    _detection(
        5,
        10,
        400_000,
        [
            {"address": "203.0.113.53", "party": "calvinia", "bytes": 3_000, "packets": 30},
            {"address": "198.19.4.53", "party": "borduria", "bytes": 5_000, "packets": 50},
        ],
    ),
]


def test_volumes_sum_sources_by_party_and_address() -> None:
    assert party_flows(DETECTIONS) == [
        PartyFlow("calvinia", "arcadia", 12_000, 120),
        PartyFlow("borduria", "arcadia", 5_000, 50),
        PartyFlow("unattributed", "arcadia", 1_000, 10),
    ]
    ranked = top_sources(DETECTIONS, 2)
    assert [(s.address, s.party, s.bytes) for s in ranked] == [
        ("203.0.113.53", "calvinia", 12_000),
        ("198.19.4.53", "borduria", 5_000),
    ]


def test_peak_rates_take_the_highest_active_detection_per_bin() -> None:
    series = peak_rates(DETECTIONS, T0 - timedelta(minutes=5), T0 + timedelta(minutes=20), 5)
    # Bins of 5 minutes from 09:55: nothing, the first alone, then both, the second, nothing.
    assert series.peak_pps == [0.0, 100_000.0, 400_000.0, 400_000.0, 0.0]
    assert series.starts[1] == T0
    assert series.seconds == 300
    assert peak_rates([], T0, T0 + timedelta(hours=1), 4).peak_pps == [0.0] * 4


def test_party_map_draws_a_node_per_party_and_wider_arrows_for_more_volume() -> None:
    flows = [*party_flows(DETECTIONS), PartyFlow("arcadia", "arcadia", 10, 1)]
    drawn = party_map(flows, {"arcadia": "Republic of Arcadia"})
    assert [n.id for n in drawn.nodes] == ["arcadia", "borduria", "calvinia", "unattributed"]
    assert next(n for n in drawn.nodes if n.id == "arcadia").role == "both"
    assert next(n for n in drawn.nodes if n.id == "arcadia").name == "Republic of Arcadia"
    widths = {(e.source, e.target): e.width for e in drawn.edges}
    assert (
        widths[("calvinia", "arcadia")]
        > widths[("borduria", "arcadia")]
        > widths[("unattributed", "arcadia")]
    )
    for node in drawn.nodes:
        assert 0 < node.x < drawn.width
        assert 0 < node.y < drawn.height
    assert all(re.fullmatch(r"M [-\d. ]+ [QC] [-\d. ]+", e.path) for e in drawn.edges)
    assert party_map([], {}).nodes == []


def test_charts_scale_bars_to_the_largest_value() -> None:
    columns = column_chart("rates", ["a", "b", "c"], [0, 50, 100], ["0", "50", "100"])
    assert [round(b.height) for b in columns.bars] == [0, 75, 150]
    assert columns.top == "100"
    assert not columns.empty
    assert column_chart("none", ["a"], [0.0], ["0"]).empty
    rows = row_chart("top", ["x", "y"], [10, 5], ["10 B", "5 B"])
    assert rows.bars[0].width == 2 * rows.bars[1].width
    assert volume_text(13_200_000_000) == "13.2 GB"
    assert volume_text(999) == "999 B"


@given(st.text(max_size=200))
def test_css_strings_cannot_leave_the_string_or_the_style_element(text: str) -> None:
    escaped = str(css_string(text))
    # Only plain characters and CSS escapes ("\\3c " for "<") are left.
    assert re.fullmatch(r"(?:[A-Za-z0-9 .,:;_/()#+!?'-]|\\[0-9a-f]+ )*", escaped)


@given(st.text(max_size=60))
def test_parse_moment_returns_utc_or_names_the_problem(text: str) -> None:
    try:
        moment, problem = parse_moment(text, "since"), ""
    except ReportError as exc:
        moment, problem = None, str(exc)
    assert problem.startswith("since: ") if moment is None else moment.tzinfo is UTC


@given(st.one_of(st.text(max_size=30), st.sampled_from([*TLP_LEVELS, "amber+strict", "Red"])))
def test_parse_tlp_returns_a_tlp_2_level_or_refuses(text: str) -> None:
    try:
        level, problem = parse_tlp(text), ""
    except ReportError as exc:
        level, problem = "", str(exc)
    assert level in TLP_LEVELS if level else "unknown TLP level" in problem
