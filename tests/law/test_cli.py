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
