"""``cyberpeace messages``: warnings and requests to the parties, over the functions the API uses.

The person at the terminal acts as mission staff, as with the other store commands.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from cyberpeace.cli_options import DataDir, settings_from

messages_app = typer.Typer(help="Messages to the parties: early warnings.", no_args_is_help=True)


@messages_app.command("list")
def messages_list(
    party: Annotated[str | None, typer.Option(help="Only the messages to this party.")] = None,
    unacknowledged: Annotated[
        bool, typer.Option("--unacknowledged", help="Only those not acknowledged.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Messages, newest first."""
    from cyberpeace.api.message_routes import MessageOut
    from cyberpeace.store import SYSTEM, open_store
    from cyberpeace.store.messages import list_messages

    store = open_store(settings_from(data_dir=data_dir).database_url)
    try:
        with store.session() as session:
            rows = list_messages(
                session, SYSTEM, party=party, unacknowledged=unacknowledged, limit=limit
            )
            shown = [MessageOut.model_validate(r) for r in rows]
    finally:
        store.close()
    for m in shown:
        if as_json:
            typer.echo(json.dumps(m.model_dump(mode="json"), allow_nan=False))
            continue
        acked = f"acknowledged by {m.acknowledged_by}" if m.acknowledged_at else "open"
        typer.echo(
            f"{m.id:>6}  [{m.severity}] to {m.to_party_id}: {m.subject} (x{m.count or 1}, {acked})"
        )


@messages_app.command("ack")
def messages_ack(
    message_id: Annotated[int, typer.Argument(help="The message.", min=1)],
    data_dir: DataDir = None,
) -> None:
    """Acknowledge a message (recorded in the audit log as you)."""
    from cyberpeace.store import NotFound, Viewer, open_store
    from cyberpeace.store.messages import acknowledge_message

    store = open_store(settings_from(data_dir=data_dir).database_url)
    viewer = Viewer("staff", name=f"cli:{getpass.getuser()}")
    try:
        with store.session() as session:
            row = acknowledge_message(session, viewer, message_id)
            by, at = row.acknowledged_by, row.acknowledged_at
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"message {message_id} acknowledged by {by} at {at:%Y-%m-%d %H:%M:%S}")
