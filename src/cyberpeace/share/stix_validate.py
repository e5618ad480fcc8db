"""Validation of STIX 2.1 objects: the common properties for every object, the required
properties of each known type, and the structure of indicator patterns.

Checks, by section of STIX 2.1 (OASIS Standard, 10 June 2021):

- 3.1 type names, ``*_ref`` / ``*_refs`` properties hold identifiers;
- 2.9 identifiers ``type--UUID`` with an RFC 4122 UUID and the object's own type as prefix;
- 2.5 / 3.2 ``spec_version`` "2.1"; timestamps ``YYYY-MM-DDTHH:MM:SS[.s+]Z``; modified >= created;
- 2.3 external references (source_name plus one of description, url, external_id);
- 7.2.3 granular markings (selectors and exactly one of marking_ref, lang);
- 7.3 extensions (a dictionary of dictionaries);
- 4-7 the required properties of each SDO, SRO, SCO and meta type (``data/stix_types.yaml``);
- 4.7 / 9 an indicator with ``pattern_type`` stix has a well-formed pattern.

Types not in the table (custom ``x-`` types, section 11.1, and types of later versions) are kept
and validated for the common properties only. Each bad object is named with its index, id and
reason; the good objects around it are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from cyberpeace.share.stix_patterns import PatternError, check_pattern
from cyberpeace.share.stix_types import schema
from cyberpeace.share.tlp import UnknownMarking, tlp_of
from cyberpeace.store.stix_objects import NewObject

_TYPE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,248}[a-z0-9]$")
_ID = re.compile(
    r"^([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
_STAMP = re.compile(
    r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)"
    r"(?:\.\d+)?Z$"
)
_OPINIONS = frozenset({"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"})
_encoder = msgspec.json.Encoder()


class ObjectInvalid(ValueError):
    """One STIX object that breaks the specification; the message says which rule."""


@dataclass(frozen=True)
class ObjectError:
    """A rejected object: its position in the input, its id if it had a readable one, and why."""

    index: int
    id: str | None
    reason: str

    def __str__(self) -> str:
        return f"object {self.index} ({self.id or 'no id'}): {self.reason}"


def validate_objects(
    objects: Iterable[Any], *, start: int = 0
) -> tuple[list[NewObject], list[ObjectError]]:
    """Validate decoded STIX objects; the good ones become NewObjects, the bad ones ObjectErrors.

    ``objects`` are decoded JSON values (normally dicts); each good object's ``body`` is its
    compact JSON text. ``start`` numbers the first object, for callers that validate in parts.
    """
    valid: list[NewObject] = []
    errors: list[ObjectError] = []
    for index, obj in enumerate(objects, start):
        try:
            valid.append(new_object(obj, _encoder.encode(obj).decode("utf-8")))
        except ObjectInvalid as exc:
            errors.append(ObjectError(index, _id_of(obj), str(exc)))
    return valid, errors


def new_object(obj: Any, body: str) -> NewObject:
    """The NewObject for one decoded object whose JSON text is ``body``; ObjectInvalid if bad."""
    check_object(obj)
    try:
        tlp = tlp_of(obj)
    except UnknownMarking as exc:
        raise ObjectInvalid(str(exc)) from None
    version = obj.get("modified") or obj.get("created")
    return NewObject(obj["id"], obj["type"], obj.get("spec_version", "2.1"), version, tlp, body)


def check_object(obj: Any) -> None:
    """Raise ObjectInvalid unless ``obj`` is a valid STIX 2.1 object."""
    if not isinstance(obj, dict):
        raise ObjectInvalid(f"a STIX object must be a JSON object, not {_json_kind(obj)}")
    kind = obj.get("type")
    if not isinstance(kind, str) or not _TYPE.match(kind):
        raise ObjectInvalid(
            f"type must be 3 to 250 lowercase letters, digits and hyphens: {kind!r}"
        )
    rules = schema()
    rule = rules.types.get(kind)
    if rule is None:
        _check_required(obj, ("type", "id"))
        if "spec_version" in obj or "created" in obj or "modified" in obj:
            _check_required(obj, ("spec_version", "created", "modified"))
    else:
        _check_required(obj, rule.required)
        if rule.any_of and not any(all(p in obj for p in group) for group in rule.any_of):
            groups = " or ".join("+".join(group) for group in rule.any_of)
            raise ObjectInvalid(f"{kind} needs {groups}")
    _check_id(obj["id"], kind, "id")
    if "spec_version" in obj and obj["spec_version"] != "2.1":
        raise ObjectInvalid(f"spec_version must be '2.1', not {obj['spec_version']!r}")
    for name, value in obj.items():
        check = _DISPATCH.get(name, _UNSEEN)
        if check is _UNSEEN:
            check = _check_for(name)
        if check is not None:
            check(value, name)
    if "created" in obj and "modified" in obj and _order(obj["modified"]) < _order(obj["created"]):
        raise ObjectInvalid("modified is earlier than created")
    special = _BY_TYPE.get(kind)
    if special is not None:
        special(obj)


def _check_for(name: str) -> Check | None:
    """The check of a property, by its name (section 3.1 for ``_ref`` and ``_refs``)."""
    if name.endswith("_ref"):
        check: Check | None = _check_ref
    elif name.endswith("_refs"):
        check = _check_ids
    else:
        check = _CHECKS.get(schema().kinds.get(name, ""))
    if len(_DISPATCH) < _DISPATCH_MAX:  # hostile inputs with endless new names stay bounded
        _DISPATCH[name] = check
    return check


def _check_ref(value: Any, name: str) -> None:
    _check_id(value, None, name)


def _check_required(obj: Mapping[str, Any], names: Iterable[str]) -> None:
    missing = [name for name in names if name not in obj]
    if missing:
        raise ObjectInvalid(f"{obj.get('type')} is missing required {', '.join(missing)}")


def _check_id(value: Any, kind: str | None, name: str) -> None:
    if not isinstance(value, str):
        raise ObjectInvalid(f"{name} must be an identifier string, not {_json_kind(value)}")
    match = _ID.match(value)
    if match is None:
        raise ObjectInvalid(f"{name} {value!r} is not an identifier type--UUID (RFC 4122)")
    if kind is not None and match.group(1) != kind:
        raise ObjectInvalid(f"{name} {value!r} does not start with the object's type {kind!r}")


def _check_ids(value: Any, name: str) -> None:
    if not isinstance(value, list):
        raise ObjectInvalid(f"{name} must be a list of identifiers, not {_json_kind(value)}")
    for item in value:
        _check_id(item, None, name)
    if name == "object_marking_refs":
        for item in value:
            if not item.startswith("marking-definition--"):
                raise ObjectInvalid(f"object_marking_refs names {item!r}, not a marking-definition")


def _check_timestamp(value: Any, name: str) -> None:
    if not isinstance(value, str) or not _STAMP.match(value):
        raise ObjectInvalid(f"{name} {value!r} is not a STIX timestamp YYYY-MM-DDTHH:MM:SS[.s]Z")
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        raise ObjectInvalid(f"{name} {value!r} is not a calendar date") from None


def _order(stamp: str) -> tuple[str, str]:
    """A sort key for valid timestamps of any fraction length: seconds, then the fraction."""
    return stamp[:19], stamp[20:-1].ljust(9, "0")


def _check_string(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise ObjectInvalid(f"{name} must be a string, not {_json_kind(value)}")


def _check_strings(value: Any, name: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ObjectInvalid(f"{name} must be a list of strings")
    if not value:
        raise ObjectInvalid(f"{name} must not be an empty list")


def _check_integer(value: Any, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ObjectInvalid(f"{name} must be an integer, not {_json_kind(value)}")
    low, high = _RANGES.get(name, (-(2**53), 2**53))
    if not low <= value <= high:
        raise ObjectInvalid(f"{name} {value} is outside {low}..{high}")


def _check_boolean(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise ObjectInvalid(f"{name} must be true or false, not {_json_kind(value)}")


def _check_dictionary(value: Any, name: str) -> None:
    if not isinstance(value, dict):
        raise ObjectInvalid(f"{name} must be a dictionary, not {_json_kind(value)}")
    if not value:
        raise ObjectInvalid(f"{name} must not be an empty dictionary")


def _check_external_references(value: Any, name: str) -> None:
    if not isinstance(value, list):
        raise ObjectInvalid(f"{name} must be a list, not {_json_kind(value)}")
    for position, ref in enumerate(value):
        where = f"{name}[{position}]"
        if not isinstance(ref, dict) or not isinstance(ref.get("source_name"), str):
            raise ObjectInvalid(f"{where} needs a source_name string")
        if not ("description" in ref or "url" in ref or "external_id" in ref):
            raise ObjectInvalid(f"{where} needs one of description, url, external_id")
        for key in ("description", "url", "external_id"):
            if key in ref and not isinstance(ref[key], str):
                raise ObjectInvalid(f"{where}.{key} must be a string")
        if "hashes" in ref:
            _check_dictionary(ref["hashes"], f"{where}.hashes")


def _check_granular_markings(value: Any, name: str) -> None:
    if not isinstance(value, list) or not value:
        raise ObjectInvalid(f"{name} must be a non-empty list")
    for position, marking in enumerate(value):
        where = f"{name}[{position}]"
        if not isinstance(marking, dict):
            raise ObjectInvalid(f"{where} must be an object")
        selectors = marking.get("selectors")
        if not isinstance(selectors, list) or not selectors:
            raise ObjectInvalid(f"{where} needs a non-empty selectors list")
        if not all(isinstance(s, str) and s for s in selectors):
            raise ObjectInvalid(f"{where}.selectors must be non-empty strings")
        if ("marking_ref" in marking) == ("lang" in marking):
            raise ObjectInvalid(f"{where} needs exactly one of marking_ref, lang")
        if "marking_ref" in marking:
            _check_id(marking["marking_ref"], "marking-definition", f"{where}.marking_ref")


def _check_extensions(value: Any, name: str) -> None:
    _check_dictionary(value, name)
    for key, extension in value.items():
        if key.startswith("extension-definition--"):
            _check_id(key, "extension-definition", f"{name} key")
        if not isinstance(extension, dict):
            raise ObjectInvalid(f"{name}[{key!r}] must be an object, not {_json_kind(extension)}")


def _check_indicator(obj: Mapping[str, Any]) -> None:
    if obj["pattern_type"] != "stix":
        return  # other pattern languages (snort, yara, sigma...) are kept unchecked
    try:
        check_pattern(obj["pattern"])
    except PatternError as exc:
        raise ObjectInvalid(f"pattern: {exc}") from None


def _check_opinion(obj: Mapping[str, Any]) -> None:
    if obj["opinion"] not in _OPINIONS:
        raise ObjectInvalid(f"opinion {obj['opinion']!r} is not one of {sorted(_OPINIONS)}")


def _check_valid_window(obj: Mapping[str, Any]) -> None:
    if "valid_until" in obj and _order(obj["valid_until"]) <= _order(obj["valid_from"]):
        raise ObjectInvalid("valid_until must be later than valid_from")
    _check_indicator(obj)


def _check_observed(obj: Mapping[str, Any]) -> None:
    if _order(obj["last_observed"]) < _order(obj["first_observed"]):
        raise ObjectInvalid("last_observed is earlier than first_observed")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _id_of(obj: Any) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return str(obj["id"])[:300]
    return None


Check = Callable[[Any, str], None]
_UNSEEN: Any = object()
_DISPATCH: dict[str, Check | None] = {}
_DISPATCH_MAX = 4096
_RANGES = {
    "confidence": (0, 100),
    "number_observed": (1, 999_999_999),
    "count": (0, 999_999_999),
}
_CHECKS: dict[str, Check] = {
    "timestamp": _check_timestamp,
    "string": _check_string,
    "string-list": _check_strings,
    "integer": _check_integer,
    "boolean": _check_boolean,
    "dictionary": _check_dictionary,
    "external-references": _check_external_references,
    "granular-markings": _check_granular_markings,
    "extensions": _check_extensions,
}
_BY_TYPE = {
    "indicator": _check_valid_window,
    "opinion": _check_opinion,
    "observed-data": _check_observed,
}
