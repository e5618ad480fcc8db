"""The attribution and patterns commands on a real store in a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.config import Settings
from cyberpeace.mission import Mandate
from cyberpeace.store import open_store, sync_mandate
from tests.investigate.planted import plant

runner = CliRunner()


def _data(tmp_path: Path, mandate: Mandate) -> tuple[str, list[int]]:
    store = open_store(Settings(data_dir=tmp_path).database_url)
    with store.session() as session:
        sync_mandate(session, mandate)
    planted = plant(store)
    store.close()
    return str(tmp_path), planted.hospital_campaign


def test_add_show_and_patterns(tmp_path: Path, demo_mandate: Mandate) -> None:
    data, incidents = _data(tmp_path, demo_mandate)
    added = runner.invoke(
        app,
        [
            *["attribution", "add", str(incidents[0]), "--candidate", "borduria"],
            *["--confidence", "low", "--basis", "infrastructure:0.6=same /24", "--data-dir", data],
        ],
    )
    assert added.exit_code == 0, added.output
    shown = runner.invoke(app, ["attribution", "show", str(incidents[0]), "--data-dir", data])
    assert "borduria, low confidence" in shown.output
    assert "basis infrastructure (weight 0.6) same /24" in shown.output
    report = runner.invoke(app, ["patterns", "--json", "--data-dir", data])
    assert report.exit_code == 0, report.output
    assert json.loads(report.output)["campaigns"][0]["members"] == incidents
    text = runner.invoke(app, ["patterns", "--since", "2026-11-01", "--data-dir", data])
    assert "campaigns: 2" in text.output


def test_bad_input_is_refused_with_the_reason(tmp_path: Path, demo_mandate: Mandate) -> None:
    data, incidents = _data(tmp_path, demo_mandate)
    base = ["attribution", "add", "--candidate", "x", "--confidence", "low", "--data-dir", data]
    cases = [
        ([str(incidents[0]), "--basis", "gossip"], "unknown basis kind 'gossip'"),
        ([str(incidents[0]), "--basis", "claims:9"], "weight 9.0 is outside"),
        ([str(incidents[0]), "--basis", "claims:high"], "weight 'high' is not a number"),
        (["4242", "--basis", "claims"], "no incident 4242"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, base[:2] + extra + base[2:])
        assert result.exit_code == 1
        assert message in result.output
    bad_since = runner.invoke(app, ["patterns", "--since", "yesterday", "--data-dir", data])
    assert bad_since.exit_code == 2
    assert "not an ISO 8601" in bad_since.output
