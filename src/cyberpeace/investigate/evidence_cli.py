"""``cyberpeace evidence``: add, list, transfer, export and verify evidence."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from cyberpeace.config import Settings

evidence_app = typer.Typer(
    help="The evidence locker: artefacts under chain of custody.", no_args_is_help=True
)
DataDir = Annotated[Path | None, typer.Option(help="Data directory (CYBERPEACE_DATA_DIR).")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@evidence_app.command("add")
def evidence_add(
    incident_id: Annotated[int, typer.Argument(min=1, help="The incident it belongs to.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The artefact.")],
    source: Annotated[str, typer.Option(help="Where it came from (sensor, party, host).")],
    method: Annotated[str, typer.Option(help="How it was collected.")],
    kind: Annotated[
        str, typer.Option(help="flows, pcap, log, file, screenshot, document.")
    ] = "file",
    media_type: Annotated[str | None, typer.Option(help="Default: from the suffix.")] = None,
    collected_by: Annotated[str | None, typer.Option(help="Default: you.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Store a file in the locker, recording who collected it, how and from where."""
    from cyberpeace.investigate.case_file import (
        BadEvidence,
        EvidenceMeta,
        Locker,
        TooLarge,
        add_evidence,
    )
    from cyberpeace.store import Forbidden, NotFound, Viewer, open_store

    settings = _settings(data_dir)
    locker = Locker(settings.data_dir / "evidence")
    meta = EvidenceMeta(source, method, kind, media_type, file.name, None, collected_by)
    store = open_store(settings.database_url)
    try:
        received = locker.receive_file(file, settings.evidence_max_bytes)
        row = add_evidence(
            store, locker, Viewer("staff", name=_actor()), incident_id, received, meta
        )
    except (BadEvidence, TooLarge, NotFound, Forbidden) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"evidence {row.id}: {row.sha256} ({row.size:,} bytes, {row.media_type})")


@evidence_app.command("list")
def evidence_list(
    incident_id: Annotated[int, typer.Argument(min=1)], data_dir: DataDir = None
) -> None:
    """List an incident's evidence with its current custodian."""
    from cyberpeace.investigate.case_file import custodian_of, list_evidence
    from cyberpeace.store import SYSTEM, NotFound, open_store

    store = open_store(_settings(data_dir).database_url)
    try:
        with store.session() as session:
            for row in list_evidence(session, SYSTEM, incident_id):
                holder = custodian_of(session, row)
                typer.echo(
                    f"{row.id:>5}  {row.sha256}  {row.size:>12,}  {row.kind:<10} "
                    f"{row.filename or '-'}  from {row.source}, held by {holder}"
                )
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()


@evidence_app.command("transfer")
def evidence_transfer(
    evidence_id: Annotated[int, typer.Argument(min=1)],
    to: Annotated[str, typer.Option("--to", help="Who takes custody.")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the custody log.")],
    data_dir: DataDir = None,
) -> None:
    """Hand custody of an artefact to someone, recorded in the audit log."""
    from cyberpeace.investigate.case_file import transfer_evidence
    from cyberpeace.store import NotFound, Viewer, open_store

    store = open_store(_settings(data_dir).database_url)
    try:
        with store.session() as session:
            transfer_evidence(session, Viewer("staff", name=_actor()), evidence_id, to, reason)
    except (NotFound, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"evidence {evidence_id}: custody to {to}")


@evidence_app.command("export")
def evidence_export(
    incident_id: Annotated[int, typer.Argument(min=1)],
    out: Annotated[Path, typer.Option("--out", help="A new or empty directory.")],
    data_dir: DataDir = None,
) -> None:
    """Write an incident's evidence, a signed manifest, key.pem and SHA256SUMS to DIR."""
    from cyberpeace.investigate.case_file import (
        ExportError,
        Locker,
        export_case,
        mission_key,
        remove_export,
    )
    from cyberpeace.store import NotFound, Viewer, open_store

    settings = _settings(data_dir)
    key = mission_key(settings.data_dir)
    locker = Locker(settings.data_dir / "evidence")
    store = open_store(settings.database_url)
    written = False
    try:
        with store.session() as session:
            written = True
            done = export_case(
                session, locker, key, Viewer("staff", name=_actor()), incident_id, out
            )
    except (NotFound, ExportError) as exc:
        if written and not isinstance(exc, ExportError):
            remove_export(out)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except BaseException:
        remove_export(out)
        raise
    finally:
        store.close()
    typer.echo(f"exported {done.files} file(s) to {out}; signing key sha256 {done.fingerprint}")


@evidence_app.command("verify")
def evidence_verify(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    key: Annotated[
        Path | None, typer.Option(help="The mission's public key (PEM), known out of band.")
    ] = None,
) -> None:
    """Check an export: the signature, every file's SHA-256, no file missing or added."""
    from cyberpeace.investigate.case_file import verify_export
    from cyberpeace.investigate.signing import load_public_pem

    trusted = None
    if key is not None:
        try:
            trusted = load_public_pem(key.read_bytes())
        except ValueError as exc:
            typer.echo(f"error: {key}: {exc}", err=True)
            raise typer.Exit(2) from None
    check = verify_export(directory, trusted)
    for problem in check.problems:
        typer.echo(f"FAILED {problem}", err=True)
    if not check.ok:
        raise typer.Exit(1)
    typer.echo(
        f"{directory}: intact, {check.files} file(s), signed by key sha256 {check.fingerprint}"
    )
    if trusted is None:
        typer.echo(
            "note: checked against the key.pem shipped with the export; compare its "
            "fingerprint with the mission's, or pass --key"
        )


@evidence_app.command("sweep")
def evidence_sweep(data_dir: DataDir = None) -> None:
    """Remove locker objects no evidence row refers to (left by a crash mid-upload)."""
    from cyberpeace.investigate.case_file import Locker, sweep_orphans
    from cyberpeace.store import open_store

    settings = _settings(data_dir)
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            removed = sweep_orphans(session, Locker(settings.data_dir / "evidence"))
    finally:
        store.close()
    typer.echo(f"removed {len(removed)} unreferenced object(s)")
