"""``cyberpeace cases``: the case file from the command line (timeline, notes, tasks, links,
victims, severity), over the same functions the API uses."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from cyberpeace.config import Settings
from cyberpeace.store import Viewer

cases_app = typer.Typer(
    help="Incidents as cases: timeline, notes, tasks, links.", no_args_is_help=True
)
DataDir = Annotated[Path | None, typer.Option(help="Data directory (CYBERPEACE_DATA_DIR).")]
Reason = Annotated[str, typer.Option("--reason", help="Why; kept in the audit log.")]


@contextmanager
def _case_session(data_dir: Path | None) -> Iterator[tuple[Session, Viewer]]:
    """A committed session as the person at the terminal; errors printed, exit 1."""
    from cyberpeace.store import Forbidden, InvalidTransition, NotFound, open_store

    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            yield session, Viewer("staff", name=f"cli:{getpass.getuser()}")
    except (NotFound, Forbidden, InvalidTransition, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()


def _run(data_dir: Path | None, step: Callable[[Session, Viewer], Any]) -> Any:
    with _case_session(data_dir) as (session, viewer):
        return step(session, viewer)


@cases_app.command("timeline")
def cases_timeline(incident_id: int, data_dir: DataDir = None) -> None:
    """Everything that happened in a case, oldest first."""
    from cyberpeace.investigate.case_file import timeline

    for event in _run(data_dir, lambda s, v: timeline(s, v, incident_id)):
        typer.echo(
            f"{event.at:%Y-%m-%d %H:%M:%S}  {event.kind:<10} {event.actor:<24} {event.summary}"
        )


@cases_app.command("note")
def cases_note(incident_id: int, text: str, data_dir: DataDir = None) -> None:
    """Add an analyst note (seen by mission staff only)."""
    from cyberpeace.investigate.case_file import add_note

    row = _run(data_dir, lambda s, v: add_note(s, v, incident_id, text))
    typer.echo(f"note {row.id} on incident {incident_id}")


@cases_app.command("task")
def cases_task(
    incident_id: int,
    title: str,
    owner: Annotated[str | None, typer.Option(help="Who does it.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Open a task on a case."""
    from cyberpeace.investigate.case_file import create_task

    row = _run(data_dir, lambda s, v: create_task(s, v, incident_id, title, owner))
    typer.echo(f"task {row.id}: {row.title} (owner {row.owner or 'none'})")


@cases_app.command("tasks")
def cases_tasks(incident_id: int, data_dir: DataDir = None) -> None:
    """List a case's tasks."""
    from cyberpeace.investigate.case_file import list_tasks

    for row in _run(data_dir, lambda s, v: list_tasks(s, v, incident_id)):
        typer.echo(f"{row.id:>5}  {row.status:<5} {row.owner or '-':<16} {row.title}")


@cases_app.command("assign")
def cases_assign(task_id: int, owner: str, data_dir: DataDir = None) -> None:
    """Give a task to someone."""
    from cyberpeace.investigate.case_file import assign_task

    row = _run(data_dir, lambda s, v: assign_task(s, v, task_id, owner))
    typer.echo(f"task {row.id}: owner {row.owner}")


@cases_app.command("done")
def cases_done(
    task_id: int,
    outcome: Annotated[str, typer.Option(help="What came of it.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Complete a task."""
    from cyberpeace.investigate.case_file import complete_task

    row = _run(data_dir, lambda s, v: complete_task(s, v, task_id, outcome))
    typer.echo(f"task {row.id}: done")


@cases_app.command("link")
def cases_link(
    incident_id: int,
    other_id: int,
    kind: Annotated[str, typer.Option(help="duplicate, related or part-of.")],
    reason: Reason,
    data_dir: DataDir = None,
) -> None:
    """Record that INCIDENT_ID is a duplicate of, related to, or part of OTHER_ID."""
    from cyberpeace.investigate.case_file import link_incidents

    _run(data_dir, lambda s, v: link_incidents(s, v, incident_id, other_id, kind, reason))
    typer.echo(f"incident {incident_id} {kind} incident {other_id}")


@cases_app.command("victim")
def cases_victim(
    incident_id: int,
    party: str,
    safe_area: Annotated[str | None, typer.Option(help="The safe area hit.")] = None,
    sector: Annotated[str | None, typer.Option(help="The sector hit.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a victim (the party may then see the case)."""
    from cyberpeace.investigate.case_file import add_victim

    _run(
        data_dir,
        lambda s, v: add_victim(s, v, incident_id, party, safe_area=safe_area, sector=sector),
    )
    typer.echo(f"incident {incident_id}: victim {party}")


@cases_app.command("severity")
def cases_severity(
    incident_id: int, severity: str, reason: Reason, data_dir: DataDir = None
) -> None:
    """Change a case's severity, with the reason."""
    from cyberpeace.investigate.case_file import change_severity

    _run(data_dir, lambda s, v: change_severity(s, v, incident_id, severity, reason))
    typer.echo(f"incident {incident_id}: severity {severity}")


@cases_app.command("status")
def cases_status(
    incident_id: int, status: str, reason: Reason = "", data_dir: DataDir = None
) -> None:
    """Move a case along the workflow, new to closed (reopening goes back to investigating)."""
    from cyberpeace.store import change_status

    _run(data_dir, lambda s, v: change_status(s, v, incident_id, status, reason))
    typer.echo(f"incident {incident_id}: {status}")


@cases_app.command("import")
def cases_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    party: Annotated[str, typer.Option(help="The party that reports the incident.")],
    data_dir: DataDir = None,
) -> None:
    """File a party's incident from a STIX 2.1 bundle or a MISP event (told apart by content).

    A bundle holds one incident object; each event is one incident. The same STIX incident id or
    MISP event uuid again updates its incident. A bad file is refused whole, nothing kept.
    """
    from cyberpeace.correlation import Correlator
    from cyberpeace.investigate.party_reports import file_report, sniff

    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    data = file.read_bytes()

    def step(session: Session, viewer: Viewer) -> Any:
        intelligence = Correlator(settings.data_dir / "correlation").intelligence(session)
        return file_report(session, viewer, party, data, sniff(data), intelligence)

    for filed in _run(data_dir, step):
        typer.echo(
            f"incident {filed.incident_id} {filed.outcome} from {filed.source}: "
            f"{filed.added} indicator(s) added, {filed.widened} seen again"
        )
        for reason in filed.refused:
            typer.echo(f"  refused: {reason}", err=True)
