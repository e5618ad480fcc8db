"""The ``cyberpeace`` command: a thin layer over the library functions."""

from __future__ import annotations

import getpass
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from cyberpeace.cli_options import DataDir, mandated_mission, settings_from
from cyberpeace.config import InsecureSettingsError, Settings
from cyberpeace.correlation.correlate_cli import correlate
from cyberpeace.investigate.attribution_cli import attribution_app
from cyberpeace.investigate.cases_cli import cases_app
from cyberpeace.investigate.evidence_cli import evidence_app
from cyberpeace.investigate.patterns_cli import patterns_app
from cyberpeace.messages_cli import messages_app
from cyberpeace.mission import MandateError, check_mandate_text, load_mandate
from cyberpeace.report.report_cli import report_app
from cyberpeace.share.flows_cli import flows_anonymise, flows_extract
from cyberpeace.share.misp_cli import misp_app
from cyberpeace.share.taxii_cli import taxii_app

app = typer.Typer(
    help="cyberpeace: operations platform of a cyber peacekeeping mission.", no_args_is_help=True
)
mandate_app = typer.Typer(help="Check and load mandates.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
incidents_app = typer.Typer(help="Incidents in the case store.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
store_app = typer.Typer(help="The case store.", no_args_is_help=True)
flows_app = typer.Typer(help="The flow archive.", no_args_is_help=True)
query_app = typer.Typer(help="Queries over the flow archive.", no_args_is_help=True)
app.add_typer(mandate_app, name="mandate")
app.add_typer(token_app, name="token")
app.add_typer(incidents_app, name="incidents")
app.add_typer(audit_app, name="audit")
app.add_typer(store_app, name="store")
app.add_typer(flows_app, name="flows")
flows_app.add_typer(query_app, name="query")
stix_app = typer.Typer(help="STIX 2.1 bundles: import and export.", no_args_is_help=True)
app.add_typer(stix_app, name="stix")
app.add_typer(attribution_app, name="attribution")
app.add_typer(patterns_app, name="patterns")
app.add_typer(taxii_app, name="taxii")
flows_app.command("extract")(flows_extract)
flows_app.command("anonymise")(flows_anonymise)
app.add_typer(misp_app, name="misp")
app.add_typer(report_app, name="report")
app.command("correlate")(correlate)
app.add_typer(evidence_app, name="evidence")
app.add_typer(cases_app, name="cases")
app.add_typer(messages_app, name="messages")

Bind = Annotated[str | None, typer.Option(help="HOST:PORT to serve on (CYBERPEACE_BIND).")]


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
        result = run_demo(settings_from(data_dir=data_dir, bind=bind))
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
    _serve(settings_from(data_dir=data_dir, bind=bind, mandate=mandate))


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
    store = open_store(settings_from(data_dir=data_dir).database_url)
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
    store = open_store(settings_from(data_dir=data_dir).database_url)
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

    store = open_store(settings_from(data_dir=data_dir).database_url)
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

    store = open_store(settings_from(data_dir=data_dir).database_url)
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

    store = open_store(settings_from(data_dir=data_dir).database_url)
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

    settings = settings_from(data_dir=data_dir)
    open_store(settings.database_url).close()
    typer.echo(f"case store at head: {settings.database_url}")


Archive = Annotated[Path | None, typer.Option(help="Archive directory (default DATA_DIR/flows).")]
Since = Annotated[datetime | None, typer.Option(help="Only flows that end at or after this (UTC).")]
Until = Annotated[datetime | None, typer.Option(help="Only flows that start before this (UTC).")]


def _archive_root(archive: Path | None, data_dir: Path | None) -> Path:
    return archive or settings_from(data_dir=data_dir).data_dir / "flows"


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Telemetry files, format auto-detected.")],
    out: Annotated[Path | None, typer.Option(help="Write all flows to one Parquet file.")] = None,
    archive: Annotated[Path | None, typer.Option(help="Add the flows to this archive.")] = None,
) -> None:
    """Read telemetry files into the Flow schema; exit 1 if any file could not be read."""
    from cyberpeace.telemetry.archive import FlowArchive
    from cyberpeace.telemetry.ingest import ingest as ingest_files
    from cyberpeace.telemetry.ingest import write_parquet

    result = ingest_files(files)
    for report in result.files:
        if report.error:
            typer.echo(f"{report.path}: refused: {report.error}", err=True)
        else:
            typer.echo(
                f"{report.path}: {report.format}, {report.flows:,} flows, "
                f"{report.malformed:,} malformed records skipped"
            )
    if out is not None:
        write_parquet(result.flows, out)
        typer.echo(f"wrote {result.flows.num_rows:,} flows to {out}")
    if archive is not None:
        store = FlowArchive(archive)
        store.write(result.flows)
        store.flush()
        typer.echo(f"archived {result.flows.num_rows:,} flows in {archive}")
    raise typer.Exit(1 if result.failed else 0)


@app.command()
def detect(
    files: Annotated[list[Path], typer.Argument(help="Telemetry files, as ingest reads them.")],
    mandate: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Borders, safe areas and allow list."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    indicators: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Addresses and networks to watch, one per line."
        ),
    ] = None,
    into_store: Annotated[
        bool,
        typer.Option(
            "--store",
            help="Also watch the case store's address indicators, and file the detections "
            "there: incidents, correlation and early warnings, as the sensor does.",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Run the detectors over telemetry files; one line per detection.

    Without a mandate every destination is watched with the default thresholds and nothing is
    named; with one, parties, safe areas, their criticality and the allow list come from it.
    ``--indicators`` adds an indicator-hit detection per host that exchanged records with a
    listed address or network. ``--store`` watches the address and network indicators the
    case store holds (valid now) as well, and files every detection into incidents there, with
    the early warnings they give (the mandate's parties and safe areas are loaded first). Exit 1
    if any file could not be read (the others are still examined).
    """
    import json

    from cyberpeace.detect import analyse
    from cyberpeace.detect.baselines import Baselines
    from cyberpeace.detect.summary import summary, summary_line
    from cyberpeace.detect.watch import Watch
    from cyberpeace.detect.watchlist_file import read_watchlist
    from cyberpeace.telemetry.ingest import ingest as ingest_files

    watchlist = None
    if indicators is not None:
        try:
            listed = read_watchlist(indicators)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        for problem in listed.refused[:10]:
            typer.echo(f"{indicators}: refused {problem}", err=True)
        if len(listed.refused) > 10:
            typer.echo(f"{indicators}: {len(listed.refused) - 10:,} more lines refused", err=True)
        watchlist = listed.watchlist
    store = None
    if into_store:
        from cyberpeace.detect.indicator_hits import Watchlist
        from cyberpeace.store import open_store
        from cyberpeace.store.recorder import file_batch
        from cyberpeace.store.watchlist import watchlist as stored_watchlist

        store = open_store(settings_from(data_dir=data_dir).database_url)
        with store.session() as session:
            held = stored_watchlist(session).indicators
        typer.echo(f"watching {len(held):,} address indicators from the store", err=True)
        watchlist = Watchlist([*(watchlist.indicators if watchlist else []), *held])
    result = ingest_files(files)
    for report in result.files:
        if report.error:
            typer.echo(f"{report.path}: refused: {report.error}", err=True)
    try:
        loaded = load_mandate(mandate) if mandate is not None else None
    except MandateError as exc:
        typer.echo(f"{mandate}: error: {exc}", err=True)
        raise typer.Exit(2) from None
    watch = Watch.of(loaded)
    found = analyse(
        result.flows,
        watch.borders,
        allow_list=watch.allow_list,
        criticality=watch.criticality,
        countries=watch.countries,
        baselines=Baselines(),  # learns over the files, then raises on rises above it
        indicators=watchlist,
    )
    for detection in found.detections:
        line = json.dumps(summary(detection), allow_nan=False) if as_json else None
        typer.echo(line or summary_line(detection))
    if store is not None:
        try:
            filed = file_batch(store, found.detections, loaded, by=_actor())
            typer.echo(
                f"filed {len(found.detections)} detections: {filed.incidents} new incidents, "
                f"{filed.warnings} new early warnings",
                err=True,
            )
        finally:
            store.close()
    counts = found.counts
    refused = "".join(f", {n:,} refused: {why}" for why, n in counts.impossible.items())
    typer.echo(
        f"{len(found.detections)} detections in {counts.received:,} flows: "
        f"{counts.examined:,} examined, {counts.allow_listed:,} allow-listed{refused}",
        err=True,
    )
    raise typer.Exit(1 if result.failed else 0)


@app.command()
def sensor(
    listen: Annotated[
        list[str], typer.Option(help="udp://HOST:PORT to collect on (repeat for several).")
    ],
    archive: Archive = None,
    api: Annotated[
        str | None, typer.Option(help="HOST:PORT for /metrics and the counters API.")
    ] = None,
    mandate: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Borders, safe areas and allow list for detection."
        ),
    ] = None,
    run_detectors: Annotated[
        bool,
        typer.Option(
            "--detect/--no-detect", help="Run the detectors live; store detections, incidents."
        ),
    ] = True,
    respond: Annotated[
        bool,
        typer.Option(
            "--respond/--no-respond",
            help="Plan actions against each detection; enforce the automatic ones (mandate).",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Collect NetFlow v5/v9 and IPFIX into the flow archive, and detect attacks live into the
    case store, until SIGINT or SIGTERM."""
    import logging
    from contextlib import nullcontext

    from cyberpeace.telemetry.collector import Collector
    from cyberpeace.telemetry.listen import ListenAddressError, parse_host_port, parse_listen
    from cyberpeace.telemetry.sensor import run_sensor, sensor_detection

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        for url in listen:
            parse_listen(url)
        if api is not None:
            parse_host_port(api)
    except ListenAddressError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = settings_from(data_dir=data_dir, mandate=mandate)
    root = _archive_root(archive, data_dir)
    loaded = None
    if run_detectors and settings.mandate is not None:
        try:
            loaded = load_mandate(settings.mandate)
        except MandateError as exc:
            typer.echo(f"{settings.mandate}: error: {exc}", err=True)
            raise typer.Exit(2) from None

    def ready(collector: Collector) -> None:
        for host, port in collector.addresses:
            typer.echo(f"listening on udp://{f'[{host}]' if ':' in host else host}:{port}")
        if api is not None:
            typer.echo(f"metrics on http://{api}/metrics")
        typer.echo(f"archive: {root}")
        if run_detectors:
            watched = f" with the mandate {settings.mandate}" if loaded else " (no mandate)"
            typer.echo(f"detections{watched} into {settings.database_url}")

    if respond and (loaded is None or not run_detectors):
        typer.echo("error: --respond needs --detect and the mandate (--mandate FILE)", err=True)
        raise typer.Exit(2)
    detection = (
        sensor_detection(settings, loaded, respond=respond) if run_detectors else nullcontext(None)
    )
    try:
        with detection as detector:
            collector = run_sensor(settings, listen, root, api, detector=detector, on_ready=ready)
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for exporter, c in sorted(collector.counters().items()):
        typer.echo(
            f"{exporter}: {c.datagrams:,} datagrams, {c.flows:,} flows, {c.malformed:,} malformed, "
            f"{c.unknown_template:,} unknown template, {c.dropped_flows:,} flows dropped"
        )
    if detector is not None:
        d = detector.counters()
        typer.echo(
            f"detection: {d.new:,} detections, {d.updates:,} updates, {d.analyses:,} analyses, "
            f"{d.dropped_flows:,} flows pushed out of the window early, "
            f"{d.analysis_errors + d.report_errors:,} errors"
        )
    totals = collector.totals()
    typer.echo(
        f"stopped: {totals.kernel_drops:,} datagrams dropped by the kernel, "
        f"{totals.dropped_bursts:,} bursts dropped before decoding"
    )


@query_app.command("top-talkers")
def query_top_talkers(
    by: Annotated[str, typer.Option(help="src or dst.")] = "src",
    metric: Annotated[str, typer.Option(help="bytes, packets or flows.")] = "bytes",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 10,
    protocol: Annotated[int | None, typer.Option(min=0, max=255)] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535)] = None,
    since: Since = None,
    until: Until = None,
    archive: Archive = None,
    data_dir: DataDir = None,
) -> None:
    """The addresses that sent or received the most."""
    from cyberpeace.telemetry.archive import FlowArchive, Metric, Side

    if by not in ("src", "dst") or metric not in ("bytes", "packets", "flows"):
        typer.echo("error: --by is src or dst; --metric is bytes, packets or flows", err=True)
        raise typer.Exit(2)
    talkers = FlowArchive(_archive_root(archive, data_dir)).top_talkers(
        by=cast(Side, by),
        metric=cast(Metric, metric),
        limit=limit,
        protocol=protocol,
        port=port,
        start=_utc(since),
        end=_utc(until),
    )
    typer.echo(f"{'address':<40} {'bytes':>16} {'packets':>14} {'flows':>10}")
    for t in talkers:
        typer.echo(f"{t.address:<40} {t.bytes:>16,} {t.packets:>14,} {t.flows:>10,}")


@query_app.command("traffic")
def query_traffic(
    mandate: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Mandate file.")],
    since: Since = None,
    until: Until = None,
    archive: Archive = None,
    data_dir: DataDir = None,
) -> None:
    """Traffic towards each party and safe area of a mandate (through the borders lookup)."""
    from cyberpeace.mission import Borders
    from cyberpeace.telemetry.archive import FlowArchive

    borders = Borders.from_mandate(load_mandate(mandate))
    totals = FlowArchive(_archive_root(archive, data_dir)).traffic_to(
        borders, start=_utc(since), end=_utc(until)
    )
    typer.echo(f"{'party or safe area':<40} {'bytes':>16} {'packets':>14} {'flows':>10}")
    for name, t in totals.items():
        typer.echo(f"{name:<40} {t['bytes']:>16,} {t['packets']:>14,} {t['flows']:>10,}")


@flows_app.command("retention")
def flows_retention(
    mandate: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Mandate file.")],
    archive: Archive = None,
    data_dir: DataDir = None,
) -> None:
    """Delete archived hours older than the mandate's data policy keeps flows."""
    from cyberpeace.telemetry.archive import FlowArchive

    keep = load_mandate(mandate).data_policy.retention.flows
    removed = FlowArchive(_archive_root(archive, data_dir)).apply_retention(keep)
    typer.echo(f"removed {len(removed)} hour(s) older than {keep}")


@app.command()
def assess(
    incident_id: Annotated[
        int | None, typer.Argument(help="An incident in the case store.", min=1)
    ] = None,
    facts: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Facts file (YAML/JSON).")
    ] = None,
    mandate: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Mandate whose terms apply.")
    ] = None,
    set_facts: Annotated[
        list[str] | None,
        typer.Option("--set", help="FACT=VALUE an analyst sets (VALUE as YAML; null withdraws)."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why the facts were set (kept in the record).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="The whole assessment as JSON.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list findings not engaged.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Assess an incident against international law, the norms and the mandate's terms.

    Give INCIDENT_ID to assess a stored incident (a new version when anything changed, with
    --set facts recorded as yours), or --facts FILE to assess facts written by hand.
    """
    from cyberpeace.law import FactsError, assessment_text, load_facts
    from cyberpeace.law import assess as assess_facts

    if (incident_id is None) == (facts is None):
        typer.echo("error: give exactly one of INCIDENT_ID or --facts FILE", err=True)
        raise typer.Exit(2)
    if facts is None:
        settings = settings_from(data_dir=data_dir)
        terms = mandate or settings.mandate
        if terms is None:
            typer.echo(
                "note: no mandate (--mandate or CYBERPEACE_MANDATE): its terms are not assessed",
                err=True,
            )
        _assess_stored(
            settings,
            int(incident_id or 0),
            load_mandate(terms) if terms else None,
            set_facts or [],
            reason,
            as_json=as_json,
            show_all=show_all,
        )
        return
    if set_facts:
        typer.echo("error: --set applies to a stored incident, not to --facts", err=True)
        raise typer.Exit(2)
    try:
        incident = load_facts(facts)
    except FactsError as exc:
        for path, message in exc.problems:
            typer.echo(f"{facts}: error: {path}: {message}", err=True)
        raise typer.Exit(1) from None
    result = assess_facts(incident, load_mandate(mandate) if mandate else None)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(assessment_text(result, all_findings=show_all))


def _assess_stored(
    settings: Settings,
    incident_id: int,
    mandate: Any,
    assignments: list[str],
    reason: str,
    *,
    as_json: bool,
    show_all: bool,
) -> None:
    import json

    from cyberpeace.api.schemas import AssessmentOut
    from cyberpeace.law import FactsError, assessment_text, parse_overrides
    from cyberpeace.law import assignments as parse_assignments
    from cyberpeace.store import NotFound, Viewer, open_store, set_facts

    viewer = Viewer("staff", name=_actor())
    try:
        overrides = parse_overrides(parse_assignments(assignments), viewer.actor, "--set")
    except FactsError as exc:
        for path, message in exc.problems:
            typer.echo(f"--set: error: {path}: {message}", err=True)
        raise typer.Exit(2) from None
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            row = set_facts(session, viewer, incident_id, overrides, reason=reason, mandate=mandate)
            out = AssessmentOut.of(row)
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    if as_json:
        typer.echo(out.model_dump_json(indent=2))
        return
    typer.echo(
        f"incident {incident_id}, assessment version {out.version} by {out.created_by} "
        f"at {out.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    for change in out.changes:
        before = json.dumps(change["from"]["value"] if change["from"] else "unknown")
        after = json.dumps(change["to"]["value"] if change["to"] else "unknown")
        typer.echo(f"  changed {change['fact']}: {before} -> {after} (by {change['by']})")
    typer.echo(assessment_text(out.assessment, all_findings=show_all))


# --- actions: the response path (respond/) -------------------------------------------------
actions_app = typer.Typer(help="Mitigation actions: plan, approve, enforce.", no_args_is_help=True)
app.add_typer(actions_app, name="actions")
Reason = Annotated[str, typer.Option("--reason", help="Why; stored in the audit log.")]


def _action_line(row: Any) -> str:
    approvals = f"{len(row.approvals or [])}/{row.approvals_needed or 0}"
    until = f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "-"
    error = f"  error: {row.last_error}" if row.last_error else ""
    return (
        f"{row.id:>5}  {row.status:<9} {row.kind:<16} {row.target or '-':<18} "
        f"approvals {approvals:<4} until {until}  {row.reason or ''}{error}"
    )


def _enforce(store: Any, settings: Settings) -> None:
    from cyberpeace.respond.setup import enforce_now

    done = enforce_now(store, settings)
    for action_id in done.applied:
        typer.echo(f"action {action_id}: applied")
    for action_id in done.removed:
        typer.echo(f"action {action_id}: removed")
    for alert in done.alerts:
        typer.echo(f"ALERT action {alert.action_id}: {alert.message}", err=True)


@actions_app.command("list")
def actions_list(
    pending: Annotated[
        bool, typer.Option("--pending", help="Only those awaiting approval.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    data_dir: DataDir = None,
) -> None:
    """List actions, newest first."""
    from cyberpeace.api.schemas import ActionOut
    from cyberpeace.respond import list_actions
    from cyberpeace.store import SYSTEM, open_store

    store = open_store(settings_from(data_dir=data_dir).database_url)
    with store.session() as session:
        rows = list_actions(session, SYSTEM, pending=pending, limit=1000)
        for row in rows:
            typer.echo(
                ActionOut.model_validate(row).model_dump_json() if as_json else _action_line(row)
            )


@actions_app.command("plan")
def actions_plan(
    detection_id: Annotated[int | None, typer.Argument(help="Plan against this detection.")] = None,
    incident: Annotated[
        int | None, typer.Option("--incident", help="Plan against an incident.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and check; record nothing.")
    ] = False,
    mandate: Annotated[Path | None, typer.Option(help="Mandate (CYBERPEACE_MANDATE).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Propose actions against a detection or an incident, judged by the safeguards."""
    from cyberpeace.respond import PlanContext, respond
    from cyberpeace.respond.attack import Attack
    from cyberpeace.respond.baseline import baseline_for
    from cyberpeace.store import SYSTEM, NotFound, get_detection, get_incident, open_store

    settings = settings_from(data_dir=data_dir, mandate=mandate)
    if (detection_id is None) == (incident is None):
        typer.echo("error: give a DETECTION_ID or --incident ID (one of them)", err=True)
        raise typer.Exit(2)
    if settings.mandate is None:
        typer.echo(
            "error: planning needs the mandate: --mandate FILE or CYBERPEACE_MANDATE", err=True
        )
        raise typer.Exit(2)
    loaded = load_mandate(settings.mandate)
    store = open_store(settings.database_url)
    now = datetime.now(UTC)
    try:
        with store.session() as session:
            if incident is not None:
                attacks = Attack.of_incident(get_incident(session, SYSTEM, incident))
            else:
                assert detection_id is not None
                attacks = [Attack.from_detection(get_detection(session, SYSTEM, detection_id))]
            baseline = baseline_for(settings.data_dir / "flows", attacks)
            outcome = respond(
                session, attacks, PlanContext.of(loaded, now), baseline=baseline, dry_run=dry_run
            )
            for proposal, judgement in outcome.judged:
                verdict = (
                    "REFUSED" if judgement.refused else f"approvals {judgement.approvals_needed}"
                )
                typer.echo(f"{proposal.kind:<16} {verdict:<12} {proposal.reason}")
                for check in judgement.checks:
                    mark = "ok " if check.passed else "NO "
                    human = " (needs a human)" if check.needs_human else ""
                    typer.echo(f"    {mark}{check.name}: {check.result}{human}")
            for row in outcome.created:
                typer.echo(f"created: {_action_line(row)}")
            for row in outcome.renewed:
                typer.echo(f"renewed: {_action_line(row)}")
    except NotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if dry_run:
        typer.echo("dry run: nothing recorded, nothing applied")
        return
    _enforce(store, settings)


def _decide(verb: str, action_id: int, reason: str, data_dir: Path | None) -> None:
    from cyberpeace.respond import approve, reject, revoke
    from cyberpeace.store import Forbidden, InvalidTransition, NotFound, Viewer, open_store

    settings = settings_from(data_dir=data_dir)
    store = open_store(settings.database_url)
    step = {"approve": approve, "reject": reject, "revoke": revoke}[verb]
    try:
        with store.session() as session:
            row = step(
                session, Viewer("staff", name=_actor()), action_id, reason, datetime.now(UTC)
            )
            typer.echo(_action_line(row))
    except (NotFound, Forbidden, InvalidTransition) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _enforce(store, settings)


@actions_app.command("approve")
def actions_approve(action_id: int, reason: Reason, data_dir: DataDir = None) -> None:
    """Approve an action (one approval; the rules of engagement say how many)."""
    _decide("approve", action_id, reason, data_dir)


@actions_app.command("reject")
def actions_reject(action_id: int, reason: Reason, data_dir: DataDir = None) -> None:
    """Reject a proposed action."""
    _decide("reject", action_id, reason, data_dir)


@actions_app.command("revoke")
def actions_revoke(
    action_id: int,
    reason: Annotated[str, typer.Option("--reason")] = "revoked by hand",
    data_dir: DataDir = None,
) -> None:
    """End an action before it expires and take it out of force."""
    _decide("revoke", action_id, reason, data_dir)


@actions_app.command("expire")
def actions_expire(data_dir: DataDir = None) -> None:
    """Expire the actions whose time is up, remove them, retry failed ones that are due."""
    from cyberpeace.store import open_store

    settings = settings_from(data_dir=data_dir)
    _enforce(open_store(settings.database_url), settings)


@actions_app.command("sweep")
def actions_sweep(
    every: Annotated[
        float,
        typer.Option("--every", min=0, help="Sweep every SECONDS until interrupted; 0: one pass."),
    ] = 0.0,
    data_dir: DataDir = None,
) -> None:
    """The expiry sweep: expire what is due, withdraw it, apply and retry (with back-off)."""
    from cyberpeace.respond.sweeper import Sweeper
    from cyberpeace.store import open_store

    settings = settings_from(data_dir=data_dir)
    store = open_store(settings.database_url)
    sweeper = Sweeper(store, settings, every or 1.0, alert=_echo_alert)
    while True:
        done = sweeper.sweep()
        for action_id in done.applied:
            typer.echo(f"action {action_id}: applied")
        for action_id in done.removed:
            typer.echo(f"action {action_id}: removed")
        if not every:
            return
        time.sleep(every)


def _echo_alert(alert: Any) -> None:
    typer.echo(f"ALERT action {alert.action_id}: {alert.message}", err=True)


# --- end of actions ----------------------------------------------------------------------------
# --- STIX 2.1 (share/stix_*.py) ---


@stix_app.command("import")
def stix_import(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle or JSON list of objects.")],
    collection: Annotated[str, typer.Option(help="The collection to store into.")] = "mission",
    data_dir: DataDir = None,
) -> None:
    """Store every valid object of a bundle; print counts, and each rejected object's reason."""
    from cyberpeace.share.stix_import import import_file
    from cyberpeace.store import open_store

    store = open_store(settings_from(data_dir=data_dir).database_url)
    result = import_file(store, file, collection=collection, added_by=_actor())
    for error in result.rejected:
        typer.echo(f"rejected {error}")
    reflected = ", ".join(f"{n} {kind}" for kind, n in sorted(result.reflected.items()))
    typer.echo(
        f"stored {result.stored}, skipped {result.skipped} (already held), "
        f"rejected {len(result.rejected)}; reflected: {reflected or 'none'}"
    )
    if result.bundle_error:
        typer.echo(f"error: {result.bundle_error}", err=True)
        raise typer.Exit(1)


@stix_app.command("export")
def stix_export(
    incident: Annotated[
        list[int] | None, typer.Option(help="Only this incident (repeatable).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the bundle here (default stdout).")
    ] = None,
    party: Annotated[str | None, typer.Option(help="Export as this party would see it.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export incidents as a STIX 2.1 bundle (default: every incident the viewer may see)."""
    import msgspec

    from cyberpeace.share.stix_export import export_bundle
    from cyberpeace.share.stix_mapping import Mapper
    from cyberpeace.store import SYSTEM, Forbidden, NotFound, Viewer, open_store

    settings = settings_from(data_dir=data_dir)
    mission = mandated_mission(settings)
    viewer = Viewer("party", party) if party else SYSTEM
    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            bundle = export_bundle(session, viewer, Mapper(mission.id, mission.name), incident)
    except (NotFound, Forbidden) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    text = msgspec.json.format(msgspec.json.encode(bundle), indent=2)
    if out is None:
        typer.echo(text.decode("utf-8"))
    else:
        out.write_bytes(text + b"\n")
        typer.echo(f"wrote {len(bundle['objects'])} objects to {out}")


# --- end STIX ---


def main() -> None:
    app()
