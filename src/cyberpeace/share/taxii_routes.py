"""The TAXII 2.1 server (OASIS TAXII 2.1), mounted at ``/taxii2/`` by ``mount_taxii(app)``.

One API root. Handlers are named after the spec's operations and cite its sections. Every
refusal is a TAXII error message (section 3.6.1) in ``application/taxii+json;version=2.1``.
Objects are served as the JSON text they were stored with, joined into the envelope, so a page
costs one indexed query and no re-serialisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.api.auth import DbSession
from cyberpeace.share.taxii_access import (
    Collection,
    can_read,
    can_write,
    collections_of,
    party_identities,
    sight_for,
)
from cyberpeace.share.taxii_config import taxii_config
from cyberpeace.share.taxii_errors import TaxiiError, taxii_error_response
from cyberpeace.share.taxii_filters import parse_filters
from cyberpeace.share.taxii_intake import add_envelope, read_envelope
from cyberpeace.share.taxii_media import check_accept, check_content_type
from cyberpeace.store.access import Viewer
from cyberpeace.store.tables import PartyRow, StixObjectRow
from cyberpeace.store.taxii_objects import Filters, get_status, page, remove
from cyberpeace.store.tokens import viewer_for

router = APIRouter(prefix="/taxii2", tags=["taxii"])
_ROOT = "/{api_root}"
_COLLECTION = _ROOT + "/collections/{collection_id}"
_OBJECT = _COLLECTION + "/objects/{object_id}"
_ALL = {"id", "type", "version", "spec_version"}


def mount_taxii(app: FastAPI) -> None:
    """Serve TAXII 2.1 at /taxii2/ with its own error messages."""
    app.add_exception_handler(TaxiiError, taxii_error_response)
    # TAXII is its own protocol, specified by OASIS; it stays out of our OpenAPI document.
    app.include_router(router, include_in_schema=False)


@dataclass(frozen=True)
class Context:
    """One TAXII request: who asks, over which session, with the mission's collections."""

    viewer: Viewer
    session: Session
    collections: list[Collection]
    mission_id: str
    default_tlp: str

    def collection(self, collection_id: str, *, write: bool = False) -> Collection:
        """The collection named; 404 if there is none, 403 if the viewer may not use it."""
        found = next((c for c in self.collections if c.id == collection_id), None)
        if found is None:
            raise TaxiiError(404, f"no collection {collection_id!r}", error_code="no-collection")
        allowed = can_write(self.viewer, found) if write else can_read(self.viewer, found)
        if not allowed:
            what = "write to" if write else "read"
            raise TaxiiError(
                403,
                f"{self.viewer.actor} may not {what} collection {collection_id}",
                error_code="forbidden",
            )
        return found


def _context(request: Request, session: DbSession) -> Context:
    check_accept(request.headers.get("accept"))
    viewer = _viewer(session, request.headers.get("authorization"))
    mandate = request.app.state.mandate
    mission_id = mandate.mission.id if mandate is not None else "cyberpeace"
    mission_name = mandate.mission.name if mandate is not None else "cyberpeace"
    parties = session.execute(select(PartyRow.id, PartyRow.name).order_by(PartyRow.id))
    collections = collections_of(mission_id, mission_name, [(p, n) for p, n in parties])
    return Context(viewer, session, collections, mission_id, request.app.state.default_tlp)


