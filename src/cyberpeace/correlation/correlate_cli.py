"""``cyberpeace correlate INCIDENT_ID [--json]``: an incident's correlations, as in the API.

One command rather than a group, registered with ``app.command("correlate")(correlate)``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from cyberpeace.cli_options import DataDir, settings_from


def correlate(
    incident_id: Annotated[int, typer.Argument(help="The incident.", min=1)],
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many of each.", min=1)] = 20,
    data_dir: DataDir = None,
) -> None:
    """Other incidents and shared intelligence with indicators in common, best first."""
    from cyberpeace.correlation.correlations import correlations_of
    from cyberpeace.correlation.correlator import Correlator
    from cyberpeace.correlation.schemas import CorrelationsOut
    from cyberpeace.store import SYSTEM, NotFound, open_store

    settings = settings_from(data_dir=data_dir)
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            index = Correlator(settings.data_dir / "correlation").index(session)
            result = correlations_of(session, SYSTEM, index, incident_id, limit)
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    if as_json:
        typer.echo(CorrelationsOut.model_validate(asdict(result)).model_dump_json(indent=2))
        return
    typer.echo(f"incident {incident_id}: {len(result.incidents)} related incidents")
    for link in result.incidents:
        typer.echo(f"  incident {link.incident_id} [{link.score:.2f}] {link.title}")
        for value in link.shared:
            typer.echo(f"    {value.kind} {value.ours} {value.relation} {value.theirs}")
    typer.echo(f"{len(result.intelligence)} shared intelligence indicators")
    for item in result.intelligence:
        stix = ", ".join(item.stix_ids) or "no STIX object"
        typer.echo(f"  {item.kind} {item.value} [{item.score:.2f}] {item.tlp} from {item.source}")
        typer.echo(f"    {stix}")
