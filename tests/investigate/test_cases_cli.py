"""``cyberpeace cases`` on both backends: tasks, links, notes, victims, status with reasons."""

from __future__ import annotations

from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.store import SYSTEM, IncidentDraft, create_incident
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
