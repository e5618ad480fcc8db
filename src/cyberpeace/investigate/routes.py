"""REST routes for attributions and patterns, under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from cyberpeace import store
from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.schemas import MAX_ID, ErrorOut
from cyberpeace.investigate.attribution import AttributionDraft, AttributionError, basis
from cyberpeace.investigate.patterns import pattern_report
from cyberpeace.store.pattern_frames import pattern_frames
from cyberpeace.store.tables import PartyRow

router = APIRouter(
    prefix="/api/v1",
    responses={
        401: {"model": ErrorOut, "description": "No token, or an unknown one."},
        403: {"model": ErrorOut, "description": "The incident belongs to another party."},
        404: {"model": ErrorOut, "description": "No such incident or attribution."},
    },
    tags=["attribution"],
)
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class BasisIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=64)
    weight: float | None = None
    detail: str = Field("", max_length=2000)


class AttributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = "responsibility"
    candidate: str = Field(max_length=200)
    confidence: str = Field(max_length=16)
    bases: list[BasisIn] = Field(max_length=50)
    actor: str | None = Field(None, max_length=32)
    state: str | None = Field(None, max_length=200)
    party: str | None = Field(None, max_length=64)
    raise_if: str = Field("", max_length=2000)
    lower_if: str = Field("", max_length=2000)
    summary: str = Field("", max_length=2000)
    reason: str = Field("", max_length=2000)  # for a revision


def _draft(body: AttributionIn) -> AttributionDraft:
    try:
        bases = tuple(basis(b.kind, b.weight, b.detail) for b in body.bases)
        fields = body.model_dump(exclude={"bases", "reason"})
        return AttributionDraft(bases=bases, **fields)
    except AttributionError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _refused(exc: AttributionError | ValueError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get("/incidents/{incident_id}/attributions")
def list_attributions(
    incident_id: IdPath, session: DbSession, viewer: CurrentViewer
) -> list[dict[str, Any]]:
    """The incident's attribution records, oldest first."""
    return [r.as_dict() for r in store.list_attributions(session, viewer, incident_id)]


@router.post("/incidents/{incident_id}/attributions", status_code=status.HTTP_201_CREATED)
def add_attribution(
    incident_id: IdPath, body: AttributionIn, session: DbSession, viewer: CurrentViewer
) -> dict[str, Any]:
    """Record an attribution (mission staff); 422 naming the problem when it is unsound."""
    viewer.require_staff()
    store.get_incident(session, viewer, incident_id)
    try:
        return store.add_attribution(session, viewer, incident_id, _draft(body)).as_dict()
    except AttributionError as exc:
        raise _refused(exc) from None


@router.put("/attributions/{attribution_id}")
def revise_attribution(
    attribution_id: IdPath, body: AttributionIn, session: DbSession, viewer: CurrentViewer
) -> dict[str, Any]:
    """A new version of an attribution; ``reason`` is required."""
    viewer.require_staff()
    try:
        row = store.revise_attribution(session, viewer, attribution_id, _draft(body), body.reason)
    except (AttributionError, ValueError) as exc:
        raise _refused(exc) from None
    return row.as_dict()


@router.post("/incidents/{incident_id}/attributions/technical")
def derive_technical(
    incident_id: IdPath, session: DbSession, viewer: CurrentViewer
) -> dict[str, Any] | None:
    """Record (or bring up to date) the technical attribution from the traceback."""
    viewer.require_staff()
    row = store.derive_technical(session, viewer, incident_id)
    return row.as_dict() if row else None


@router.get("/patterns", tags=["patterns"])
def patterns(
    session: DbSession,
    viewer: CurrentViewer,
    since: Annotated[AwareDatetime | None, Query()] = None,
) -> dict[str, Any]:
    """Targets, kinds, sources, counts over time and campaigns, over the incidents one may see."""
    countries = dict(session.execute(select(PartyRow.id, PartyRow.country)).all())
    return pattern_report(pattern_frames(session, viewer, since=since), countries).as_dict()
