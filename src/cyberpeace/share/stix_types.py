"""The STIX 2.1 object types and their required properties, read from ``data/stix_types.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class TypeRule:
    """What one STIX 2.1 type requires beyond the common properties of its category."""

    category: str  # sdo sro sco meta
    required: tuple[str, ...]  # common and type-specific, in the order checked
    any_of: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Schema:
    types: dict[str, TypeRule]
    kinds: dict[str, str]  # property name -> kind


@cache
def schema() -> Schema:
    text = resources.files("cyberpeace.share").joinpath("data/stix_types.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    common = {category: tuple(names) for category, names in raw["common"].items()}
    types = {
        name: TypeRule(
            category=entry["category"],
            required=common[entry["category"]] + tuple(entry.get("required", ())),
            any_of=tuple(tuple(group) for group in entry.get("any_of", ())),
        )
        for name, entry in raw["types"].items()
    }
    return Schema(types=types, kinds=dict(raw["kinds"]))
