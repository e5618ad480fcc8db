"""The URL parameters of TAXII 2.1 GET and DELETE requests (sections 3.4 and 3.5), checked.

``next`` is the date added of the last object of the previous page: the page cursor of section
3.4 made concrete. Because dates added are strictly increasing, it is exact, and it stays valid
however long the client waits and whatever is added in between.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from cyberpeace.share.taxii_config import taxii_config
from cyberpeace.share.taxii_errors import TaxiiError
from cyberpeace.store.stix_objects import stamp
from cyberpeace.store.taxii_objects import Filters

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--[0-9a-fA-F-]{36}$")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_MATCHES = {"id", "type", "version", "spec_version"}


def _bad(description: str) -> TaxiiError:
    return TaxiiError(400, description, error_code="bad-filter")


def timestamp_param(name: str, value: str) -> str:
    """A TAXII timestamp (section 3.2) in the store's fixed-width form."""
    if not _TIMESTAMP.match(value):
        raise _bad(f"{name} must be a timestamp like 2026-01-31T12:00:00.000Z, not {value!r}")
    head, _, fraction = value[:-1].partition(".")
    try:
        moment = datetime.strptime(f"{head}.{fraction[:6]:0<6}", "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        raise _bad(f"{name} is not a real date and time: {value!r}") from None
    return stamp(moment.replace(tzinfo=UTC))


def parse_filters(
    params: Sequence[tuple[str, str]], allowed: set[str], *, page: bool = True
) -> Filters:
    """The Filters a request names; 400 on a malformed value or a filter this endpoint lacks."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).extend(part.strip() for part in value.split(","))
    for name in values:
        inner = name[6:-1] if name.startswith("match[") and name.endswith("]") else None
        if inner is not None and (inner not in _MATCHES or inner not in allowed):
            raise _bad(f"unsupported filter {name!r} here; allowed: {sorted(allowed)}")
    return Filters(
        added_after=_cursor(values) if page else None,
        ids=_checked(values, "id", allowed, _ID),
        types=_checked(values, "type", allowed, _TYPE),
        versions=_versions(values, allowed),
        spec_versions=_spec_versions(values, allowed),
        limit=_limit(values) if page else 1_000_000,
    )


def _one(values: Mapping[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    if found is None:
        return None
    if len(found) != 1 or not found[0]:
        raise _bad(f"{name} takes exactly one value")
    return found[0]


def _cursor(values: Mapping[str, list[str]]) -> str | None:
    after = _one(values, "added_after")
    cursor = _one(values, "next")
    points = [
        timestamp_param(name, value)
        for name, value in (("added_after", after), ("next", cursor))
        if value is not None
    ]
    return max(points) if points else None


def _limit(values: Mapping[str, list[str]]) -> int:
    config = taxii_config()
    raw = _one(values, "limit")
    if raw is None:
        return config.default_page
    if not raw.isdigit() or int(raw) < 1:
        raise _bad(f"limit must be a positive whole number, not {raw!r}")
    return min(int(raw), config.max_page)


def _checked(
    values: Mapping[str, list[str]], name: str, allowed: set[str], pattern: re.Pattern[str]
) -> tuple[str, ...]:
    found = values.get(f"match[{name}]", [])
    if found and name not in allowed:
        raise _bad(f"match[{name}] is not supported here")
    for value in found:
        if not pattern.match(value):
            raise _bad(f"match[{name}] value {value!r} is not a STIX {name}")
    return tuple(found)


def _versions(values: Mapping[str, list[str]], allowed: set[str]) -> tuple[str, ...]:
    found = values.get("match[version]", [])
    if not found or "version" not in allowed:
        return ("last",)
    for value in found:
        if value not in ("first", "last", "all"):
            timestamp_param("match[version]", value)
    return tuple(found)


def _spec_versions(values: Mapping[str, list[str]], allowed: set[str]) -> tuple[str, ...]:
    found = values.get("match[spec_version]", [])
    for value in found:
        if value not in ("2.0", "2.1"):
            raise _bad(f"match[spec_version] must be 2.0 or 2.1, not {value!r}")
    return tuple(found) if "spec_version" in allowed else ()
