"""The console: server-rendered pages over the same store functions the API uses."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cyberpeace import store
from cyberpeace.api.auth import COOKIE, DbSession
from cyberpeace.store import Forbidden, NotFound, Viewer, viewer_for

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("cyberpeace.web").joinpath("templates")))


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
    attacked = {i.safe_area_id for i in open_incidents if i.safe_area_id}
    context = {
        "viewer": viewer,
        "safe_areas": store.list_safe_areas(session, viewer),
        "attacked": attacked,
        "detections": store.list_detections(session, viewer, limit=10),
        "incidents": open_incidents,
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
    context = {"viewer": viewer, "incident": incident, "history": history}
    return templates.TemplateResponse(request, "incident.html", context)
