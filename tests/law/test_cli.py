"""``cyberpeace assess`` in-process."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cyberpeace.cli import app

runner = CliRunner()
ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "src" / "cyberpeace" / "law" / "examples" / "hospital-ddos.yaml"
DEMO = ROOT / "src" / "cyberpeace" / "mission" / "examples" / "demo.yaml"


def test_assess_json_lists_findings_and_responses() -> None:
    result = runner.invoke(
        app, ["assess", "--facts", str(EXAMPLE), "--mandate", str(DEMO), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rules = {f["rule"]: f["level"] for f in data["findings"]}
    assert {"gge-13f", "tallinn-4", "budapest-5"} <= set(rules)
    assert rules["budapest-5"] == "breached"
    assert {r["option"] for r in data["responses"]} >= {"countermeasures", "no-response"}
    assert data["mandate"][0]["rule"] == "mandate-ceasefire-cyber-1"
    assert data["knowledge_version"].startswith("sha256:")


def test_assess_text() -> None:
    result = runner.invoke(app, ["assess", "--facts", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "tallinn-4" in result.output
    assert "responses:" in result.output


def test_assess_names_the_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "facts.json"
    bad.write_text(json.dumps({"effects": {"disruption_hours": "long"}}))
    result = runner.invoke(app, ["assess", "--facts", str(bad)])
    assert result.exit_code == 1
    assert "effects.disruption_hours" in result.output


def test_assess_a_stored_incident_sets_facts_and_versions(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["demo", "--no-serve", *data]).exit_code == 0
    shown = runner.invoke(app, ["assess", "1", "--mandate", str(DEMO), "--json", *data])
    assert shown.exit_code == 0, shown.output
    first = json.loads(shown.output)
    assert first["version"] == 1, "the demo assessed its incidents"
    assert first["created_by"] == "system"

    changed = runner.invoke(
        app,
        [
            "assess",
            "1",
            "--mandate",
            str(DEMO),
            "--set",
            "effects.injury_or_death=false",
            "--reason",
            "hospital report",
            *data,
        ],
    )
    assert changed.exit_code == 0, changed.output
    assert "assessment version 2 by cli:" in changed.output
    assert 'changed effects.injury_or_death: "unknown" -> false' in changed.output
    assert "mandate-ceasefire-cyber-1" in changed.output

    refused = runner.invoke(app, ["assess", "1", "--set", "effects.nope=1", *data])
    assert refused.exit_code == 2
    assert "effects.nope: no such fact" in refused.output
    missing = runner.invoke(app, ["assess", "99", *data])
    assert missing.exit_code == 1
    assert "no incident 99" in missing.output
    both = runner.invoke(app, ["assess", "1", "--facts", str(EXAMPLE), *data])
    assert both.exit_code == 2
