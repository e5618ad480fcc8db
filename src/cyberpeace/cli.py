"""The ``cyberpeace`` command: a thin layer over the library functions."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from cyberpeace.config import InsecureSettingsError, Settings
from cyberpeace.mission import check_mandate_text, load_mandate

app = typer.Typer(
    help="cyberpeace: operations platform of a cyber peacekeeping mission.", no_args_is_help=True
)
mandate_app = typer.Typer(help="Check and load mandates.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
incidents_app = typer.Typer(help="Incidents in the case store.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
store_app = typer.Typer(help="The case store.", no_args_is_help=True)
app.add_typer(mandate_app, name="mandate")
app.add_typer(token_app, name="token")
app.add_typer(incidents_app, name="incidents")
app.add_typer(audit_app, name="audit")
app.add_typer(store_app, name="store")

DataDir = Annotated[Path | None, typer.Option(help="Data directory (CYBERPEACE_DATA_DIR).")]
Bind = Annotated[str | None, typer.Option(help="HOST:PORT to serve on (CYBERPEACE_BIND).")]


def _settings(**overrides: Any) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _serve(settings: Settings) -> None:
    import uvicorn

    from cyberpeace.app import create_app

    try:
        settings.check_safe_to_serve()
    except InsecureSettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the console.")] = True,
    data_dir: DataDir = None,
    bind: Bind = None,
) -> None:
    """Create the demo mission, run its ten-minute scenario, and serve the console."""
    from cyberpeace.demo import NotADemoStoreError, run_demo

    try:
        result = run_demo(_settings(data_dir=data_dir, bind=bind))
    except NotADemoStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"demo mission: {result.flows:,} flows -> {result.detections} detections, "
        f"{len(result.incidents)} incidents"
    )
    for ident, title, severity, status in result.incidents:
        typer.echo(f"  incident {ident}: [{severity}] {title} ({status})")
    typer.echo(f"store: {result.settings.database_url}")
    if serve:
        typer.echo(f"staff token: {result.staff_token}")
        typer.echo(f"console: http://{result.settings.bind}/  (sign in with the token above)")
        _serve(result.settings)


@app.command()
def serve(
    data_dir: DataDir = None,
    bind: Bind = None,
    mandate: Annotated[Path | None, typer.Option(help="Mandate to load.")] = None,
) -> None:
    """Serve the API and the console."""
    _serve(_settings(data_dir=data_dir, bind=bind, mandate=mandate))


@mandate_app.command("check")
def mandate_check(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
) -> None:
    """Validate mandate files; print every problem as FILE:LINE:COLUMN and exit 1 on errors."""
    failed = False
    for path in files:
        mandate, problems = check_mandate_text(path.read_text("utf-8"), str(path))
        for problem in problems:
            typer.echo(problem.render(str(path)), err=problem.severity == "error")
        errors = sum(p.severity == "error" for p in problems)
        if mandate is None or errors:
            failed = True
            typer.echo(f"{path}: {errors} error(s)", err=True)
        else:
            typer.echo(
                f"{path}: ok ({len(mandate.parties)} parties, "
                f"{len(mandate.safe_areas)} safe areas, {len(mandate.terms)} terms)"
            )
    raise typer.Exit(1 if failed else 0)


@mandate_app.command("load")
def mandate_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)], data_dir: DataDir = None
) -> None:
    """Load a mandate's parties and safe areas into the case store."""
    from cyberpeace.store import open_store, sync_mandate

    mandate = load_mandate(file)
    store = open_store(_settings(data_dir=data_dir).database_url)
    with store.session() as session:
        sync_mandate(session, mandate, by=_actor())
    typer.echo(f"loaded {len(mandate.parties)} parties, {len(mandate.safe_areas)} safe areas")


@token_app.command("create")
def token_create(
    party: Annotated[str | None, typer.Option(help="Party the token acts for.")] = None,
    staff: Annotated[bool, typer.Option(help="A mission staff token.")] = False,
    label: Annotated[str, typer.Option(help="A note on who holds it.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create an API token and print it (it is stored only as a hash)."""
    from cyberpeace.store import create_token, open_store

    if staff == (party is not None):
        typer.echo("error: give exactly one of --party ID or --staff", err=True)
        raise typer.Exit(2)
    store = open_store(_settings(data_dir=data_dir).database_url)
    try:
        with store.session() as session:
            token = create_token(session, party_id=party, label=label, by=_actor())
    except LookupError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(1) from None
    typer.echo(token)


@incidents_app.command("list")
def incidents_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    party: Annotated[str | None, typer.Option(help="Only this victim party.")] = None,
    data_dir: DataDir = None,
) -> None:
    """List incidents, newest first."""
    from cyberpeace.api.schemas import IncidentOut
    from cyberpeace.store import SYSTEM, list_incidents, open_store

    store = open_store(_settings(data_dir=data_dir).database_url)
    with store.session() as session:
        rows = [
            IncidentOut.model_validate(r)
            for r in list_incidents(session, SYSTEM, status=status, party=party, limit=1000)
        ]
    for row in rows:
        if as_json:
            typer.echo(row.model_dump_json())
        else:
            typer.echo(
                f"{row.id:>5}  {row.status:<13} {row.severity:<8} {row.party_id:<12} "
                f"{row.last_seen:%Y-%m-%d %H:%M}  {row.title}"
            )


@incidents_app.command("show")
def incidents_show(
    incident_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Show one incident with its detections."""
    from cyberpeace.api.schemas import IncidentDetailOut
    from cyberpeace.store import SYSTEM, NotFound, get_incident, open_store

    store = open_store(_settings(data_dir=data_dir).database_url)
    try:
        with store.session() as session:
            incident = IncidentDetailOut.model_validate(get_incident(session, SYSTEM, incident_id))
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(incident.model_dump_json(indent=2))
        return
    typer.echo(_incident_text(incident))


def _incident_text(incident: Any) -> str:
    lines = [
        f"incident {incident.id}: {incident.title}",
        f"  status {incident.status}, severity {incident.severity}, {incident.tlp}",
        f"  victim {incident.party_id}"
        + (f" / {incident.safe_area_id}" if incident.safe_area_id else ""),
        f"  seen {incident.first_seen:%Y-%m-%d %H:%M:%S} to {incident.last_seen:%H:%M:%S} UTC",
    ]
    for d in incident.detections:
        peak = d.magnitude.get("peak_pps", 0)
        lines.append(
            f"  detection {d.id}: {d.kind} on {d.target} by {d.detector}, "
            f"peak {peak:,.0f} pkt/s, {len(d.sources)} top sources"
        )
        summary = d.explanation.get("summary")
        if summary:
            lines.append(f"    why: {summary}")
    return "\n".join(lines)


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Recompute the audit log's hash chain; exit 1 if any entry was changed."""
    from cyberpeace.store import open_store, verify

    store = open_store(_settings(data_dir=data_dir).database_url)
    with store.session() as session:
        result = verify(session)
    if result.ok:
        typer.echo(f"audit log intact: {result.entries} entries")
        return
    typer.echo(f"audit log BROKEN at entry {result.first_bad_seq}: {result.reason}", err=True)
    raise typer.Exit(1)


@store_app.command("migrate")
def store_migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the case store's schema."""
    from cyberpeace.store import open_store

    settings = _settings(data_dir=data_dir)
    open_store(settings.database_url).close()
    typer.echo(f"case store at head: {settings.database_url}")


def main() -> None:
    app()
