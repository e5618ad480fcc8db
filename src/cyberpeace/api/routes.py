"""REST routes under /api/v1: parties, safe areas, detections, incidents and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime

from cyberpeace import respond, store
from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.schemas import (
    IDENT_PATTERN,
    MAX_ID,
    ActionOut,
    AssessmentIn,
    AssessmentOut,
    AssessmentVersionOut,
    AuditEntryOut,
    DecisionIn,
    DetectionOut,
    ErrorOut,
    IncidentDetailOut,
    IncidentIn,
    IncidentOut,
    PartyOut,
    SafeAreaOut,
    Severity,
    Status,
    StatusIn,
    VerificationOut,
)
from cyberpeace.law import FactsError, parse_overrides
from cyberpeace.store import audit

_errors: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "The object belongs to another party."},
    404: {"model": ErrorOut, "description": "No such object."},
}
router = APIRouter(prefix="/api/v1", responses=_errors)
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
# Naive datetimes are refused here: the store compares only UTC-aware ones.
Since = Annotated[AwareDatetime | None, Query()]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
KeyPath = Annotated[str, Path(pattern=IDENT_PATTERN)]
KeyQuery = Annotated[str | None, Query(pattern=IDENT_PATTERN)]
KindQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")]


@router.get("/parties", response_model=list[PartyOut], tags=["parties"])
def list_parties(session: DbSession, viewer: CurrentViewer) -> list[PartyOut]:
    """Every party for mission staff; a party's own record for a party."""
    return [PartyOut.model_validate(r) for r in store.list_parties(session, viewer)]


@router.get("/parties/{party_id}", response_model=PartyOut, tags=["parties"])
def get_party(party_id: KeyPath, session: DbSession, viewer: CurrentViewer) -> PartyOut:
    return PartyOut.model_validate(store.get_party(session, viewer, party_id))


@router.get("/safe-areas", response_model=list[SafeAreaOut], tags=["safe areas"])
def list_safe_areas(
    session: DbSession, viewer: CurrentViewer, party: KeyQuery = None
) -> list[SafeAreaOut]:
    rows = store.list_safe_areas(session, viewer, party)
    return [SafeAreaOut.model_validate(r) for r in rows]


@router.get("/safe-areas/{area_id}", response_model=SafeAreaOut, tags=["safe areas"])
def get_safe_area(area_id: KeyPath, session: DbSession, viewer: CurrentViewer) -> SafeAreaOut:
    return SafeAreaOut.model_validate(store.get_safe_area(session, viewer, area_id))


@router.get("/detections", response_model=list[DetectionOut], tags=["detections"])
def list_detections(
    session: DbSession,
    viewer: CurrentViewer,
    kind: KindQuery = None,
    party: KeyQuery = None,
    safe_area: KeyQuery = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DetectionOut]:
    rows = store.list_detections(
        session,
        viewer,
        kind=kind,
        party=party,
        safe_area=safe_area,
        since=since,
        limit=limit,
        offset=offset,
    )
    return [DetectionOut.model_validate(r) for r in rows]


@router.get("/detections/{detection_id}", response_model=DetectionOut, tags=["detections"])
def get_detection(detection_id: IdPath, session: DbSession, viewer: CurrentViewer) -> DetectionOut:
    return DetectionOut.model_validate(store.get_detection(session, viewer, detection_id))


@router.get("/incidents", response_model=list[IncidentOut], tags=["incidents"])
def list_incidents(
    session: DbSession,
    viewer: CurrentViewer,
    status: Status | None = None,
    party: KeyQuery = None,
    safe_area: KeyQuery = None,
    severity: Severity | None = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[IncidentOut]:
    rows = store.list_incidents(
        session,
        viewer,
        status=status,
        party=party,
        safe_area=safe_area,
        severity=severity,
        since=since,
        limit=limit,
        offset=offset,
    )
    return [IncidentOut.model_validate(r) for r in rows]


@router.post(
    "/incidents",
    response_model=IncidentDetailOut,
    status_code=status.HTTP_201_CREATED,
    tags=["incidents"],
)
def create_incident(
    body: IncidentIn, request: Request, session: DbSession, viewer: CurrentViewer
) -> IncidentDetailOut:
    """Open an incident. A party may report incidents in which it is the victim."""
    draft = store.IncidentDraft(
        title=body.title,
        party=body.party,
        severity=body.severity,
        first_seen=body.first_seen,
        last_seen=body.last_seen or body.first_seen,
        tlp=body.tlp or request.app.state.default_tlp,
        safe_area=body.safe_area,
        summary=body.summary,
    )
    return IncidentDetailOut.model_validate(store.create_incident(session, viewer, draft))


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, tags=["incidents"])
def get_incident(
    incident_id: IdPath, session: DbSession, viewer: CurrentViewer
) -> IncidentDetailOut:
    return IncidentDetailOut.model_validate(store.get_incident(session, viewer, incident_id))


@router.post(
    "/incidents/{incident_id}/status",
    response_model=IncidentOut,
    responses={409: {"model": ErrorOut, "description": "The workflow forbids this change."}},
    tags=["incidents"],
)
def change_status(
    incident_id: IdPath, body: StatusIn, session: DbSession, viewer: CurrentViewer
) -> IncidentOut:
    """Move an incident along new → triage → investigating → assessed → closed (staff only)."""
    row = store.change_status(session, viewer, incident_id, body.status, body.reason)
    return IncidentOut.model_validate(row)


