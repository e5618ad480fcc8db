"""Reading STIX 2.1 bundles (section 8) and plain JSON lists of STIX objects, fast and whole.

In memory: msgspec decodes the bundle's envelope with each object left as ``msgspec.Raw``, a
view on the input bytes; each object is then decoded, validated and dropped in turn, its JSON
text kept exactly as received as the stored body. Nothing beyond the raw bytes and the output
is held: no decoded tree of the whole bundle.

From a file larger than ``STREAM_ABOVE`` bytes: ijson (yajl2 C backend) yields the objects of
``objects`` one at a time, validated in batches, so memory stays at one batch whatever the file
size; each body is then the object re-encoded compactly. A file that breaks off midway yields its
good objects first and then raises BundleError naming the byte where it broke.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ijson  # type: ignore[import-untyped]
import msgspec

from cyberpeace.share.stix_validate import (
    ObjectError,
    ObjectInvalid,
    new_object,
    validate_objects,
)
from cyberpeace.store.stix_objects import NewObject

STREAM_ABOVE = 64 * 1024 * 1024
BATCH = 10_000
_BUNDLE_ID = "bundle--"


class BundleError(ValueError):
    """Input that is not a STIX bundle or object list at all (not JSON, wrong envelope)."""


class _Envelope(msgspec.Struct):
    type: Any = None
    id: Any = None
    objects: list[msgspec.Raw] = []


@dataclass
class Parsed:
    """The objects read from one bundle (or one batch of a streamed bundle)."""

    valid: list[NewObject] = field(default_factory=list)
    errors: list[ObjectError] = field(default_factory=list)
    bundle_id: str | None = None


_envelope = msgspec.json.Decoder(_Envelope)
_list = msgspec.json.Decoder(list[msgspec.Raw])
_value = msgspec.json.Decoder()


def parse_bundle(data: bytes | str) -> Parsed:
    """Validate every object of a bundle, or of a JSON array of objects, held in ``data``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    head = raw.lstrip()[:1]
    try:
        if head == b"[":
            return _parse_raws(_list.decode(raw), None)
        envelope = _envelope.decode(raw)
    except msgspec.ValidationError as exc:
        raise BundleError(f"not a STIX bundle: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BundleError(f"not valid JSON: {exc}") from None
    bundle_id = _check_envelope(envelope.type, envelope.id)
    return _parse_raws(envelope.objects, bundle_id)


def _check_envelope(kind: Any, bundle_id: Any) -> str | None:
    if kind != "bundle":
        raise BundleError(f"not a STIX bundle: type is {kind!r}, expected 'bundle'")
    if bundle_id is not None and not (
        isinstance(bundle_id, str) and bundle_id.startswith(_BUNDLE_ID)
    ):
        raise BundleError(f"bundle id {bundle_id!r} is not bundle--UUID")
    return bundle_id


def _parse_raws(raws: list[msgspec.Raw], bundle_id: str | None) -> Parsed:
    parsed = Parsed(bundle_id=bundle_id)
    for index, item in enumerate(raws):
        body = bytes(item)
        obj = _value.decode(body)
        try:
            parsed.valid.append(new_object(obj, body.decode("utf-8")))
        except ObjectInvalid as exc:
            found = obj.get("id") if isinstance(obj, dict) else None
            parsed.errors.append(
                ObjectError(index, found if isinstance(found, str) else None, str(exc))
            )
    return parsed


def read_bundle_file(path: Path, *, stream_above: int = STREAM_ABOVE) -> Iterator[Parsed]:
    """The objects of a bundle file, in one part when small, streamed in batches when large."""
    size = path.stat().st_size
    if size <= stream_above:
        yield parse_bundle(path.read_bytes())
        return
    yield from _stream(path)


def _stream(path: Path) -> Iterator[Parsed]:
    with path.open("rb") as head:
        first = head.read(1024).lstrip()[:1]
    prefix = "item" if first == b"[" else "objects.item"
    bundle_id = None if first == b"[" else _stream_envelope(path)
    with path.open("rb") as source:
        chunk: list[Any] = []
        start, failure = 0, None
        try:
            for obj in ijson.items(source, prefix, use_float=True):
                chunk.append(obj)
                if len(chunk) == BATCH:
                    yield _batch(chunk, start, bundle_id)
                    start, chunk = start + len(chunk), []
        except ijson.JSONError as exc:
            failure = f"bundle breaks off after object {start + len(chunk) - 1}: {exc}"
        if chunk:
            yield _batch(chunk, start, bundle_id)
        if failure is not None:
            raise BundleError(failure)


def _batch(chunk: list[Any], start: int, bundle_id: str | None) -> Parsed:
    valid, errors = validate_objects(chunk, start=start)
    return Parsed(valid, errors, bundle_id)


def _stream_envelope(path: Path) -> str | None:
    """The bundle's type and id, found without reading its objects into memory."""
    found: dict[str, Any] = {}
    with path.open("rb") as source:
        try:
            for prefix, event, value in ijson.parse(source):
                if prefix in ("type", "id") and event == "string":
                    found[prefix] = value
                    if len(found) == 2:
                        break
        except ijson.JSONError as exc:
            raise BundleError(f"not valid JSON: {exc}") from None
    return _check_envelope(found.get("type"), found.get("id"))
