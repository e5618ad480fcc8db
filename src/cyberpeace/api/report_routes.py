"""POST /api/v1/incidents/import: a party files an incident from a STIX 2.1 bundle or MISP event.

The content type decides how the body is read: ``application/stix+json`` (STIX 2.1 section
1.5.1) or ``application/json`` (a MISP event). The body is read up to ``max_bytes`` of
``investigate/data/party_reports.yaml`` and refused with 413 beyond it; a malformed report is
refused with 422 naming the problem; the request's one transaction then keeps nothing of it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.correlation.correlation_routes import correlator_of
from cyberpeace.investigate.party_reports import (
    Filed,
    ReportRefused,
    ReportTooLarge,
    file_report,
    format_of,
    settings,
)

router = APIRouter()


class FiledOut(BaseModel):
    incident_id: int
    outcome: str  # created, updated, unchanged
    source: str  # stix:incident--UUID or misp:UUID
    added: int
    widened: int
    refused: list[str]


@router.post(
    "/incidents/import",
    response_model=list[FiledOut],
    status_code=status.HTTP_201_CREATED,
    responses={
        413: {"description": "Larger than the report size limit; nothing stored."},
        415: {"description": "Neither application/stix+json nor application/json."},
    },
    tags=["incidents"],
)
async def import_report(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    party: Annotated[str | None, Query(max_length=64)] = None,
) -> list[FiledOut]:
    """File an incident reported by a party (its own token, or staff naming ``party``); one
    incident per STIX bundle or MISP event, updated when the same incident id comes again."""
    filer = party or viewer.party_id
    if filer is None:
        raise HTTPException(422, "staff name the reporting party: ?party=ID")
    try:
        fmt = format_of(request.headers.get("content-type", ""))
    except ReportRefused as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    limit = int(settings()["max_bytes"])
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"report larger than the limit of {limit:,} bytes; nothing stored",
            )
    filed = await run_in_threadpool(_file, request, session, viewer, filer, bytes(data), fmt)
    return [FiledOut.model_validate(asdict(f)) for f in filed]


def _file(
    request: Request, session: DbSession, viewer: CurrentViewer, party: str, data: bytes, fmt: str
) -> list[Filed]:
    intelligence = correlator_of(request).intelligence(session)
    try:
        return file_report(session, viewer, party, data, fmt, intelligence)
    except ReportTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except ReportRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
