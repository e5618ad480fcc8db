"""``cyberpeace misp import`` and ``cyberpeace misp export``: MISP events in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cyberpeace.cli_options import DataDir, mandated_mission, settings_from

misp_app = typer.Typer(help="MISP events: import and export.", no_args_is_help=True)


@misp_app.command("import")
def misp_import(
    file: Annotated[
        Path, typer.Argument(exists=True, help="MISP event JSON, a list of events, or a feed.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Store every good event: its IDS attributes as indicators, and an incident if the victim
    is known; print counts and each refused event's reason."""
    import getpass

    from cyberpeace.mission import load_mandate
    from cyberpeace.share.misp_import import UNMARKED_TLP, import_misp
    from cyberpeace.store import open_store

    settings = settings_from(data_dir=data_dir)
    default_tlp = (
        load_mandate(settings.mandate).data_policy.default_tlp if settings.mandate else UNMARKED_TLP
    )
    store = open_store(settings.database_url)
    result = import_misp(store, file, default_tlp=default_tlp, added_by=f"cli:{getpass.getuser()}")
    for reason in result.refused:
        typer.echo(f"refused {reason}")
    for note in result.unfiled:
        typer.echo(f"not filed as an incident: {note}")
    typer.echo(
        f"events: {result.imported} new, {result.updated} updated, {result.unchanged} unchanged, "
        f"{len(result.refused)} refused; {result.indicators} indicators, "
        f"{result.incidents} incidents, {result.kept} attributes kept without an indicator"
    )
    if result.refused and not (result.imported or result.updated or result.unchanged):
        raise typer.Exit(1)


@misp_app.command("export")
def misp_export(
    incident: Annotated[int, typer.Option(help="The incident to export.")],
    out: Annotated[Path | None, typer.Option(help="Write the event here (default stdout).")] = None,
    party: Annotated[str | None, typer.Option(help="Export as this party would see it.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export one incident as a MISP event (JSON)."""
    import json

    from cyberpeace.share.misp_export import export_event
    from cyberpeace.store import SYSTEM, Forbidden, NotFound, Viewer, open_store

    settings = settings_from(data_dir=data_dir)
    mission = mandated_mission(settings)
    viewer = Viewer("party", party) if party else SYSTEM
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            event = export_event(session, viewer, mission.id, mission.name, incident)
    except (NotFound, Forbidden) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    text = json.dumps(event, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        count = len(event["Event"]["Attribute"])
        typer.echo(f"wrote MISP event with {count} attributes to {out}")
