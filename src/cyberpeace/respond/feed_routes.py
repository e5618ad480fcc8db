"""``GET /api/v1/blocklist``: the block list as text, CSV or a STIX 2.1 bundle, for polling.

The format is the ``format`` query parameter (``text``, ``csv``, ``stix``) or, without it, the
best match of the ``Accept`` header (RFC 9110 section 12.5.1): ``text/plain``, ``text/csv``
(RFC 4180), ``application/stix+json;version=2.1`` (STIX 2.1 section 1.5) or ``application/json``.
An unknown ``format`` is a 400, an ``Accept`` none of them satisfies a 406. Every answer carries
a strong ``ETag`` (a digest of the body) and ``Last-Modified``; a poll with ``If-None-Match``
(or, without it, ``If-Modified-Since``) that matches gets an empty 304 (RFC 9110 section 13.1).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from cyberpeace.api.auth import CurrentViewer, DbSession
from cyberpeace.api.schemas import ErrorOut
from cyberpeace.respond.blocklist_feed import as_csv, as_stix, as_text
from cyberpeace.respond.blocklist_reader import digest, read_feed

MEDIA = {
    "text": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8; header=present",
    "stix": "application/stix+json;version=2.1",
}
ACCEPTED = {  # media range -> format; the first format wins for wildcards
    "text/plain": "text",
    "text/csv": "csv",
    "application/stix+json": "stix",
    "application/json": "stix",
    "text/*": "text",
    "application/*": "stix",
    "*/*": "text",
}

router = APIRouter(
    prefix="/api/v1",
    responses={
        401: {"model": ErrorOut, "description": "No token, or an unknown one."},
        304: {"description": "Unchanged since the ETag or date the poll sent."},
    },
)


@router.get(
    "/blocklist",
    responses={
        200: {"content": {m: {} for m in MEDIA.values()}},
        400: {"model": ErrorOut, "description": "An unknown format."},
        406: {"model": ErrorOut, "description": "No format the Accept header allows."},
    },
    tags=["actions"],
)
def blocklist(
    session: DbSession,
    viewer: CurrentViewer,
    fmt: Annotated[
        str | None, Query(alias="format", max_length=32, description="text, csv or stix")
    ] = None,
    accept: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """The sources on the block list now, as far as the reader's TLP allows (see
    ``respond/blocklist_reader.py``); each entry expires with its action."""
    chosen = _chosen(fmt, accept)
    now = datetime.now(UTC)
    feed = read_feed(session, viewer, now)
    fingerprint = digest(feed.entries)
    if chosen == "text":
        body = as_text(feed.entries)
    elif chosen == "csv":
        body = as_csv(feed.entries)
    else:
        stamp = feed.last_modified or datetime(2026, 1, 1, tzinfo=UTC)
        # A UUIDv4-shaped id (STIX 2.1 section 2.9) drawn from the digest, not at random.
        bundle = uuid.UUID(bytes=bytes.fromhex(fingerprint)[:16], version=4)
        body = as_stix(feed.entries, stamp, bundle_id=str(bundle))
    etag = '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept, Authorization"}
    if feed.last_modified is not None:
        headers["Last-Modified"] = format_datetime(feed.last_modified, usegmt=True)
    if _unchanged(etag, feed.last_modified, if_none_match, if_modified_since):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=MEDIA[chosen], headers=headers)


def _chosen(fmt: str | None, accept: str | None) -> str:
    if fmt is not None:
        if fmt not in MEDIA:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"unknown block-list format {fmt!r}; expected one of {', '.join(MEDIA)}",
            )
        return fmt
    if not accept:
        return "text"
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((-quality, position, media.lower()))
    for negative_q, _, media in sorted(ranges):
        if negative_q < 0 and media in ACCEPTED:
            return ACCEPTED[media]
    raise HTTPException(
        status.HTTP_406_NOT_ACCEPTABLE,
        f"the block list is served as {', '.join(MEDIA.values())}; "
        f"the Accept header {accept!r} allows none of them (or use ?format=text|csv|stix)",
    )


def _unchanged(
    etag: str, last_modified: datetime | None, if_none_match: str | None, since: str | None
) -> bool:
    if if_none_match is not None:  # RFC 9110 section 13.1.2; it overrides If-Modified-Since
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if since is None or last_modified is None:
        return False
    try:
        asked = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored (RFC 9110 section 13.1.3)
    if asked.tzinfo is None:
        asked = asked.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= asked
