"""Console pages of the case file: the incident page's case section, its note and task forms,
and the report form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cyberpeace import store
from cyberpeace.api.auth import DbSession
from cyberpeace.investigate import case_file as investigate
from cyberpeace.investigate.notes import MAX_NOTE
from cyberpeace.store import SEVERITIES, Forbidden, InvalidTransition, NotFound, Viewer
from cyberpeace.web.routes import _to_login, _viewer, templates

router = APIRouter(include_in_schema=False)


def case_file(session: Session, viewer: Viewer, incident_id: int) -> dict[str, Any]:
    """What the incident page shows of the case: timeline, victims, links, tasks, evidence."""
    evidence = investigate.list_evidence(session, viewer, incident_id)
    return {
        "timeline": investigate.timeline(session, viewer, incident_id),
        "victims": investigate.list_victims(session, viewer, incident_id),
        "links": investigate.list_links(session, viewer, incident_id),
        "tasks": investigate.list_tasks(session, viewer, incident_id) if viewer.is_staff else [],
        "evidence": [(row, investigate.custodian_of(session, row)) for row in evidence],
    }


def _form(request: Request, session: Session, viewer: Viewer, error: str, code: int) -> Response:
    context = {
        "viewer": viewer,
        "parties": store.list_parties(session, viewer),
        "safe_areas": store.list_safe_areas(session, viewer),
        "severities": SEVERITIES,
        "error": error,
    }
    return templates.TemplateResponse(request, "report.html", context, status_code=code)


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, session: DbSession) -> Response:
    viewer = _viewer(request, session)
    if viewer is None:
        return _to_login()
    return _form(request, session, viewer, "", 200)


@router.post("/report", response_class=HTMLResponse)
def report_incident(
    request: Request,
    session: DbSession,
    title: Annotated[str, Form(max_length=300)] = "",
    party: Annotated[str, Form(max_length=64)] = "",
    severity: Annotated[str, Form(max_length=16)] = "medium",
    safe_area: Annotated[str, Form(max_length=64)] = "",
    first_seen: Annotated[str, Form(max_length=40)] = "",
    summary: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """A party (or staff on its behalf) reports an incident the sensors did not see."""
    viewer = _viewer(request, session)
    if viewer is None:
        return _to_login()
    victim = party if viewer.is_staff else (viewer.party_id or "")
    try:
        seen = datetime.fromisoformat(first_seen).replace(tzinfo=UTC) if first_seen else None
    except ValueError:
        seen = None
    problem = _problem(title, seen, summary)
    if problem:
        return _form(request, session, viewer, problem, 422)
    assert seen is not None
    draft = store.IncidentDraft(
        title=title.strip(),
        party=victim,
        severity=severity,
        first_seen=seen,
        last_seen=seen,
        tlp=request.app.state.default_tlp,
        safe_area=safe_area or None,
        summary=summary.strip(),
    )
    try:
        row = store.create_incident(session, viewer, draft)
    except (Forbidden, NotFound, ValueError) as exc:
        code = 403 if isinstance(exc, Forbidden) else 422
        return _form(request, session, viewer, str(exc), code)
    return RedirectResponse(f"/incidents/{row.id}", status_code=303)


def _problem(title: str, seen: datetime | None, summary: str) -> str:
    if len(title.strip()) < 3:
        return "Give the incident a title of at least 3 characters."
    if seen is None:
        return "Say when it was first seen (UTC), as YYYY-MM-DDTHH:MM."
    if "\x00" in title + summary:
        return "The text must not contain NUL characters."
    return ""


def _refused(request: Request, viewer: Viewer, exc: Exception) -> Response:
    """The error page for a refused case change: 404, 403, 409 or 422 with the reason."""
    code = {NotFound: 404, Forbidden: 403, InvalidTransition: 409}.get(type(exc), 422)
    context = {"viewer": viewer, "message": str(exc), "code": code}
    return templates.TemplateResponse(request, "error.html", context, status_code=code)


def _case_change(request: Request, session: Session, change: Callable[[Viewer], int]) -> Response:
    """Sign-in check, the change (which returns its incident), back to the case or the refusal."""
    viewer = _viewer(request, session)
    if viewer is None:
        return _to_login()
    try:
        incident_id = change(viewer)
    except (NotFound, Forbidden, InvalidTransition, ValueError) as exc:
        return _refused(request, viewer, exc)
    return RedirectResponse(f"/incidents/{incident_id}#case-file", status_code=303)


@router.post("/incidents/{incident_id}/notes", response_class=HTMLResponse)
def add_note(
    incident_id: int,
    request: Request,
    session: DbSession,
    body: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    kind: Annotated[str, Form(max_length=16)] = "note",
) -> Response:
    """Staff add an analyst note; a party adds a report to an incident it may see."""
    return _case_change(
        request,
        session,
        lambda viewer: investigate.add_note(session, viewer, incident_id, body, kind).incident_id,
    )


@router.post("/incidents/{incident_id}/tasks", response_class=HTMLResponse)
def add_task(
    incident_id: int,
    request: Request,
    session: DbSession,
    title: Annotated[str, Form(max_length=300)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Mission staff open a task on the case, optionally with an owner."""
    return _case_change(
        request,
        session,
        lambda viewer: (
            investigate.create_task(session, viewer, incident_id, title, owner or None).incident_id
        ),
    )


@router.post("/tasks/{task_id}/complete", response_class=HTMLResponse)
def complete_task(
    task_id: int,
    request: Request,
    session: DbSession,
    outcome: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """Mission staff mark a task done, with what came of it."""
    return _case_change(
        request,
        session,
        lambda viewer: investigate.complete_task(session, viewer, task_id, outcome).incident_id,
    )
