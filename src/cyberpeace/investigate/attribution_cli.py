"""``cyberpeace attribution show/add/derive INCIDENT_ID``: attribution records from the shell."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from cyberpeace.cli_options import DataDir, settings_from
from cyberpeace.investigate.attribution import (
    AttributionDraft,
    AttributionError,
    Basis,
    basis,
    scale,
    weighted_support,
)

attribution_app = typer.Typer(help="Attribution records of incidents.", no_args_is_help=True)


def _database(data_dir: Path | None) -> str:
    return settings_from(data_dir=data_dir).database_url


def parse_basis(text: str) -> Basis:
    """``KIND[:WEIGHT][=DETAIL]``, e.g. ``infrastructure:0.6=the same /24 as incident 3``."""
    head, _, detail = text.partition("=")
    kind, colon, weight = head.partition(":")
    if not colon:
        return basis(kind.strip(), None, detail)
    try:
        value = float(weight)
    except ValueError:
        raise AttributionError(f"basis {kind!r}: weight {weight!r} is not a number") from None
    return basis(kind.strip(), value, detail)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@attribution_app.command("add")
def add(
    incident_id: int,
    candidate: Annotated[str, typer.Option(help="The actor's name or the party id.")],
    confidence: Annotated[str, typer.Option(help="low, moderate or high (see the scale).")],
    basis_text: Annotated[
        list[str], typer.Option("--basis", help="KIND[:WEIGHT][=DETAIL]; repeat for several.")
    ],
    kind: Annotated[str, typer.Option(help="responsibility or technical.")] = "responsibility",
    actor: Annotated[
        str | None, typer.Option(help="state-organ, state-directed, non-state.")
    ] = None,
    state: Annotated[
        str | None, typer.Option(help="The state the conduct is attributed to.")
    ] = None,
    party: Annotated[
        str | None, typer.Option(help="The mandate party it is attributed to.")
    ] = None,
    raise_if: Annotated[str, typer.Option(help="What would raise the confidence.")] = "",
    lower_if: Annotated[str, typer.Option(help="What would lower it.")] = "",
    summary: Annotated[str, typer.Option(help="The reasoning in a few lines.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Record an attribution of an incident, as mission staff (audited)."""
    from cyberpeace.store import NotFound, Viewer, add_attribution, open_store

    store = open_store(_database(data_dir))
    viewer = Viewer("staff", name=f"cli:{getpass.getuser()}")
    try:
        bases = tuple(parse_basis(text) for text in basis_text)
        draft = AttributionDraft(
            kind, candidate, confidence, bases, actor, state, party, raise_if, lower_if, summary
        )
        with store.session() as session:
            row = add_attribution(session, viewer, incident_id, draft)
            typer.echo(f"attribution {row.id} of incident {incident_id} recorded")
    except (AttributionError, NotFound) as exc:
        _fail(str(exc))
    finally:
        store.close()


@attribution_app.command("derive")
def derive(incident_id: int, data_dir: DataDir = None) -> None:
    """Record the technical attribution the incident's traceback supports."""
    from cyberpeace.store import SYSTEM, NotFound, derive_technical, open_store

    store = open_store(_database(data_dir))
    try:
        with store.session() as session:
            row = derive_technical(session, SYSTEM, incident_id)
            typer.echo(
                "no traced source lies in a party's territory"
                if row is None
                else f"technical attribution {row.id}: {row.candidate} ({row.confidence})"
            )
    except NotFound as exc:
        _fail(str(exc))
    finally:
        store.close()


@attribution_app.command("show")
def show(
    incident_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """The incident's attributions, technical and responsibility apart."""
    from cyberpeace.store import SYSTEM, NotFound, list_attributions, open_store

    store = open_store(_database(data_dir))
    try:
        with store.session() as session:
            records = [r.as_dict() for r in list_attributions(session, SYSTEM, incident_id)]
    except NotFound as exc:
        _fail(str(exc))
        return
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    if not records:
        typer.echo(f"incident {incident_id} has no attribution yet")
    for record in records:
        typer.echo(attribution_text(record))


def attribution_text(record: dict[str, object]) -> str:
    level = str(record["confidence"])
    bases = record["bases"]
    assert isinstance(bases, list)
    lines = [
        f"attribution {record['id']} ({record['kind']}, version {record['version']}): "
        f"{record['candidate']}, {level} confidence",
        f"  {level}: {scale().scale[level].definition}",
    ]
    for name in ("actor", "state", "party"):
        if record[name]:
            lines.append(f"  {name} {record[name]}")
    lines += [f"  basis {b['kind']} (weight {b['weight']}) {b['detail']}".rstrip() for b in bases]
    lines.append(f"  bases together carry {weighted_support(bases):.2f}")
    if record["raise_if"]:
        lines.append(f"  would raise it: {record['raise_if']}")
    if record["lower_if"]:
        lines.append(f"  would lower it: {record['lower_if']}")
    lines.append(f"  by {record['created_by']} at {record['created_at']}")
    return "\n".join(lines)
