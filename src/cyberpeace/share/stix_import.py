"""Import of STIX 2.1 bundles into the case store.

Every valid object is kept in the ``stix_objects`` store of the intake collection, whatever its
type (custom and unknown types too), as it was received. Known types are also reflected where the
mission's own tables fit: an indicator with a simple STIX pattern (one comparison of an address,
domain, URL or file hash) becomes an IndicatorRow with its TLP; incidents and reports are noted in
the audit log for the analysts. Invalid objects are rejected with their reason, the rest kept.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from cyberpeace.share.stix_bundle import BundleError, Parsed, read_bundle_file
from cyberpeace.share.stix_validate import ObjectError
from cyberpeace.store import audit
from cyberpeace.store.correlation_tables import IndicatorStixRow
from cyberpeace.store.database import Store
from cyberpeace.store.indicators import upsert_indicator
from cyberpeace.store.stix_objects import NewObject, add_objects

INTAKE = "mission"
UNMARKED_TLP = "TLP:AMBER"  # an unmarked indicator is kept as restricted until an analyst says
_SIMPLE = re.compile(
    r"^\[\s*(ipv4-addr|ipv6-addr|domain-name|url|file):(value|hashes\.'?[A-Za-z0-9-]+'?)"
    r"\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$"
)
_KINDS = {"domain-name": "domain", "url": "url", "file": "hash"}


@dataclass
class ImportResult:
    stored: int = 0
    skipped: int = 0  # versions the collection already held
    rejected: list[ObjectError] = field(default_factory=list)
    reflected: Counter[str] = field(default_factory=Counter)
    bundle_error: str | None = None


def import_file(
    store: Store, path: Path, *, collection: str = INTAKE, added_by: str = "import"
) -> ImportResult:
    """Import a bundle file, committing each part as it is read (large files are streamed)."""
    result = ImportResult()
    parts = read_bundle_file(path)
    try:
        for part in parts:
            with store.session() as session:
                import_parsed(session, part, result, collection=collection, added_by=added_by)
    except BundleError as exc:
        result.bundle_error = str(exc)
    return result


def import_parsed(
    session: Session, parsed: Parsed, result: ImportResult, *, collection: str, added_by: str
) -> None:
    result.rejected += parsed.errors
    for outcome in add_objects(session, collection, parsed.valid, added_by):
        if outcome.new:
            result.stored += 1
        else:
            result.skipped += 1
    for obj in parsed.valid:
        reflect(session, obj, result, added_by)


def reflect(session: Session, obj: NewObject, result: ImportResult, added_by: str) -> None:
    """Mirror a known type into the mission's own tables where they fit."""
    if obj.type == "indicator":
        if _indicator(session, obj):
            result.reflected["indicator"] += 1
    elif obj.type in ("incident", "report"):
        body = msgspec.json.decode(obj.body)
        audit.append(
            session,
            added_by,
            "stix.noted",
            obj.id,
            {
                "type": obj.type,
                "name": body.get("name", ""),
                "created_by_ref": body.get("created_by_ref"),
            },
        )
        result.reflected[obj.type] += 1


def pattern_indicator(body: dict[str, Any]) -> tuple[str, str] | None:
    """``(kind, value)`` of an indicator whose STIX pattern is one simple comparison, else None."""
    if body.get("pattern_type") != "stix" or not isinstance(body.get("pattern"), str):
        return None
    match = _SIMPLE.match(body["pattern"].strip())
    if match is None:
        return None
    sco, prop, value = match.groups()
    value = value.replace("\\'", "'").replace("\\\\", "\\")
    if sco in ("ipv4-addr", "ipv6-addr"):
        return ("prefix" if "/" in value else sco[:4]), value
    if (sco == "file") != prop.startswith("hashes"):
        return None
    return _KINDS[sco], value


def _indicator(session: Session, obj: NewObject) -> bool:
    body = msgspec.json.decode(obj.body)
    found = pattern_indicator(body)
    if found is None:
        return False
    kind, value = found
    row = upsert_indicator(
        session,
        kind=kind,
        value=value,
        source=body.get("created_by_ref") or "stix-import",
        tlp=obj.tlp or UNMARKED_TLP,
        valid_from=_when(body["valid_from"]),
        valid_until=_when(body["valid_until"]) if "valid_until" in body else None,
    )
    session.flush()
    session.merge(IndicatorStixRow(indicator_id=row.id, stix_id=obj.id))
    return True


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
