"""REST routes of the evidence locker: upload, list, download (custody-logged), transfer.

An upload is streamed into the locker's temporary area while hashed, and stopped with 413 as
soon as it passes ``evidence_max_bytes``; only a whole, hashed artefact is placed in the
locker, and its file is removed again if its row cannot be committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.case_schemas import CustodyOut, EvidenceOut, TransferIn
from cyberpeace.api.routes import IdPath
from cyberpeace.investigate import case_file as investigate
from cyberpeace.investigate.case_file import EvidenceMeta, Intake, Locker, Received, TooLarge
from cyberpeace.store import Viewer, get_incident

router = APIRouter()
# Room for a multipart body's boundaries and headers beyond the artefact itself.
MULTIPART_OVERHEAD = 64 * 1024
Meta = Annotated[str, Query(min_length=1, max_length=5000)]


def locker_for(request: Request) -> Locker:
    return Locker(request.app.state.settings.data_dir / "evidence")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"evidence larger than the limit of {limit:,} bytes (evidence_max_bytes); nothing stored",
    )


@router.post(
    "/incidents/{incident_id}/evidence",
    response_model=EvidenceOut,
    status_code=201,
    responses={413: {"description": "Larger than evidence_max_bytes; nothing stored."}},
    tags=["evidence"],
)
async def upload_evidence(
    incident_id: IdPath,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    source: Meta,
    method: Meta,
    kind: Annotated[str, Query(max_length=32)] = "file",
    filename: Annotated[str | None, Query(max_length=255)] = None,
    media_type: Annotated[str | None, Query(max_length=200)] = None,
    collected_at: Annotated[AwareDatetime | None, Query()] = None,
) -> EvidenceOut:
    """Store an artefact: the raw request body, or the ``file`` part of a multipart form.

    ``source`` and ``method`` say where it came from and how it was collected.
    """
    await run_in_threadpool(get_incident, session, viewer, incident_id)  # 403/404 before reading
    limit: int = request.app.state.settings.evidence_max_bytes
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    declared = request.headers.get("content-length")
    room = limit + (MULTIPART_OVERHEAD if multipart else 0)
    if declared is not None and declared.isdigit() and int(declared) > room:
        raise _too_large(limit)
    locker = locker_for(request)
    if multipart:
        received, name = await _receive_multipart(request, locker, limit)
    else:
        received, name = await _receive(request.stream(), locker.intake(limit), limit), filename
    meta = EvidenceMeta(
        source, method, kind, media_type or None, filename or name, collected_at, None
    )
    return await run_in_threadpool(_store, request, locker, viewer, incident_id, received, meta)


def _store(
    request: Request,
    locker: Locker,
    viewer: Viewer,
    incident_id: int,
    received: Received,
    meta: EvidenceMeta,
) -> EvidenceOut:
    try:
        row = investigate.add_evidence(
            request.app.state.store, locker, viewer, incident_id, received, meta
        )
    except investigate.BadEvidence as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return EvidenceOut.model_validate(row)


async def _receive(chunks: AsyncIterator[bytes], intake: Intake, limit: int) -> Received:
    try:
        async for chunk in chunks:
            intake.write(chunk)
    except TooLarge:
        raise _too_large(limit) from None
    except BaseException:
        intake.abort()
        raise
    if intake.size == 0:
        intake.abort()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "empty upload: no evidence in the body")
    return intake.finish()


async def _receive_multipart(
    request: Request, locker: Locker, limit: int
) -> tuple[Received, str | None]:
    """The single ``file`` part, with the whole body held to the limit while it is parsed."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > limit + MULTIPART_OVERHEAD:
            raise _too_large(limit)
        return message

    bounded = Request(request.scope, limited)
    async with bounded.form(max_files=1, max_fields=20) as form:
        parts = form.getlist("file")
        if len(parts) != 1 or not isinstance(parts[0], UploadFile):
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "a multipart upload needs exactly one part named 'file'",
            )
        upload = parts[0]

        async def chunks() -> AsyncIterator[bytes]:
            while block := await upload.read(1 << 20):
                yield block

        received = await _receive(chunks(), locker.intake(limit), limit)
        return received, upload.filename


@router.get(
    "/incidents/{incident_id}/evidence", response_model=list[EvidenceOut], tags=["evidence"]
)
def list_evidence(
    incident_id: IdPath, session: DbSession, viewer: CurrentViewer
) -> list[EvidenceOut]:
    rows = investigate.list_evidence(session, viewer, incident_id)
    return [EvidenceOut.model_validate(r) for r in rows]


@router.get("/evidence/{evidence_id}", response_model=EvidenceOut, tags=["evidence"])
def get_evidence(evidence_id: IdPath, session: DbSession, viewer: CurrentViewer) -> EvidenceOut:
    return EvidenceOut.model_validate(investigate.get_evidence(session, viewer, evidence_id))


@router.get("/evidence/{evidence_id}/content", response_class=FileResponse, tags=["evidence"])
def download_evidence(
    evidence_id: IdPath,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    purpose: Annotated[str, Query(max_length=500)] = "download",
) -> FileResponse:
    """The artefact's bytes; the access is in the custody log before they are sent."""
    row, path = investigate.access_evidence(
        session, locker_for(request), viewer, evidence_id, purpose
    )
    return FileResponse(
        path,
        media_type=row.media_type or "application/octet-stream",
        filename=row.filename or f"evidence-{row.id}",
        headers={"X-Content-SHA256": row.sha256},
    )


@router.post("/evidence/{evidence_id}/transfer", response_model=EvidenceOut, tags=["evidence"])
def transfer_evidence(
    evidence_id: IdPath, body: TransferIn, session: DbSession, viewer: CurrentViewer
) -> EvidenceOut:
    """Hand custody to someone (mission staff only), with the reason."""
    row = investigate.transfer_evidence(session, viewer, evidence_id, body.to, body.reason)
    return EvidenceOut.model_validate(row)


@router.get("/evidence/{evidence_id}/custody", response_model=list[CustodyOut], tags=["evidence"])
def custody(evidence_id: IdPath, session: DbSession, viewer: CurrentViewer) -> list[CustodyOut]:
    row = investigate.get_evidence(session, viewer, evidence_id)
    return [CustodyOut.model_validate(e) for e in investigate.custody_log(session, [row.id])]