@router.get(
    "/incidents/{incident_id}/assessment", response_model=AssessmentOut, tags=["assessments"]
)
def get_assessment(
    incident_id: IdPath,
    session: DbSession,
    viewer: CurrentViewer,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> AssessmentOut:
    """The latest legal assessment of an incident (or ``version``), with its facts and findings."""
    return AssessmentOut.of(store.get_assessment(session, viewer, incident_id, version))


@router.get(
    "/incidents/{incident_id}/assessments",
    response_model=list[AssessmentVersionOut],
    tags=["assessments"],
)
def list_assessments(
    incident_id: IdPath, session: DbSession, viewer: CurrentViewer
) -> list[AssessmentVersionOut]:
    """Every version of an assessment, oldest first: who, which knowledge, what changed."""
    rows = store.list_assessments(session, viewer, incident_id)
    return [AssessmentVersionOut.model_validate(r) for r in rows]


@router.post(
    "/incidents/{incident_id}/assessment",
    response_model=AssessmentOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": AssessmentOut, "description": "Nothing changed: the latest."}},
    tags=["assessments"],
)
def assess_incident(
    incident_id: IdPath,
    body: AssessmentIn,
    request: Request,
    response: Response,
    session: DbSession,
    viewer: CurrentViewer,
) -> AssessmentOut:
    """Assess the incident again with the facts given set by the caller (mission staff only).

    A new version (201) when the facts or findings changed, else the latest one (200).
    """
    viewer.require_staff()
    try:
        overrides = parse_overrides(body.facts, viewer.actor)
    except FactsError as exc:
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": ("body", "facts", path), "msg": message}
                for path, message in exc.problems
            ]
        ) from None
    before = len(store.list_assessments(session, viewer, incident_id))
    row = store.set_facts(
        session,
        viewer,
        incident_id,
        overrides,
        reason=body.reason,
        mandate=request.app.state.mandate,
    )
    if row.version <= before:
        response.status_code = status.HTTP_200_OK
    return AssessmentOut.of(row)


@router.get("/audit", response_model=list[AuditEntryOut], tags=["audit"])
def list_audit(
    session: DbSession, viewer: CurrentViewer, after: Offset = 0, limit: Limit = 100
) -> list[AuditEntryOut]:
    """The hash-chained audit log, oldest first (mission staff only)."""
    viewer.require_staff()
    return [
        AuditEntryOut.model_validate(r) for r in audit.entries(session, after=after, limit=limit)
    ]


@router.get("/audit/verify", response_model=VerificationOut, tags=["audit"])
def verify_audit(session: DbSession, viewer: CurrentViewer) -> VerificationOut:
    viewer.require_staff()
    result = store.verify(session)
    return VerificationOut(**result.__dict__)


# --- actions (respond/) ----------------------------------------------------------------------
ActionStatus = Literal[
    "proposed", "approved", "applied", "failed", "expired", "revoked", "rejected"
]


@router.get("/actions", response_model=list[ActionOut], tags=["actions"])
def list_actions(
    session: DbSession,
    viewer: CurrentViewer,
    status: ActionStatus | None = None,
    pending: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ActionOut]:
    """Actions, newest first: all for mission staff, those protecting it for a party."""
    rows = respond.list_actions(
        session, viewer, status=status, pending=pending, limit=limit, offset=offset
    )
    return [ActionOut.model_validate(r) for r in rows]


@router.get("/actions/{action_id}", response_model=ActionOut, tags=["actions"])
def get_action(action_id: IdPath, session: DbSession, viewer: CurrentViewer) -> ActionOut:
    return ActionOut.model_validate(respond.get_action(session, viewer, action_id))


def _enforce_after(request: Request, tasks: BackgroundTasks) -> None:
    # After the response, so the decision is committed before any enforcer runs.
    from cyberpeace.respond.setup import enforce_now

    tasks.add_task(enforce_now, request.app.state.store, request.app.state.settings)


@router.post(
    "/actions/{action_id}/approve",
    response_model=ActionOut,
    responses={
        409: {"model": ErrorOut, "description": "Not awaiting approval, or approved twice."}
    },
    tags=["actions"],
)
def approve_action(
    action_id: IdPath,
    body: DecisionIn,
    request: Request,
    tasks: BackgroundTasks,
    session: DbSession,
    viewer: CurrentViewer,
) -> ActionOut:
    """One approval by mission staff; enforced once enough distinct people approved."""
    row = respond.approve(session, viewer, action_id, body.reason, datetime.now(UTC))
    if row.status == "approved":
        _enforce_after(request, tasks)
    return ActionOut.model_validate(row)


@router.post(
    "/actions/{action_id}/reject",
    response_model=ActionOut,
    responses={409: {"model": ErrorOut, "description": "Not awaiting a decision."}},
    tags=["actions"],
)
def reject_action(
    action_id: IdPath, body: DecisionIn, session: DbSession, viewer: CurrentViewer
) -> ActionOut:
    return ActionOut.model_validate(
        respond.reject(session, viewer, action_id, body.reason, datetime.now(UTC))
    )


@router.post(
    "/actions/{action_id}/revoke",
    response_model=ActionOut,
    responses={409: {"model": ErrorOut, "description": "The action has already ended."}},
    tags=["actions"],
)
def revoke_action(
    action_id: IdPath,
    body: DecisionIn,
    request: Request,
    tasks: BackgroundTasks,
    session: DbSession,
    viewer: CurrentViewer,
) -> ActionOut:
    """End an action before it expires (mission staff); what is in force is then removed
    (nft set elements deleted, FlowSpec and RTBH routes withdrawn), on the record."""
    row = respond.revoke(session, viewer, action_id, body.reason, datetime.now(UTC))
    if row.in_force:
        _enforce_after(request, tasks)
    return ActionOut.model_validate(row)
