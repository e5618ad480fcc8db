"""The console: server-rendered pages over the same store functions the API uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cyberpeace import respond, store
from cyberpeace.api.auth import COOKIE, DbSession
from cyberpeace.law import Finding
from cyberpeace.law.report import level_text
from cyberpeace.store import (
    SEVERITIES,
    Forbidden,
    InvalidTransition,
    NotFound,
    Viewer,
    viewer_for,
)
from cyberpeace.store.tables import IncidentRow

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("cyberpeace.web").joinpath("templates")))

_BIT_UNITS = ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s")


def bits_per_second(value: float) -> str:
    """2930000000 -> '2.9 Gbit/s'."""
    unit = 0
    while value >= 1000 and unit < len(_BIT_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    return f"{value:.1f} {_BIT_UNITS[unit]}" if unit else f"{value:.0f} bit/s"


def utc(value: datetime | str, seconds: bool = True) -> str:
    """A UTC time as the console shows it: '2026-11-25 01:39:27'."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def plain(value: Any) -> str:
    """An explanation value in words: 7100 -> '7,100', [53, 123] -> '53, 123'."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "—"}[value]
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    return str(value)


def audit_detail(detail: str) -> str:
    """An audit entry's canonical JSON detail as 'key value · key value'."""
    try:
        parsed = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(parsed, dict):
        return plain(parsed)
    return " · ".join(f"{key} {plain(value)}" for key, value in parsed.items())


def tlp_colour(tlp: str) -> str:
    """'TLP:AMBER+STRICT' -> 'amber', for the class that colours the label."""
    return tlp.partition(":")[2].partition("+")[0].lower() or "unknown"


# What each TLP 2.0 label allows, as FIRST words it, shown under the label on an incident.
TLP_MEANING = {
    "TLP:RED": "For the eyes and ears of individual recipients only, no further disclosure.",
    "TLP:AMBER+STRICT": "Limited disclosure, restricted to the recipient's organisation only.",
    "TLP:AMBER": "Limited disclosure, recipients may share on a need-to-know basis within "
    "their organisation and its clients.",
    "TLP:GREEN": "Limited disclosure, recipients may share within their community.",
    "TLP:CLEAR": "Disclosure is not limited.",
}

templates.env.globals["tlp_meaning"] = TLP_MEANING
templates.env.filters["bps"] = bits_per_second
templates.env.filters["utc"] = utc
templates.env.filters["plain"] = plain
templates.env.filters["audit_detail"] = audit_detail
templates.env.filters["tlp_colour"] = tlp_colour


