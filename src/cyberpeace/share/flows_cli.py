"""``cyberpeace flows extract`` and ``flows anonymise``: flow files that leave the mission."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cyberpeace.cli_options import DataDir, settings_from
from cyberpeace.config import Settings
from cyberpeace.mission import Mandate, MandateError, load_mandate

MandateFile = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="Mandate file (default CYBERPEACE_MANDATE)."),
]


def _context(mandate: Path | None, data_dir: Path | None) -> tuple[Settings, Mandate]:
    settings = settings_from(data_dir=data_dir)
    path = mandate or settings.mandate
    if path is None:
        typer.echo(
            "error: no mandate (--mandate or CYBERPEACE_MANDATE); it names the key", err=True
        )
        raise typer.Exit(2)
    try:
        return settings, load_mandate(path)
    except MandateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def flows_extract(
    out: Annotated[Path, typer.Argument(help="The Parquet file to write.")],
    since: Annotated[datetime | None, typer.Option(help="Flows ending at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Flows starting before (UTC).")] = None,
    protocol: Annotated[int | None, typer.Option(min=0, max=255)] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535)] = None,
    archive: Annotated[Path | None, typer.Option(help="Archive (default DATA_DIR/flows).")] = None,
    mandate: MandateFile = None,
    data_dir: DataDir = None,
) -> None:
    """Write archived flows for sharing; anonymised (Crypto-PAn) unless the data policy says not."""
    from cyberpeace.share.cryptopan_key import KeyFileError, mission_cryptopan
    from cyberpeace.share.flow_extract import extract_from_archive
    from cyberpeace.telemetry.archive import FlowArchive

    settings, loaded = _context(mandate, data_dir)
    try:
        pan = (
            mission_cryptopan(settings.data_dir, loaded.mission.id)
            if loaded.data_policy.anonymise_exports
            else None
        )
    except KeyFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    done = extract_from_archive(
        FlowArchive(archive or settings.data_dir / "flows"),
        out,
        pan,
        start=_utc(since),
        end=_utc(until),
        protocol=protocol,
        port=port,
    )
    how = "anonymised (Crypto-PAn)" if done.anonymised else "NOT anonymised (data policy)"
    typer.echo(f"wrote {done.flows:,} flows to {out}, {how}")


def flows_anonymise(
    source: Annotated[Path, typer.Argument(help="A Parquet file of flows (Flow schema).")],
    out: Annotated[Path, typer.Argument(help="The anonymised Parquet file to write.")],
    mandate: MandateFile = None,
    data_dir: DataDir = None,
) -> None:
    """Anonymise every address of a flow file under the mission's Crypto-PAn key."""
    from cyberpeace.share.cryptopan_key import KeyFileError, mission_cryptopan
    from cyberpeace.share.flow_extract import ExtractError, read_flow_file, write_extract

    settings, loaded = _context(mandate, data_dir)
    try:
        pan = mission_cryptopan(settings.data_dir, loaded.mission.id)
        done = write_extract(read_flow_file(source), out, pan)
    except (KeyFileError, ExtractError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {done.flows:,} anonymised flows to {out}")
