"""Adding objects to a TAXII collection (TAXII 2.1 section 5.4) and the status it returns (4.3.1).

The request is all or nothing: an envelope that is not JSON, has no ``objects`` list, or holds
one invalid object or one invalid marking is refused whole (400 or 422, each problem named), and
nothing of it is stored. An object already held in that version counts as a success.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from cyberpeace.share.stix_bundle import BundleError, parse_bundle
from cyberpeace.share.taxii_access import Collection, audience_of
from cyberpeace.share.taxii_errors import TaxiiError
from cyberpeace.share.tlp import level_of_marking, marking_id
from cyberpeace.store.stix_objects import NewObject, add_objects, stamp
from cyberpeace.store.taxii_objects import save_status

_MARKING = "marking-definition--"
_TLP_1_NAMES = {"TLP:CLEAR": "white"}


class _Envelope(msgspec.Struct):
    objects: msgspec.Raw = msgspec.Raw(b"")


_envelope = msgspec.json.Decoder(_Envelope)


def read_envelope(body: bytes) -> list[tuple[NewObject, dict[str, Any]]]:
    """The valid objects of a TAXII envelope (section 3.7), each with its decoded form."""
    try:
        envelope = _envelope.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise TaxiiError(
            400, f"the body is not a TAXII envelope: {exc}", error_code="bad-json"
        ) from None
    if not bytes(envelope.objects):
        raise TaxiiError(400, "the envelope has no objects list", error_code="no-objects")
    try:
        parsed = parse_bundle(bytes(envelope.objects))
    except BundleError as exc:
        raise TaxiiError(
            400, f"objects must be a JSON array: {exc}", error_code="bad-json"
        ) from None
    if parsed.errors:
        raise _refused([str(error) for error in parsed.errors], "invalid-object")
    pairs = [(obj, msgspec.json.decode(obj.body)) for obj in parsed.valid]
    problems = [
        p for index, (_, decoded) in enumerate(pairs) for p in _marking_problems(index, decoded)
    ]
    if problems:
        raise _refused(problems, "invalid-marking")
    return pairs


def _refused(problems: list[str], code: str) -> TaxiiError:
    shown = problems[:100]
    return TaxiiError(
        422,
        f"{len(problems)} problem(s), nothing was stored: " + "; ".join(shown[:5]),
        error_code=code,
        details={"problems": shown, "count": len(problems)},
    )


def _marking_problems(index: int, obj: Mapping[str, Any]) -> list[str]:
    """Marking references that are no marking-definition, and forged TLP definitions."""
    found: list[str] = []
    refs = obj.get("object_marking_refs", [])
    for ref in refs if isinstance(refs, list) else [refs]:
        if not isinstance(ref, str) or not ref.startswith(_MARKING):
            found.append(
                f"object {index} ({obj.get('id')}): marking {ref!r} is no marking-definition"
            )
    if obj.get("type") == "marking-definition":
        level = level_of_marking(str(obj.get("id")))
        if level is not None and not _is_official(obj, level):
            found.append(
                f"object {index} ({obj.get('id')}): carries the id of {level} "
                "but not its official definition"
            )
    return found


def _is_official(obj: Mapping[str, Any], level: str) -> bool:
    if obj["id"] == marking_id(level):  # TLP 2.0 (section 7.2.1.4 style, FIRST's names)
        return obj.get("name") == level
    definition = obj.get("definition")  # TLP 1.0 (STIX 2.1 section 7.2.1.4)
    expected = _TLP_1_NAMES.get(level, level.removeprefix("TLP:").lower())
    return (
        obj.get("definition_type") == "tlp"
        and isinstance(definition, dict)
        and definition.get("tlp") == expected
    )


def add_envelope(
    session: Session,
    collection: Collection,
    pairs: list[tuple[NewObject, dict[str, Any]]],
    owner: str,
    identities: Mapping[str, str],
) -> dict[str, Any]:
    """Store the objects in the request's transaction; the status resource, saved too."""
    requested = stamp(datetime.now(UTC))
    objects = [
        replace(obj, audience=audience_of(decoded, identities, collection.owner))
        for obj, decoded in pairs
    ]
    outcome = add_objects(session, collection.key, objects, owner)
    successes = [
        {
            "id": item.id,
            "version": item.version,
            **({} if item.new else {"message": "already held"}),
        }
        for item in outcome
    ]
    status: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": "complete",
        "request_timestamp": requested,
        "total_count": len(outcome),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": 0,
        "failures": [],
        "pending_count": 0,
        "pendings": [],
    }
    save_status(session, status["id"], collection.key, owner, msgspec.json.encode(status).decode())
    return status
