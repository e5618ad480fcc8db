"""TLP 2.0 markings on STIX 2.1 objects (STIX 2.1 section 7.2; FIRST TLP 2.0).

An object's TLP is the most restricted TLP marking among its ``object_marking_refs``. TLP 1.0
marking ids (STIX 2.1 section 7.2.1.4) are read as their TLP 2.0 equivalents, WHITE as CLEAR.
Granular markings on single properties are not read here: an object is shared or withheld whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

MARKING_CREATED = "2022-10-01T00:00:00.000Z"


class UnknownMarking(ValueError):
    """A TLP level or marking-definition id that is neither TLP 2.0 nor TLP 1.0."""


@dataclass(frozen=True)
class _Table:
    extension: str
    levels: tuple[str, ...]  # least to most restricted
    by_level: dict[str, str]  # TLP:AMBER -> marking-definition id
    short: dict[str, str]  # TLP:AMBER -> amber (the extension's tlp_2_0 value)
    by_id: dict[str, str]  # TLP 2.0 and 1.0 ids -> TLP 2.0 level


@cache
def _table() -> _Table:
    text = resources.files("cyberpeace.share").joinpath("data/tlp.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    levels = tuple(entry["level"] for entry in raw["levels"])
    by_level = {entry["level"]: entry["id"] for entry in raw["levels"]}
    by_id = {marking: level for level, marking in by_level.items()}
    by_id.update(raw["tlp_1_0"])
    return _Table(
        extension=raw["extension"],
        levels=levels,
        by_level=by_level,
        short={entry["level"]: entry["tlp_2_0"] for entry in raw["levels"]},
        by_id=by_id,
    )


TLP_LEVELS: tuple[str, ...] = _table().levels


def rank(level: str) -> int:
    """0 for TLP:CLEAR up to 4 for TLP:RED."""
    try:
        return _table().levels.index(level)
    except ValueError:
        raise UnknownMarking(f"unknown TLP level {level!r}; expected one of {TLP_LEVELS}") from None


def most_restrictive(levels: Iterable[str]) -> str | None:
    """The most restricted of ``levels``, or None when there are none."""
    ranked = [(rank(level), level) for level in levels]
    return max(ranked)[1] if ranked else None


def marking_id(level: str) -> str:
    """The TLP 2.0 marking-definition id of ``level``."""
    rank(level)
    return _table().by_level[level]


def level_of_marking(marking: str) -> str | None:
    """The TLP 2.0 level a marking-definition id stands for; None if it is not a TLP marking."""
    return _table().by_id.get(marking)


def tlp_of(stix_object: Mapping[str, Any]) -> str | None:
    """The TLP of a STIX object: the most restricted TLP among its object markings, or None."""
    refs = stix_object.get("object_marking_refs") or []
    if not isinstance(refs, list):
        raise UnknownMarking("object_marking_refs must be a list of marking-definition ids")
    found = [level for ref in refs if isinstance(ref, str) and (level := level_of_marking(ref))]
    return most_restrictive(found)


def marking_definition(level: str) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object for ``level``, to include in bundles."""
    table = _table()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(level),
        "created": MARKING_CREATED,
        "name": level,
        "extensions": {
            table.extension: {"extension_type": "property-extension", "tlp_2_0": table.short[level]}
        },
    }
