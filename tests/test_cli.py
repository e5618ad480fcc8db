"""The command line, run in-process on a temporary data directory."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberpeace.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(directory))
    monkeypatch.delenv("CYBERPEACE_DATABASE_URL", raising=False)
    return directory


def test_mandate_check_accepts_the_examples() -> None:
    result = runner.invoke(
        app, ["mandate", "check", str(EXAMPLES / "demo.yaml"), str(EXAMPLES / "minimal.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "demo.yaml: ok (3 parties, 3 safe areas, 1 terms)" in result.output
    assert "minimal.yaml: ok (1 parties, 1 safe areas, 0 terms)" in result.output


def test_mandate_check_reports_every_error_with_its_location(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        textwrap.dedent(
            """\
            mission: {id: m, name: M}
            parties:
              - id: a
                name: A
                country: XA
                contact: {name: CERT A}
                territory: {prefixes: [10.0.0.0/8]}
              - id: b
                name: B
                country: XB
                contact: {name: CERT B}
                territory: {prefixes: [10.1.0.0/16]}
            safe_areas:
              - {id: h, name: H, party: nobody, sector: health, prefixes: [10.1.2.0/24]}
            """
        )
    )
    result = runner.invoke(app, ["mandate", "check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:12:28: error: parties[1].territory.prefixes[0]: overlaps" in result.output
    assert f"{broken}:14:29: error: safe_areas[0].party: unknown party 'nobody'" in result.output
    assert "2 error(s)" in result.output


def test_mandate_check_names_a_type_error(tmp_path: Path) -> None:
    broken = tmp_path / "types.yaml"
    broken.write_text("mission: {id: m, name: M}\nparties: 7\n")
    result = runner.invoke(app, ["mandate", "check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:2:10: error: parties: Input should be a valid list" in result.output


def test_token_needs_exactly_one_kind(data_dir: Path) -> None:
    result = runner.invoke(app, ["token", "create"])
    assert result.exit_code == 2
    assert "exactly one of --party ID or --staff" in result.output


def test_token_for_unknown_party_fails(data_dir: Path) -> None:
    result = runner.invoke(app, ["token", "create", "--party", "atlantis"])
    assert result.exit_code == 1
    assert "no party 'atlantis'" in result.output


def test_load_token_incidents_and_audit(data_dir: Path) -> None:
    loaded = runner.invoke(app, ["mandate", "load", str(EXAMPLES / "demo.yaml")])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 3 parties, 3 safe areas" in loaded.output
    token = runner.invoke(app, ["token", "create", "--party", "arcadia"])
    assert token.exit_code == 0
    assert token.output.strip().startswith("cp_")
    listed = runner.invoke(app, ["incidents", "list", "--json"])
    assert listed.exit_code == 0
    assert listed.output == ""
    missing = runner.invoke(app, ["incidents", "show", "42"])
    assert missing.exit_code == 1
    assert "no incident 42" in missing.output
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0
    assert "audit log intact: 2 entries" in verified.output


def test_serve_refuses_public_bind_with_default_secret(data_dir: Path) -> None:
    result = runner.invoke(app, ["serve", "--bind", "0.0.0.0:8000"])
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0:8000" in result.output


def test_demo_without_serving(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "detections" in result.output
    assert "incident 1:" in result.output
    lines = runner.invoke(app, ["incidents", "list", "--json"]).output.splitlines()
    incidents = [json.loads(line) for line in lines]
    assert {i["safe_area_id"] for i in incidents} >= {
        "arcadia-central-hospital",
        "arcadia-election-commission",
    }
    shown = runner.invoke(app, ["incidents", "show", str(incidents[0]["id"])])
    assert shown.exit_code == 0
    assert "detection" in shown.output


def test_demo_runs_again_but_never_wipes_a_real_store(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--no-serve"]).exit_code == 0
    again = runner.invoke(app, ["demo", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    other = data_dir.parent / "real"
    assert (
        runner.invoke(
            app, ["mandate", "load", str(EXAMPLES / "minimal.yaml"), "--data-dir", str(other)]
        ).exit_code
        == 0
    )
    refused = runner.invoke(app, ["demo", "--no-serve", "--data-dir", str(other)])
    assert refused.exit_code == 1
    assert "holds a case store the demo did not create" in refused.output
    assert (other / "cyberpeace.db").exists()
