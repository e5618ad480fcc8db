"""Reading MISP events (the MISP core format, draft-dulaunoy-misp-core-format, section 2).

A file holds one event (``{"Event": {...}}``, or the bare event as PyMISP writes it), a list of
them, or a MISP API answer
(``{"response": [...]}``); a folder is a MISP feed: its ``manifest.json`` names the events, one
``<uuid>.json`` file each. Every event is checked on its own: one that is malformed (no uuid or
info, an attribute without type or value, a value that does not read as its type, an unknown TLP
tag) is refused with the reason, and the other events of the file are still read. MISP is lax
about scalar types (``"1"`` and ``1``, ``"0"`` and ``false``): both are accepted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec

from cyberpeace.share.misp_types import Indicator, indicator_of, misp_table, role_of
from cyberpeace.share.tlp import most_restrictive

MAX_FILE = 512 * 1024 * 1024
MAX_ATTRIBUTES = 1_000_000  # per event, objects' attributes included
MAX_TEXT = 65_536  # info, comment and context values


class EventError(ValueError):
    """One event that cannot be read, with where it was found."""


@dataclass(frozen=True)
class MispAttribute:
    type: str
    value: str
    category: str
    to_ids: bool
    comment: str
    tlp: str | None
    indicator: Indicator | None
    role: str | None
    object_name: str | None = None
    relation: str | None = None


@dataclass(frozen=True)
class MispEvent:
    uuid: str
    info: str
    date: date
    timestamp: int
    threat_level: int
    analysis: int
    org: str
    tlp: str | None
    tags: list[str]
    galaxies: list[str]
    attributes: list[MispAttribute]
    body: dict[str, Any] = field(repr=False)

    def tag_value(self, predicate: str) -> str | None:
        """The value of the machine tag ``predicate="value"``, if the event has one."""
        for tag in self.tags:
            name, _, value = tag.partition("=")
            if name == predicate and value:
                return value.strip('"')
        return None


@dataclass(frozen=True)
class Read:
    """What one file or feed gave: the good events and one error per refused one."""

    events: list[MispEvent]
    errors: list[EventError]


def read_path(path: Path) -> Read:
    """Read a file of events, or every event file of a MISP feed folder."""
    if path.is_dir():
        return _read_feed(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise EventError(f"{path}: {size:,} bytes; at most {MAX_FILE:,} are read")
        return read_bytes(path.read_bytes(), str(path))
    except (OSError, EventError) as exc:
        return Read([], [exc if isinstance(exc, EventError) else EventError(f"{path}: {exc}")])


def _read_feed(folder: Path) -> Read:
    manifest = folder / "manifest.json"
    if manifest.is_file():
        listed = read_json(manifest.read_bytes(), str(manifest))
        if not isinstance(listed, dict):
            return Read([], [EventError(f"{manifest}: not an object of event uuids")])
        files = [folder / f"{name}.json" for name in listed if _is_uuid(name)]
    else:
        files = sorted(p for p in folder.glob("*.json") if p.name != "hashes.json")
    events: list[MispEvent] = []
    errors: list[EventError] = []
    for file in files:
        part = read_path(file)
        events += part.events
        errors += part.errors
    return Read(events, errors)


def read_json(data: bytes, where: str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise EventError(f"{where}: not JSON ({exc})") from None


def read_bytes(data: bytes, where: str = "input") -> Read:
    """Every event of one JSON document."""
    try:
        document = read_json(data, where)
    except EventError as exc:
        return Read([], [exc])
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        items: list[Any] = document["response"]
    elif isinstance(document, list):
        items = document
    else:
        items = [document]
    events: list[MispEvent] = []
    errors: list[EventError] = []
    for number, item in enumerate(items, start=1):
        label = f"{where}: event {number}" if len(items) > 1 else f"{where}: event"
        try:
            events.append(parse_event(item, label))
        except EventError as exc:
            errors.append(exc)
    return Read(events, errors)


def parse_event(item: Any, label: str = "event") -> MispEvent:
    """One ``{"Event": {...}}`` checked and read; ``EventError`` names what is wrong."""
    if isinstance(item, dict) and isinstance(item.get("Event"), dict):
        body: dict[str, Any] = item["Event"]
    elif isinstance(item, dict) and "Event" not in item and "info" in item:
        body = item  # a bare event, as PyMISP's to_json writes it
    else:
        raise EventError(f'{label}: not an object with an "Event" member')
    ident = body.get("uuid")
    if not isinstance(ident, str) or not _is_uuid(ident):
        raise EventError(f"{label}: no valid uuid (got {str(ident)[:60]!r})")
    label = f"{label} {ident}"
    info = _text(body, "info", label, required=True)
    if not info.strip():
        raise EventError(f"{label}: empty info")
    tags = _tags(body.get("Tag"), label)
    tlp = _tlp(tags, label)
    attributes = _attributes(body, tlp, label)
    return MispEvent(
        uuid=ident.lower(),
        info=info,
        date=_date(body.get("date"), label),
        timestamp=_integer(body.get("timestamp", 0), "timestamp", label, 0, 2**63 - 1),
        threat_level=_integer(body.get("threat_level_id", 4), "threat_level_id", label, 1, 4),
        analysis=_integer(body.get("analysis", 0), "analysis", label, 0, 2),
        org=_org(body, label),
        tlp=tlp,
        tags=tags,
        galaxies=_galaxies(body.get("Galaxy"), tags, label),
        attributes=attributes,
        body=body,
    )


def _attributes(body: dict[str, Any], event_tlp: str | None, label: str) -> list[MispAttribute]:
    out: list[MispAttribute] = []
    for number, raw in enumerate(_list(body, "Attribute", label), start=1):
        read = _attribute(raw, event_tlp, f"{label}: Attribute {number}")
        if read is not None:
            out.append(read)
    for number, obj in enumerate(_list(body, "Object", label), start=1):
        where = f"{label}: Object {number}"
        if not isinstance(obj, dict):
            raise EventError(f"{where}: not an object")
        name = _text(obj, "name", where, required=True)
        if _flag(obj.get("deleted", False), "deleted", where):
            continue
        object_tlp = most_restrictive(
            [level for level in (event_tlp, _tlp(_tags(obj.get("Tag"), where), where)) if level]
        )
        for index, raw in enumerate(_list(obj, "Attribute", where), start=1):
            read = _attribute(raw, object_tlp, f"{where} ({name}): Attribute {index}", name)
            if read is not None:
                out.append(read)
    if len(out) > MAX_ATTRIBUTES:
        raise EventError(f"{label}: {len(out):,} attributes; at most {MAX_ATTRIBUTES:,}")
    return out


def _attribute(
    raw: Any, inherited: str | None, where: str, object_name: str | None = None
) -> MispAttribute | None:
    if not isinstance(raw, dict):
        raise EventError(f"{where}: not an object")
    kind = _text(raw, "type", where, required=True)
    value = raw.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # AS numbers and ports come as numbers from some producers
    if not isinstance(value, str) or not value:
        raise EventError(f"{where} ({kind}): no value")
    if _flag(raw.get("deleted", False), "deleted", where):
        return None
    levels = [inherited, _tlp(_tags(raw.get("Tag"), where), where)]
    try:
        indicator = indicator_of(kind, value)
    except ValueError as exc:
        raise EventError(f"{where} ({kind}): {exc}") from None
    if indicator is None and len(value) > MAX_TEXT:
        raise EventError(f"{where} ({kind}): value of {len(value):,} characters")
    relation = raw.get("object_relation")
    return MispAttribute(
        type=kind,
        value=value,
        category=_text(raw, "category", where),
        to_ids=_flag(raw.get("to_ids", False), "to_ids", where),
        comment=_text(raw, "comment", where),
        tlp=most_restrictive([level for level in levels if level]),
        indicator=indicator,
        role=role_of(kind),
        object_name=object_name,
        relation=relation if isinstance(relation, str) else None,
    )


def _tags(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise EventError(f"{where}: Tag is not a list")
    names = []
    for tag in raw:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str):
            raise EventError(f"{where}: a Tag without a name")
        names.append(name.strip())
    return names


def _tlp(tags: list[str], where: str) -> str | None:
    """The most restricted TLP among the tags; an unknown ``tlp:`` tag refuses the event."""
    table = misp_table()
    levels = []
    for tag in tags:
        lowered = tag.lower()
        if not lowered.startswith("tlp:") or lowered in table["tlp_unmarked"]:
            continue
        level = table["tlp_tags"].get(lowered)
        if level is None:
            raise EventError(f"{where}: unknown TLP tag {tag!r}; cannot honour its marking")
        levels.append(level)
    return most_restrictive(levels)


def _galaxies(raw: Any, tags: list[str], where: str) -> list[str]:
    """Galaxy clusters as ``type=value``, from the Galaxy list and the misp-galaxy tags."""
    found = [t.removeprefix("misp-galaxy:") for t in tags if t.startswith("misp-galaxy:")]
    for galaxy in raw if isinstance(raw, list) else []:
        if not isinstance(galaxy, dict):
            raise EventError(f"{where}: a Galaxy that is not an object")
        clusters = galaxy.get("GalaxyCluster") or []
        for cluster in clusters if isinstance(clusters, list) else []:
            if isinstance(cluster, dict) and isinstance(cluster.get("value"), str):
                found.append(f'{galaxy.get("type", "galaxy")}="{cluster["value"]}"')
    return sorted(set(found))


def _list(body: dict[str, Any], key: str, where: str) -> list[Any]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise EventError(f"{where}: {key} is not a list")
    return value


def _text(body: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise EventError(f"{where}: {key} is {'missing' if value is None else 'not text'}")
    if len(value) > MAX_TEXT:
        raise EventError(f"{where}: {key} of {len(value):,} characters; at most {MAX_TEXT:,}")
    return value


def _flag(value: Any, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return value in (1, "1")
    raise EventError(f"{where}: {key} is {value!r}, not a boolean")


def _integer(value: Any, key: str, where: str, low: int, high: int) -> int:
    try:
        number = (
            int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
        )
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise EventError(f"{where}: {key} is {str(value)[:40]!r}, not an integer {low}..{high}")
    return number


def _date(value: Any, where: str) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value) if isinstance(value, str) else date.fromisoformat("")
    except ValueError:
        raise EventError(f"{where}: date {str(value)[:40]!r} is not YYYY-MM-DD") from None


def _org(body: dict[str, Any], where: str) -> str:
    for key in ("Orgc", "Org"):
        org = body.get(key)
        if isinstance(org, dict) and isinstance(org.get("name"), str) and org["name"].strip():
            name: str = org["name"]
            return name.strip()[:100]
        if org is not None and not isinstance(org, dict):
            raise EventError(f"{where}: {key} is not an object")
    return "unknown"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
