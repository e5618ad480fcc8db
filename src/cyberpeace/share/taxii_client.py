"""Federation with other TAXII 2.1 servers: pulling their collections, pushing ours.

``pull`` reads a remote collection page by page (TAXII 2.1 sections 3.4 and 5.3), stores every
page through the STIX import path (validation, the object store, the mission's own tables) and,
in the same transaction, moves the pull cursor in ``taxii_cursors`` to the page's
``X-TAXII-Date-Added-Last`` (section 3.4.1): an interrupted pull resumes after the last page
stored, and the next pull asks only for what was added since (``added_after``).

``push`` posts an envelope (section 5.4) holding only the objects at or below a TLP ceiling; an
unmarked object counts as TLP:AMBER, as on import. The remote's status resource is returned.

A credential is a bearer token (our servers) or a (user, password) pair for HTTP Basic
(medallion and most other TAXII servers, section 1.6.7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from cyberpeace.share.stix_bundle import BundleError, parse_bundle
from cyberpeace.share.stix_import import INTAKE, UNMARKED_TLP, ImportResult, import_parsed
from cyberpeace.share.tlp import rank, tlp_of
from cyberpeace.store.database import Store
from cyberpeace.store.taxii_objects import get_cursor, set_cursor

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000
TIMEOUT = 60.0
Credentials = str | tuple[str, str]


class TaxiiClientError(RuntimeError):
    """A remote TAXII server refused a request or answered something that is no TAXII."""


@dataclass
class PullResult:
    pages: int = 0
    imported: ImportResult = field(default_factory=ImportResult)
    cursor: str | None = None


@dataclass
class PushResult:
    sent: int
    withheld: list[str]  # ids over the ceiling
    status: dict[str, Any] | None  # the remote's status resource; None when nothing was sent


def _client(credentials: Credentials | None) -> httpx.Client:
    headers = {"Accept": TAXII}
    auth: tuple[str, str] | None = None
    if isinstance(credentials, str):
        headers["Authorization"] = f"Bearer {credentials}"
    elif credentials is not None:
        auth = credentials
    return httpx.Client(headers=headers, auth=auth, timeout=TIMEOUT)


def _root(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise TaxiiClientError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError as exc:
        raise TaxiiClientError(f"{response.request.url} answered no JSON: {exc}") from None
    if not isinstance(body, dict):
        raise TaxiiClientError(f"{response.request.url} answered JSON that is no object")
    return body


def collections(url: str, credentials: Credentials | None) -> list[dict[str, Any]]:
    """The collections of an API root (section 5.1)."""
    with _client(credentials) as client:
        body = _json(client.get(_root(url) + "collections/"))
    found = body.get("collections", [])
    if not isinstance(found, list):
        raise TaxiiClientError("the collections resource has no collections list")
    return [item for item in found if isinstance(item, dict)]


def pull(
    store: Store,
    url: str,
    collection_id: str,
    credentials: Credentials | None,
    *,
    into: str = INTAKE,
    added_by: str = "taxii-pull",
    limit: int = PAGE,
) -> PullResult:
    """Store what the remote collection added since the last pull; resume from the cursor."""
    remote = _root(url)
    objects_url = f"{remote}collections/{collection_id}/objects/"
    result = PullResult()
    with store.session() as session:
        result.cursor = get_cursor(session, remote, collection_id, "pull")
    params: dict[str, str] = {"limit": str(limit)}
    if result.cursor is not None:
        params["added_after"] = result.cursor
    with _client(credentials) as client:
        while True:
            response = client.get(objects_url, params=params)
            body = _json(response)
            objects = body.get("objects", [])
            if not isinstance(objects, list):
                raise TaxiiClientError("the envelope's objects is no list")
            last = response.headers.get("X-TAXII-Date-Added-Last")
            if objects and last is None:
                raise TaxiiClientError("the page has no X-TAXII-Date-Added-Last header")
            if objects:
                try:
                    parsed = parse_bundle(msgspec.json.encode(objects))
                except BundleError as exc:
                    raise TaxiiClientError(f"a page is no list of objects: {exc}") from None
                with store.session() as session:
                    import_parsed(
                        session, parsed, result.imported, collection=into, added_by=added_by
                    )
                    set_cursor(session, remote, collection_id, "pull", str(last))
                result.cursor = str(last)
            result.pages += 1
            if not body.get("more") or not objects:
                return result
            following = body.get("next")
            params = (
                {"limit": str(limit), "next": str(following)}
                if following is not None
                else {"limit": str(limit), "added_after": str(last)}
            )


def within_ceiling(obj: Mapping[str, Any], ceiling: str) -> bool:
    """Whether ``obj`` may go to a peer that takes up to ``ceiling``."""
    return rank(tlp_of(obj) or UNMARKED_TLP) <= rank(ceiling)


def push(
    url: str,
    collection_id: str,
    objects: Iterable[Mapping[str, Any]],
    tlp_ceiling: str,
    credentials: Credentials | None = None,
) -> PushResult:
    """Post the objects at or below ``tlp_ceiling`` to the remote collection (section 5.4)."""
    rank(tlp_ceiling)  # refuse an unknown level before anything is sent
    sent: list[Mapping[str, Any]] = []
    withheld: list[str] = []
    for obj in objects:
        if within_ceiling(obj, tlp_ceiling):
            sent.append(obj)
        else:
            withheld.append(str(obj.get("id")))
    if not sent:
        return PushResult(0, withheld, None)
    with _client(credentials) as client:
        response = client.post(
            f"{_root(url)}collections/{collection_id}/objects/",
            content=msgspec.json.encode({"objects": sent}),
            headers={"Content-Type": TAXII},
        )
    return PushResult(len(sent), withheld, _json(response))
