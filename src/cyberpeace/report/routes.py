"""API routes for reports: ``/api/v1/reports/...`` as HTML or PDF, for the token's reader.

The reader is the viewer the bearer token names (mission staff or one party) at their role's
clearance; ``tlp`` asks for a lower one, to make a report that may go further.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.schemas import MAX_ID, ErrorOut
from cyberpeace.report.building import situation_report, verification_report
from cyberpeace.report.content import Report
from cyberpeace.report.pdf import PdfError, html_to_pdf
from cyberpeace.report.period import parse_period
from cyberpeace.report.reader import Reader, ReportError, reader_for
from cyberpeace.report.rendering import report_html

_errors: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "Another party's case, or marked above the reader."},
    404: {"model": ErrorOut, "description": "No such incident."},
    422: {"model": ErrorOut, "description": "A bad date, period or TLP level."},
    503: {"model": ErrorOut, "description": "The PDF could not be printed."},
}
router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=_errors)
Format = Annotated[Literal["html", "pdf"], Query(description="html (default) or pdf")]
TlpQuery = Annotated[str | None, Query(max_length=30, description="e.g. TLP:GREEN or green")]
Moment = Annotated[str, Query(min_length=1, max_length=40, description="ISO 8601; UTC if no zone")]
_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/html": {}, "application/pdf": {}},
        "description": "The report, marked with its TLP on every page.",
    }
}


def _reader(viewer: CurrentViewer, tlp: str | None) -> Reader:
    try:
        return reader_for(viewer, tlp)
    except ReportError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _mission(request: Request) -> str:
    mandate = request.app.state.mandate
    return mandate.mission.name if mandate is not None else "cyberpeace"


def _respond(report: Report, fmt: str, name: str) -> Response:
    html = report_html(report)
    headers = {"Cache-Control": "no-store", "X-TLP": report.tlp}
    if fmt == "html":
        return HTMLResponse(html, headers=headers)
    try:
        body = html_to_pdf(html)
    except PdfError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    headers["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return Response(body, media_type="application/pdf", headers=headers)


@router.get("/incidents/{incident_id}", responses=_OK, response_class=Response)
def incident_report(
    incident_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    format: Format = "html",
    tlp: TlpQuery = None,
) -> Response:
    """The verification report of one incident the token may see, up to the reader's TLP."""
    reader = _reader(viewer, tlp)
    report = verification_report(session, reader, incident_id, mission=_mission(request))
    return _respond(report, format, f"incident-{incident_id}-verification")


@router.get("/situation", responses=_OK, response_class=Response)
def situation(
    since: Moment,
    until: Moment,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    format: Format = "html",
    tlp: TlpQuery = None,
) -> Response:
    """The situation over [since, until): the incidents the token may see, up to its TLP."""
    reader = _reader(viewer, tlp)
    try:
        period = parse_period(since, until)
    except ReportError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    report = situation_report(session, reader, period, mission=_mission(request))
    return _respond(report, format, f"situation-{period.since:%Y%m%d}-{period.until:%Y%m%d}")
