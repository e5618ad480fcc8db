"""The console's patterns page: campaigns and recurring patterns, with server-drawn SVG charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cyberpeace.api.auth import COOKIE, DbSession
from cyberpeace.investigate.patterns import pattern_report
from cyberpeace.store import viewer_for
from cyberpeace.store.pattern_frames import pattern_frames
from cyberpeace.store.tables import PartyRow
from cyberpeace.web.charts import bars_over_time, ranked_bars
from cyberpeace.web.routes import templates

router = APIRouter(include_in_schema=False)


@router.get("/patterns", response_class=HTMLResponse)
def patterns_page(request: Request, session: DbSession, days: int = 0) -> Response:
    token = request.cookies.get(COOKIE)
    viewer = viewer_for(session, token) if token else None
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    since = datetime.now(UTC) - timedelta(days=days) if 0 < days <= 3650 else None
    countries = dict(session.execute(select(PartyRow.id, PartyRow.country)).all())
    report = pattern_report(pattern_frames(session, viewer, since=since), countries)
    charts = {
        "per_day": bars_over_time(report.per_day, "Incidents per day"),
        "targets": ranked_bars(report.rankings["targets_by_party"], "Targeted parties"),
        "sectors": ranked_bars(report.rankings["targets_by_sector"], "Targeted sectors"),
        "kinds": ranked_bars(report.kinds, "Kinds of attack"),
        "sources": ranked_bars(report.rankings["source_parties"], "Source parties"),
        "prefixes": ranked_bars(report.rankings["source_prefixes"], "Source networks"),
    }
    context = {"viewer": viewer, "report": report, "charts": charts, "now": datetime.now(UTC)}
    return templates.TemplateResponse(request, "patterns.html", context)