def _viewer(session: Session, authorization: str | None) -> Viewer:
    # "Token" too: the scheme taxii2-client's TokenAuth sends.
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        raise TaxiiError(
            401,
            "missing bearer token",
            error_code="unauthenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    viewer = viewer_for(session, token.strip())
    if viewer is None:
        raise TaxiiError(
            401,
            "unknown or revoked token",
            error_code="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return viewer


Ctx = Annotated[Context, Depends(_context)]


def _root(api_root: str) -> None:
    if api_root != taxii_config().api_root:
        raise TaxiiError(404, f"no API root {api_root!r}", error_code="no-api-root")


def _taxii(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return Response(content, status_code, headers, media_type=taxii_config().media_type)


def _date_headers(first: str | None, last: str | None) -> dict[str, str]:
    if first is None or last is None:
        return {}
    return {"X-TAXII-Date-Added-First": first, "X-TAXII-Date-Added-Last": last}


@router.get("/")
def server_discovery(request: Request, ctx: Ctx) -> Response:
    """Section 4.1: the server's API roots."""
    config = taxii_config()
    root = f"{str(request.base_url).rstrip('/')}/taxii2/{config.api_root}/"
    return _taxii(
        {
            "title": config.title,
            "description": config.description,
            "default": root,
            "api_roots": [root],
        }
    )


@router.get(_ROOT + "/")
def get_api_root_information(api_root: str, ctx: Ctx) -> Response:
    """Section 4.2: the API root, its versions and the largest body it accepts."""
    _root(api_root)
    config = taxii_config()
    return _taxii(
        {
            "title": config.title,
            "description": config.description,
            "versions": [config.media_type],
            "max_content_length": config.max_content_length,
        }
    )


@router.get(_ROOT + "/status/{status_id}/")
def get_status_resource(api_root: str, status_id: str, ctx: Ctx) -> Response:
    """Section 4.3: the status of an earlier add, to the one who made it (and staff)."""
    _root(api_root)
    row = get_status(ctx.session, status_id)
    if row is None or not (ctx.viewer.is_staff or row.owner == ctx.viewer.actor):
        raise TaxiiError(404, f"no status {status_id!r}", error_code="no-status")
    return _taxii(row.body.encode())


def _collection_resource(ctx: Context, collection: Collection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "can_read": can_read(ctx.viewer, collection),
        "can_write": can_write(ctx.viewer, collection),
        "media_types": [taxii_config().stix_media_type],
    }


@router.get(_ROOT + "/collections/")
def get_collections(api_root: str, ctx: Ctx) -> Response:
    """Section 5.1: the collections this viewer may read or write."""
    _root(api_root)
    shown = [
        _collection_resource(ctx, c)
        for c in ctx.collections
        if can_read(ctx.viewer, c) or can_write(ctx.viewer, c)
    ]
    return _taxii({"collections": shown})


@router.get(_COLLECTION + "/")
def get_collection(api_root: str, collection_id: str, ctx: Ctx) -> Response:
    """Section 5.2: one collection."""
    _root(api_root)
    found = next((c for c in ctx.collections if c.id == collection_id), None)
    if found is None:
        raise TaxiiError(404, f"no collection {collection_id!r}", error_code="no-collection")
    if not (can_read(ctx.viewer, found) or can_write(ctx.viewer, found)):
        raise TaxiiError(
            403, f"{ctx.viewer.actor} may not use {collection_id}", error_code="forbidden"
        )
    return _taxii(_collection_resource(ctx, found))


def _readable(ctx: Context, api_root: str, collection_id: str) -> Collection:
    _root(api_root)
    return ctx.collection(collection_id)


def _objects_page(ctx: Context, collection: Collection, filters: Filters) -> Response:
    sight = sight_for(ctx.viewer, collection, ctx.default_tlp, taxii_config().open_levels)
    rows, more = page(ctx.session, collection.key, filters, sight)
    if not rows:
        return _taxii(b'{"more":false}')
    last = rows[-1].added
    head = b'{"more":true,"next":"' + last.encode() + b'",' if more else b'{"more":false,'
    body = head + b'"objects":[' + ",".join(row.body for row in rows).encode() + b"]}"
    return _taxii(body, headers=_date_headers(rows[0].added, last))


@router.get(_COLLECTION + "/objects/")
def get_objects(request: Request, api_root: str, collection_id: str, ctx: Ctx) -> Response:
    """Section 5.3: a page of objects, by added_after/next, limit and match[...]."""
    collection = _readable(ctx, api_root, collection_id)
    filters = parse_filters(request.query_params.multi_items(), _ALL)
    return _objects_page(ctx, collection, filters)


async def _capped_body(request: Request) -> bytes:
    """The request body, refused with 413 once it passes max_content_length (section 4.2)."""
    cap = taxii_config().max_content_length
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _too_large(int(declared), cap)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(size, cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, cap: int) -> TaxiiError:
    return TaxiiError(
        413,
        f"the body has {size} bytes or more; this API root takes at most {cap}",
        error_code="too-large",
    )


def _declared_type(request: Request) -> None:
    check_content_type(request.headers.get("content-type"))


@router.post(_COLLECTION + "/objects/", dependencies=[Depends(_declared_type)])
def add_objects(
    api_root: str, collection_id: str, ctx: Ctx, body: Annotated[bytes, Depends(_capped_body)]
) -> Response:
    """Section 5.4: add the objects of an envelope; 202 with the status resource."""
    _root(api_root)
    collection = ctx.collection(collection_id, write=True)
    pairs = read_envelope(body)
    parties = ctx.session.scalars(select(PartyRow.id))
    identities = party_identities(ctx.mission_id, parties)
    status = add_envelope(ctx.session, collection, pairs, ctx.viewer.actor, identities)
    return _taxii(status, 202)


@router.get(_COLLECTION + "/manifest/")
def get_object_manifests(request: Request, api_root: str, collection_id: str, ctx: Ctx) -> Response:
    """Section 5.6: id, date added, version and media type of each matching object."""
    collection = _readable(ctx, api_root, collection_id)
    filters = parse_filters(request.query_params.multi_items(), _ALL)
    sight = sight_for(ctx.viewer, collection, ctx.default_tlp, taxii_config().open_levels)
    columns = (StixObjectRow.object_id, StixObjectRow.added, StixObjectRow.version)
    rows, more = page(ctx.session, collection.key, filters, sight, columns)
    media = taxii_config().stix_media_type
    entries = [
        {"id": r.object_id, "date_added": r.added, "version": r.version, "media_type": media}
        for r in rows
    ]
    body: dict[str, Any] = {"more": more}
    if more:
        body["next"] = rows[-1].added
    if entries:
        body["objects"] = entries
    headers = _date_headers(rows[0].added, rows[-1].added) if rows else {}
    return _taxii(body, headers=headers)


@router.get(_OBJECT + "/")
def get_object(
    request: Request, api_root: str, collection_id: str, object_id: str, ctx: Ctx
) -> Response:
    """Section 5.5: the versions of one object matching match[version] (default: last)."""
    collection = _readable(ctx, api_root, collection_id)
    found = parse_filters(request.query_params.multi_items(), {"version", "spec_version"})
    filters = Filters(
        found.added_after, (object_id,), (), found.versions, found.spec_versions, found.limit
    )
    response = _objects_page(ctx, collection, filters)
    if response.body == b'{"more":false}' and found.added_after is None:
        raise TaxiiError(404, f"no object {object_id!r} here", error_code="no-object")
    return response


@router.delete(_OBJECT + "/")
def delete_an_object(
    request: Request, api_root: str, collection_id: str, object_id: str, ctx: Ctx
) -> Response:
    """Section 5.7: delete the matching versions (default: all) of one object."""
    _root(api_root)
    collection = ctx.collection(collection_id, write=True)
    ctx.collection(collection_id)
    params = request.query_params.multi_items()
    found = parse_filters(params, {"version", "spec_version"}, page=False)
    versions = found.versions if any(n == "match[version]" for n, _ in params) else ("all",)
    filters = Filters(None, (), (), versions, found.spec_versions, found.limit)
    sight = sight_for(ctx.viewer, collection, ctx.default_tlp, taxii_config().open_levels)
    if remove(ctx.session, collection.key, object_id, filters, sight) == 0:
        raise TaxiiError(404, f"no object {object_id!r} here", error_code="no-object")
    return Response(status_code=200)


@router.get(_OBJECT + "/versions/")
def get_object_versions(
    request: Request, api_root: str, collection_id: str, object_id: str, ctx: Ctx
) -> Response:
    """Section 5.8: the versions of one object, in the order they were added."""
    collection = _readable(ctx, api_root, collection_id)
    found = parse_filters(request.query_params.multi_items(), {"spec_version"})
    filters = Filters(
        found.added_after, (object_id,), (), ("all",), found.spec_versions, found.limit
    )
    sight = sight_for(ctx.viewer, collection, ctx.default_tlp, taxii_config().open_levels)
    columns = (StixObjectRow.added, StixObjectRow.version)
    rows, more = page(ctx.session, collection.key, filters, sight, columns)
    if not rows and found.added_after is None:
        raise TaxiiError(404, f"no object {object_id!r} here", error_code="no-object")
    body: dict[str, Any] = {"more": more, "versions": [r.version for r in rows]}
    headers = _date_headers(rows[0].added, rows[-1].added) if rows else {}
    return _taxii(body, headers=headers)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def no_such_endpoint(rest: str) -> Response:
    """Anything else under /taxii2/: a TAXII 404, not the framework's."""
    raise TaxiiError(
        404, f"no TAXII endpoint /taxii2/{rest} for this method", error_code="no-endpoint"
    )
