"""The fixed vocabularies of a mandate (sectors, conduct, actions, TLP), read from a data file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import pycountry
import yaml


@dataclass(frozen=True)
class Vocabulary:
    sectors: frozenset[str]
    criticality: tuple[str, ...]
    conduct: frozenset[str]
    actions: dict[str, str]  # action kind -> scope
    tlp: tuple[str, ...]
    countries: frozenset[str]


@cache
def vocabulary() -> Vocabulary:
    """Load ``data/vocabulary.yaml`` once."""
    text = resources.files("cyberpeace.mission").joinpath("data/vocabulary.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    official = {c.alpha_2 for c in pycountry.countries}
    return Vocabulary(
        sectors=frozenset(raw["sectors"]),
        criticality=tuple(raw["criticality"]),
        conduct=frozenset(raw["conduct"]),
        actions={kind: spec["scope"] for kind, spec in raw["actions"].items()},
        tlp=tuple(raw["tlp"]),
        countries=frozenset(official | set(raw["user_assigned_countries"])),
    )
