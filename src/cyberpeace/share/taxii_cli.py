"""``cyberpeace taxii collections|pull|push``: federation with other TAXII 2.1 servers."""

from __future__ import annotations

from typing import Annotated

import msgspec
import typer

from cyberpeace.cli_options import DataDir, settings_from

taxii_app = typer.Typer(help="Pull from and push to other TAXII 2.1 servers.", no_args_is_help=True)
Url = Annotated[str, typer.Argument(help="The remote API root URL.")]
Token = Annotated[
    str | None, typer.Option(envvar="CYBERPEACE_TAXII_TOKEN", help="Bearer token for the remote.")
]
User = Annotated[
    str | None, typer.Option(envvar="CYBERPEACE_TAXII_USER", help="HTTP Basic user (medallion).")
]
Password = Annotated[
    str | None, typer.Option(envvar="CYBERPEACE_TAXII_PASSWORD", help="HTTP Basic password.")
]


def _credentials(
    token: str | None, user: str | None, password: str | None
) -> str | tuple[str, str] | None:
    if token and user:
        typer.echo("error: give --token or --user, not both", err=True)
        raise typer.Exit(2)
    if user:
        return (user, password or "")
    return token


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@taxii_app.command("collections")
def list_collections(
    url: Url, token: Token = None, user: User = None, password: Password = None
) -> None:
    """The remote API root's collections: id, read/write, title."""
    from cyberpeace.share.taxii_client import TaxiiClientError, collections

    try:
        found = collections(url, _credentials(token, user, password))
    except (TaxiiClientError, OSError) as exc:
        raise _fail(exc) from None
    for item in found:
        access = ("r" if item.get("can_read") else "-") + ("w" if item.get("can_write") else "-")
        typer.echo(f"{item.get('id')}  {access}  {item.get('title', '')}")


@taxii_app.command("pull")
def pull_collection(
    url: Url,
    collection: Annotated[str, typer.Argument(help="The remote collection id.")],
    into: Annotated[str, typer.Option(help="Our collection to store into.")] = "mission",
    token: Token = None,
    user: User = None,
    password: Password = None,
    data_dir: DataDir = None,
) -> None:
    """Store what the remote collection added since the last pull."""
    from cyberpeace.share.taxii_client import TaxiiClientError, pull
    from cyberpeace.store import open_store

    settings = settings_from(data_dir=data_dir)
    store = open_store(settings.database_url)
    try:
        result = pull(store, url, collection, _credentials(token, user, password), into=into)
    except (TaxiiClientError, OSError) as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    imported = result.imported
    for error in imported.rejected:
        typer.echo(f"rejected {error}")
    typer.echo(
        f"{result.pages} page(s): stored {imported.stored}, skipped {imported.skipped}, "
        f"rejected {len(imported.rejected)}; cursor {result.cursor or 'none'}"
    )


@taxii_app.command("push")
def push_collection(
    url: Url,
    collection: Annotated[str, typer.Argument(help="The remote collection id.")],
    tlp: Annotated[str, typer.Option(help="The highest TLP the remote may receive.")] = "TLP:GREEN",
    source: Annotated[str, typer.Option(help="Our collection to push from.")] = "mission",
    token: Token = None,
    user: User = None,
    password: Password = None,
    data_dir: DataDir = None,
) -> None:
    """Send the objects added to our collection since the last push, up to the TLP ceiling."""
    from cyberpeace.share.taxii_client import PAGE, TaxiiClientError, push
    from cyberpeace.share.tlp import UnknownMarking
    from cyberpeace.store import open_store
    from cyberpeace.store.stix_objects import objects_added_after
    from cyberpeace.store.taxii_objects import get_cursor, set_cursor

    settings = settings_from(data_dir=data_dir)
    store = open_store(settings.database_url)
    credentials = _credentials(token, user, password)
    url = url if url.endswith("/") else url + "/"  # the cursor's key, as pull writes it
    sent = withheld = 0
    try:
        while True:
            with store.session() as session:
                cursor = get_cursor(session, url, collection, "push")
                rows = objects_added_after(session, source, cursor, PAGE)
                batch = [(row.added, msgspec.json.decode(row.body)) for row in rows]
            if not batch:
                break
            result = push(url, collection, [obj for _, obj in batch], tlp, credentials)
            sent += result.sent
            withheld += len(result.withheld)
            with store.session() as session:
                set_cursor(session, url, collection, "push", batch[-1][0])
    except (TaxiiClientError, UnknownMarking, OSError) as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    typer.echo(f"sent {sent}, withheld {withheld} above {tlp}")
