"""``cyberpeace patterns [--since] [--json]``: the recurring patterns and the campaigns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select

from cyberpeace.cli_options import DataDir, settings_from
from cyberpeace.investigate.patterns import PatternReport, pattern_report

patterns_app = typer.Typer(help="Recurring patterns and campaigns across incidents.")


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --since {text!r} is not an ISO 8601 date or time", err=True)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@patterns_app.callback(invoke_without_command=True)
def patterns(
    since: Annotated[str | None, typer.Option(help="Only incidents last seen since (UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Who is targeted, by what, from where, over time; and the campaigns."""
    from cyberpeace.store import SYSTEM, open_store
    from cyberpeace.store.pattern_frames import pattern_frames
    from cyberpeace.store.tables import PartyRow

    moment = _since(since)
    store = open_store(settings_from(data_dir=data_dir).database_url)
    try:
        with store.session() as session:
            countries = dict(session.execute(select(PartyRow.id, PartyRow.country)).all())
            report = pattern_report(pattern_frames(session, SYSTEM, since=moment), countries)
    finally:
        store.close()
    typer.echo(json.dumps(report.as_dict(), indent=2) if as_json else report_text(report))


def report_text(report: PatternReport) -> str:
    lines = [f"{report.incidents} incidents"]
    sections = [*report.rankings.items(), ("kinds", report.kinds)]
    sections += [("source_countries", report.source_countries), ("per_week", report.per_week)]
    for name, rows in sections:
        lines.append(name.replace("_", " ") + ":")
        lines += [f"  {n:>6}  {value}" for value, n in rows] or ["  (none)"]
    lines.append(f"campaigns: {len(report.campaigns)}")
    for number, campaign in enumerate(report.campaigns, 1):
        span = f"{campaign.first_seen:%Y-%m-%d %H:%M} to {campaign.last_seen:%Y-%m-%d %H:%M}"
        lines.append(f"  campaign {number}: incidents {campaign.members} ({span} UTC)")
        lines += [f"    {k}: {', '.join(v)}" for k, v in campaign.shared.items()]
    return "\n".join(lines)
