"""REST routes of the case file: timeline, notes and reports, tasks, links, victims, severity.

The evidence routes (api/evidence_routes.py) and party report imports (api/report_routes.py)
are included here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, status

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.case_schemas import (
    AssignIn,
    CompleteIn,
    EventOut,
    LinkIn,
    LinkOut,
    NoteIn,
    NoteOut,
    SeverityIn,
    TaskIn,
    TaskOut,
    VictimIn,
    VictimOut,
)
from cyberpeace.api.evidence_routes import router as evidence_router
from cyberpeace.api.report_routes import router as report_router
from cyberpeace.api.routes import IdPath
from cyberpeace.api.schemas import ErrorOut, IncidentOut
from cyberpeace.investigate import case_file as investigate

_errors: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "Another party's case, or staff only."},
    404: {"model": ErrorOut, "description": "No such object."},
    422: {"model": ErrorOut, "description": "The request is refused, with the reason."},
}
router = APIRouter(prefix="/api/v1", responses=_errors, tags=["cases"])


@contextmanager
def refused_as_422() -> Iterator[None]:
    """A ValueError from the case functions is the caller's mistake: 422 with its message."""
    try:
        yield
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/incidents/{incident_id}/timeline", response_model=list[EventOut])
def get_timeline(incident_id: IdPath, session: DbSession, viewer: CurrentViewer) -> list[EventOut]:
    """Everything that happened in the case, oldest first, as far as the viewer may see."""
    return [EventOut.model_validate(e) for e in investigate.timeline(session, viewer, incident_id)]


@router.get("/incidents/{incident_id}/notes", response_model=list[NoteOut])
def list_notes(incident_id: IdPath, session: DbSession, viewer: CurrentViewer) -> list[NoteOut]:
    return [NoteOut.model_validate(n) for n in investigate.list_notes(session, viewer, incident_id)]


@router.post("/incidents/{incident_id}/notes", response_model=NoteOut, status_code=201)
def add_note(
    incident_id: IdPath, body: NoteIn, session: DbSession, viewer: CurrentViewer
) -> NoteOut:
    """An analyst note (staff), or a report from a party on its own incident (kind=report)."""
    with refused_as_422():
        row = investigate.add_note(session, viewer, incident_id, body.body, body.kind)
    return NoteOut.model_validate(row)


@router.get("/incidents/{incident_id}/tasks", response_model=list[TaskOut])
def list_tasks(incident_id: IdPath, session: DbSession, viewer: CurrentViewer) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t in investigate.list_tasks(session, viewer, incident_id)]


@router.post("/incidents/{incident_id}/tasks", response_model=TaskOut, status_code=201)
def create_task(
    incident_id: IdPath, body: TaskIn, session: DbSession, viewer: CurrentViewer
) -> TaskOut:
    with refused_as_422():
        row = investigate.create_task(session, viewer, incident_id, body.title, body.owner)
    return TaskOut.model_validate(row)


@router.post("/tasks/{task_id}/assign", response_model=TaskOut)
def assign_task(
    task_id: IdPath, body: AssignIn, session: DbSession, viewer: CurrentViewer
) -> TaskOut:
    with refused_as_422():
        return TaskOut.model_validate(investigate.assign_task(session, viewer, task_id, body.owner))


@router.post("/tasks/{task_id}/complete", response_model=TaskOut)
def complete_task(
    task_id: IdPath, body: CompleteIn, session: DbSession, viewer: CurrentViewer
) -> TaskOut:
    row = investigate.complete_task(session, viewer, task_id, body.outcome)
    return TaskOut.model_validate(row)


@router.get("/incidents/{incident_id}/links", response_model=list[LinkOut])
def list_links(incident_id: IdPath, session: DbSession, viewer: CurrentViewer) -> list[LinkOut]:
    return [LinkOut.model_validate(x) for x in investigate.list_links(session, viewer, incident_id)]


@router.post("/incidents/{incident_id}/links", response_model=LinkOut, status_code=201)
def link_incidents(
    incident_id: IdPath, body: LinkIn, session: DbSession, viewer: CurrentViewer
) -> LinkOut:
    """Record that this incident is a duplicate of, related to, or part of another."""
    with refused_as_422():
        row = investigate.link_incidents(
            session, viewer, incident_id, body.other, body.kind, body.reason
        )
    return LinkOut.model_validate(row)


@router.get("/incidents/{incident_id}/victims", response_model=list[VictimOut])
def list_victims(incident_id: IdPath, session: DbSession, viewer: CurrentViewer) -> list[VictimOut]:
    rows = investigate.list_victims(session, viewer, incident_id)
    return [VictimOut.model_validate(v) for v in rows]


@router.post("/incidents/{incident_id}/victims", response_model=VictimOut, status_code=201)
def add_victim(
    incident_id: IdPath, body: VictimIn, session: DbSession, viewer: CurrentViewer
) -> VictimOut:
    with refused_as_422():
        row = investigate.add_victim(
            session, viewer, incident_id, body.party, safe_area=body.safe_area, sector=body.sector
        )
    return VictimOut.model_validate(row)


@router.post("/incidents/{incident_id}/severity", response_model=IncidentOut)
def change_severity(
    incident_id: IdPath, body: SeverityIn, session: DbSession, viewer: CurrentViewer
) -> IncidentOut:
    with refused_as_422():
        row = investigate.change_severity(session, viewer, incident_id, body.severity, body.reason)
    return IncidentOut.model_validate(row)


router.include_router(evidence_router)
router.include_router(report_router)
