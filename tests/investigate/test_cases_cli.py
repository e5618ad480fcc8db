"""``cyberpeace cases`` on both backends: tasks, links, notes, victims, status with reasons."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.store import SYSTEM, IncidentDraft, create_incident
from cyberpeace.store.tables import IncidentRow
from tests.investigate.conftest import Case
from tests.store.factories import T0

runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_case_worked_from_the_command_line(case: Case) -> None:
    with case.store.session() as session:
        other = create_incident(
            session,
            SYSTEM,
            IncidentDraft("Scan of the hospital", "arcadia", "low", T0, T0, "TLP:AMBER"),
        ).id
    ident = str(case.incident)
    assert "task 1: Trace the reflectors (owner none)" in cli(
        "cases", "task", ident, "Trace the reflectors"
    )
    assert "owner analyst-2" in cli("cases", "assign", "1", "analyst-2")
    cli("cases", "done", "1", "--outcome", "412 resolvers")
    assert "done  analyst-2" in cli("cases", "tasks", ident)
    cli("cases", "link", str(other), ident, "--kind", "part-of", "--reason", "same campaign")
    cli("cases", "note", ident, "reflection via open DNS resolvers")
    cli("cases", "victim", ident, "borduria", "--safe-area", "borduria-power-utility")
    cli("cases", "severity", ident, "critical", "--reason", "patients diverted")
    cli("cases", "status", ident, "closed", "--reason", "mitigated")
    refused = runner.invoke(app, ["cases", "status", ident, "investigating"])
    assert refused.exit_code == 1
    assert "reopening a closed incident needs a reason" in refused.output
    cli("cases", "status", ident, "investigating", "--reason", "it started again")
    shown = cli("cases", "timeline", ident)
    for words in (
        "task done: Trace the reflectors: 412 resolvers",
        f"incident {other} part-of",
        "reflection via open DNS",
        "victim added: borduria / borduria-power-utility",
        "high → critical: patients diverted",
        "closed → investigating: it started again",
    ):
        assert words in shown, words
    bad = runner.invoke(app, ["cases", "link", ident, ident, "--kind", "related", "--reason", "x"])
    assert bad.exit_code == 1
    assert "cannot be linked to itself" in bad.output


def test_a_party_report_imported_from_the_command_line(case: Case, tmp_path: Path) -> None:
    from tests.api.test_report_import import INCIDENT, bundle
    from tests.share.test_misp_import import DATA

    path = tmp_path / "report.json"
    path.write_text(json.dumps(bundle()))
    created = cli("cases", "import", str(path), "--party", "arcadia")
    assert f"created from stix:{INCIDENT}: 2 indicator(s) added" in created
    ident = created.split()[1]
    assert "updated from stix:" in cli("cases", "import", str(path), "--party", "arcadia")
    shown = cli("cases", "timeline", ident)
    assert "party:arcadia via cli:" in shown
    assert "Report updated from STIX bundle" in shown
    misp = cli("cases", "import", str(DATA / "misp_event.json"), "--party", "borduria")
    assert "created from misp:5e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b" in misp
    with case.store.session() as session:
        filed = session.get(IncidentRow, int(misp.split()[1]))
        assert filed is not None
        assert filed.party_id == "borduria"
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [{"type": "incident"}]}')
    refused = runner.invoke(app, ["cases", "import", str(broken), "--party", "arcadia"])
    assert refused.exit_code == 1
    assert "invalid object(s): object 0" in refused.output
    taken = runner.invoke(app, ["cases", "import", str(path), "--party", "borduria"])
    assert taken.exit_code == 1
    assert "filed by another party" in taken.output
