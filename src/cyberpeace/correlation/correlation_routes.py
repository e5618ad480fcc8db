"""GET /api/v1/incidents/{id}/correlations, and POST /api/v1/incidents/{id}/indicators."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.schemas import MAX_ID, ErrorOut
from cyberpeace.correlation.correlations import correlations_of
from cyberpeace.correlation.correlator import Correlator
from cyberpeace.correlation.indicator_kinds import IndicatorError
from cyberpeace.correlation.observations import report_indicators
from cyberpeace.correlation.schemas import CorrelationsOut, ObservationOut, ReportIn

_errors: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "The incident belongs to another party."},
    404: {"model": ErrorOut, "description": "No such incident."},
}
router = APIRouter(prefix="/api/v1", responses=_errors, tags=["correlation"])
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def correlator_of(request: Request) -> Correlator:
    """The application's correlator, made on first use; its index lives in the data directory."""
    state = request.app.state
    found: Correlator | None = getattr(state, "correlator", None)
    if found is None:
        found = Correlator(state.settings.data_dir / "correlation")
        state.correlator = found
    return found


@router.get("/incidents/{incident_id}/correlations", response_model=CorrelationsOut)
def get_correlations(
    incident_id: IdPath,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> CorrelationsOut:
    """The incidents and intelligence that share indicators with this one, best first."""
    index = correlator_of(request).index(session)
    result = correlations_of(session, viewer, index, incident_id, limit)
    return CorrelationsOut.model_validate(asdict(result))


@router.post(
    "/incidents/{incident_id}/indicators",
    response_model=ObservationOut,
    status_code=status.HTTP_201_CREATED,
)
def post_indicators(
    incident_id: IdPath, body: ReportIn, request: Request, session: DbSession, viewer: CurrentViewer
) -> ObservationOut:
    """Report indicators of an incident (the victim party or staff); invalid ones are refused
    with their reason, the rest kept, and each one met in shared intelligence is a sighting."""
    last = body.last_seen or body.first_seen
    if last < body.first_seen:
        raise HTTPException(422, "last_seen is before first_seen")
    values = [(item.kind, item.value) for item in body.indicators]
    intelligence = correlator_of(request).intelligence(session)
    try:
        result = report_indicators(
            session, viewer, incident_id, values, (body.first_seen, last), intelligence
        )
    except IndicatorError as exc:
        raise HTTPException(422, str(exc)) from None
    return ObservationOut.model_validate(asdict(result))