def _viewer(request: Request, session: DbSession) -> Viewer | None:
    token = request.cookies.get(COOKIE)
    return viewer_for(session, token) if token else None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": ""})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, token: Annotated[str, Form()] = "") -> Response:
    if viewer_for(session, token.strip()) is None:
        context = {"error": "That token is unknown or revoked."}
        return templates.TemplateResponse(request, "login.html", context, status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout() -> Response:
    response = _to_login()
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: DbSession) -> Response:
    viewer = _viewer(request, session)
    if viewer is None:
        return _to_login()
    incidents = store.list_incidents(session, viewer, limit=50)
    open_incidents = [i for i in incidents if i.status != "closed"]
    attacked: dict[str, list[IncidentRow]] = {}
    for incident in open_incidents:
        if incident.safe_area_id:
            attacked.setdefault(incident.safe_area_id, []).append(incident)
    context = {
        "viewer": viewer,
        "now": datetime.now(UTC),
        "safe_areas": store.list_safe_areas(session, viewer),
        "attacked": attacked,
        "worst": {area: _worst(found) for area, found in attacked.items()},
        "detections": store.list_detections(session, viewer, limit=10),
        "incidents": open_incidents,
        "critical": sum(1 for i in open_incidents if i.severity == "critical"),
        "pending_actions": respond.list_actions(session, viewer, pending=True, limit=50),
        "active_actions": _active_actions(session, viewer),
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(incident_id: int, request: Request, session: DbSession) -> Response:
    viewer = _viewer(request, session)
    if viewer is None:
        return _to_login()
    try:
        incident = store.get_incident(session, viewer, incident_id)
    except (NotFound, Forbidden) as exc:
        code = 404 if isinstance(exc, NotFound) else 403
        context = {"viewer": viewer, "message": str(exc), "code": code}
        return templates.TemplateResponse(request, "error.html", context, status_code=code)
    history = store.audit.entries(session, subject=f"incident:{incident.id}", limit=200)
    context = {
        "viewer": viewer,
        "incident": incident,
        "history": history,
        "legal": _legal(session, viewer, incident.id),
        "case": _case_file(session, viewer, incident.id),
    }
    return templates.TemplateResponse(request, "incident.html", context)


def _case_file(session: DbSession, viewer: Viewer, incident_id: int) -> dict[str, Any]:
    from cyberpeace.web.case_pages import case_file

    return case_file(session, viewer, incident_id)


def _legal(session: DbSession, viewer: Viewer, incident_id: int) -> dict[str, Any] | None:
    """The latest assessment for the page: findings grouped by instrument, engaged ones first."""
    try:
        row = store.get_assessment(session, viewer, incident_id)
    except NotFound:
        return None
    assessment = store.assessment_of(row)
    groups: dict[str, list[Finding]] = {}
    for finding in [*assessment.mandate, *assessment.findings]:
        groups.setdefault(finding.instrument, []).append(finding)
    return {
        "row": row,
        "assessment": assessment,
        "versions": len(store.list_assessments(session, viewer, incident_id)),
        "groups": {
            instrument: (
                [f for f in found if f.level != "not engaged"],
                [f for f in found if f.level == "not engaged"],
            )
            for instrument, found in groups.items()
        },
    }


def level_class(level: str) -> str:
    """'likely breached' -> 'likely-breached', for the class that colours a finding's level."""
    return level.replace(" ", "-")


templates.env.filters["level_class"] = level_class
templates.env.filters["level_text"] = level_text


def _worst(incidents: list[IncidentRow]) -> str:
    return max((i.severity for i in incidents), key=SEVERITIES.index)


def _active_actions(session: DbSession, viewer: Viewer) -> list[Any]:
    """The actions that are, or are about to be, in force: those a human may revoke."""
    found = []
    for wanted in ("applied", "approved", "failed"):
        found += respond.list_actions(session, viewer, status=wanted, limit=50)
    return sorted(found, key=lambda row: row.id, reverse=True)


@router.post("/actions/{action_id}/{decision}")
def decide_action(
    action_id: int,
    decision: str,
    request: Request,
    tasks: BackgroundTasks,
    session: DbSession,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Approve, reject or revoke an action from the dashboard (mission staff)."""
    viewer = _viewer(request, session)
    if viewer is None:
        return _to_login()
    steps = {"approve": respond.approve, "reject": respond.reject, "revoke": respond.revoke}
    if decision not in steps:
        context = {"viewer": viewer, "message": f"no decision {decision!r}", "code": 404}
        return templates.TemplateResponse(request, "error.html", context, status_code=404)
    try:
        row = steps[decision](session, viewer, action_id, reason, datetime.now(UTC))
    except (NotFound, Forbidden, InvalidTransition) as exc:
        code = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 409
        context = {"viewer": viewer, "message": str(exc), "code": code}
        return templates.TemplateResponse(request, "error.html", context, status_code=code)
    if row.status == "approved" or (row.status == "revoked" and row.in_force):
        # After the response, once the decision is committed (as the API does).
        from cyberpeace.respond.setup import enforce_now

        app = request.app
        tasks.add_task(enforce_now, app.state.store, app.state.settings)
    return RedirectResponse("/#actions", status_code=303)
