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


@pytest.fixture(scope="module")
def demo_flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo scenario's ten minutes, written as ingest would write them (Parquet)."""
    from datetime import UTC, datetime

    from cyberpeace.telemetry import demo_scenario
    from cyberpeace.telemetry.ingest import write_parquet

    path = tmp_path_factory.mktemp("detect") / "demo.parquet"
    write_parquet(demo_scenario(datetime(2026, 9, 15, 12, 0, tzinfo=UTC)).flows, path)
    return path


def test_detect_with_the_mandate_prints_json_lines(demo_flows: Path) -> None:
    result = runner.invoke(
        app, ["detect", str(demo_flows), "--mandate", str(EXAMPLES / "demo.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((d["kind"], d["target"]) for d in found) == [
        ("host-sweep", "198.18.20.0/24"),
        ("port-scan", "198.18.20.5"),
        ("udp-reflection", "198.18.10.10"),
    ]  # the mission's own sweep is allow-listed; the reflection explains the volumetric flood
    reflection = next(d for d in found if d["kind"] == "udp-reflection")
    assert [s["kind"] for s in reflection["explanation"]["suppressed"]] == ["volumetric-flood"]
    assert reflection["detector"] == "reflection"
    assert reflection["safe_area"] == "arcadia-central-hospital"
    assert reflection["start"].startswith("2026-09-15T12:03:0")
    assert reflection["peak"]["bits_per_s"] > 2e9
    assert reflection["peak"]["packets_per_s"] > 1e5
    assert reflection["peak"]["flows_per_s"] == pytest.approx(2_000, abs=20)
    assert len(reflection["sources"]) == 10
    assert all(0 < s["share"] < 0.05 for s in reflection["sources"])
    assert {r["metric"] for r in reflection["explanation"]["rules"]} == {"sources", "pps", "bps"}
    assert "508 allow-listed" in result.stderr


def test_detect_without_a_mandate_watches_everything(demo_flows: Path) -> None:
    result = runner.invoke(app, ["detect", str(demo_flows)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # and the mission's own sweep, unknown without the allow list
    sweep = next(line for line in lines if "198.18.10.0/24" in line)
    assert " low host-sweep against 198.18.10.0/24 [horizontal-scan]: " in sweep
    assert "top sources 198.18.250.3 100.0%." in sweep
    assert "probed 254 hosts of the network on TCP ports 22 and 443" in sweep


def test_detect_reads_csv_and_keeps_going_past_a_bad_file(tmp_path: Path) -> None:
    """The scan minute of the scenario as CSV (addresses as text), beside a file of nonsense."""
    import ipaddress
    from datetime import UTC, datetime

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from cyberpeace.telemetry import demo_scenario

    flows = demo_scenario(datetime(2026, 9, 15, 12, 0, tzinfo=UTC), minutes=8).flows
    minute = pc.greater_equal(
        flows.column("start"), pa.scalar(datetime(2026, 9, 15, 12, 7, tzinfo=UTC))
    )
    flows = flows.filter(minute)
    hop = flows.schema.get_field_index("next_hop")
    flows = flows.set_column(hop, "next_hop", pa.nulls(flows.num_rows, pa.string()))
    for name in ("src_addr", "dst_addr"):
        text = [str(ipaddress.IPv6Address(a).ipv4_mapped) for a in flows.column(name).to_pylist()]
        flows = flows.set_column(flows.schema.get_field_index(name), name, pa.array(text))
    for name in ("start", "end"):
        flows = flows.set_column(
            flows.schema.get_field_index(name), name, flows.column(name).cast(pa.int64())
        )
    csv = tmp_path / "scan.csv"
    body = pa.BufferOutputStream()  # pyarrow quotes a header it writes; ours is written plain
    pacsv.write_csv(flows, body, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    csv.write_bytes(",".join(flows.schema.names).encode() + b"\n" + body.getvalue().to_pybytes())
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not telemetry")
    result = runner.invoke(app, ["detect", str(junk), str(csv)])
    assert result.exit_code == 1
    assert f"{junk}: refused:" in result.stderr
    assert [line.split()[2:5] for line in result.stdout.splitlines()] == [
        ["port-scan", "against", "198.18.20.5"],
        ["host-sweep", "against", "198.18.20.0/24"],
    ]


def test_detect_refuses_a_broken_mandate(demo_flows: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("mission: {id: m}\n")
    result = runner.invoke(app, ["detect", str(demo_flows), "--mandate", str(broken)])
    assert result.exit_code == 2
    assert f"{broken}: error:" in result.stderr
