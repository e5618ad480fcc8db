"""``cyberpeace report``: write a verification or situation report as HTML or PDF.

The report machinery is imported when a command runs, so that every other command of the
``cyberpeace`` CLI starts without it.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cyberpeace.cli_options import DataDir, settings_from
from cyberpeace.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cyberpeace.report.content import Report
    from cyberpeace.report.reader import Reader
    from cyberpeace.store import Store, Viewer

report_app = typer.Typer(
    help="Verification and situation reports, as HTML or PDF.", no_args_is_help=True
)
Build = Callable[["Session", "Reader", str], "Report"]  # (session, reader, mission name)
FORMATS = {".pdf": "PDF", ".html": "HTML", ".htm": "HTML"}

Out = Annotated[Path, typer.Option("--out", help="FILE.pdf or FILE.html: the format follows.")]
Tlp = Annotated[
    str | None,
    typer.Option("--tlp", help="The reader's TLP: nothing marked above it is included."),
]
Party = Annotated[
    str | None, typer.Option("--party", help="Build the report as this party would read it.")
]
MandateFile = Annotated[
    Path | None, typer.Option("--mandate", help="Mandate naming the mission (CYBERPEACE_MANDATE).")
]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _mission(settings: Settings) -> str:
    from cyberpeace.mission import load_mandate

    return load_mandate(settings.mandate).mission.name if settings.mandate else "cyberpeace"


def _viewer(store: Store, party: str | None) -> Viewer:
    from cyberpeace.store import SYSTEM, Viewer, get_party

    if party is None:
        return Viewer("staff", name=f"cli:{getpass.getuser()}")
    with store.session() as session:
        get_party(session, SYSTEM, party)  # NotFound names an unknown party
    return Viewer("party", party)


def _write(report: Report, out: Path) -> None:
    """Write atomically: a report that fails to render leaves no partial file behind."""
    from cyberpeace.report.pdf import html_to_pdf
    from cyberpeace.report.rendering import report_html

    kind = FORMATS[out.suffix.lower()]
    html = report_html(report)
    body = html_to_pdf(html) if kind == "PDF" else html.encode("utf-8")
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(body)
    os.replace(partial, out)
    typer.echo(
        f"wrote {out} ({kind}, {len(body):,} bytes, {report.tlp}): {len(report.incidents)} "
        f"incident(s), {len(report.timeline)} timeline entries, {len(report.findings)} "
        f"legal finding(s), {len(report.evidence)} evidence item(s)"
    )


def _run(out: Path, build: Build, party: str | None, tlp: str | None, settings: Settings) -> None:
    from cyberpeace.report.pdf import PdfError
    from cyberpeace.report.reader import ReportError, reader_for
    from cyberpeace.store import Forbidden, NotFound, open_store

    if out.suffix.lower() not in FORMATS:
        raise _fail(f"--out {out}: name a .pdf or .html file", 2)
    if not out.parent.is_dir():
        raise _fail(f"--out {out}: no directory {out.parent}", 2)
    store = open_store(settings.database_url)
    try:
        reader = reader_for(_viewer(store, party), tlp)
        with store.session() as session:
            report: Report = build(session, reader, _mission(settings))
        _write(report, out)
    except ReportError as exc:
        raise _fail(str(exc), 2) from None
    except (NotFound, Forbidden, PdfError) as exc:
        raise _fail(str(exc), 1) from None
    finally:
        store.close()


@report_app.command("incident")
def report_incident(
    incident_id: Annotated[int, typer.Argument(help="The incident to verify.")],
    out: Out,
    tlp: Tlp = None,
    party: Party = None,
    mandate: MandateFile = None,
    data_dir: DataDir = None,
) -> None:
    """The verification report of one incident: timeline, map, charts, findings, evidence."""
    from cyberpeace.report.building import verification_report

    _run(
        out,
        lambda session, reader, mission: verification_report(
            session, reader, incident_id, mission=mission
        ),
        party,
        tlp,
        settings_from(data_dir=data_dir, mandate=mandate),
    )


@report_app.command("situation")
def report_situation(
    since: Annotated[str, typer.Option("--since", help="Start, ISO 8601 (UTC if no zone).")],
    until: Annotated[str, typer.Option("--until", help="End (excluded), ISO 8601.")],
    out: Out,
    tlp: Tlp = None,
    party: Party = None,
    mandate: MandateFile = None,
    data_dir: DataDir = None,
) -> None:
    """The mission's situation over a period: every incident active in it the reader may read."""
    from cyberpeace.report.building import situation_report
    from cyberpeace.report.period import parse_period
    from cyberpeace.report.reader import ReportError

    try:
        period = parse_period(since, until)
    except ReportError as exc:
        raise _fail(str(exc), 2) from None
    _run(
        out,
        lambda session, reader, mission: situation_report(session, reader, period, mission=mission),
        party,
        tlp,
        settings_from(data_dir=data_dir, mandate=mandate),
    )
