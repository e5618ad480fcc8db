"""The report policy of ``data/report.yaml``: clearances, timeline labels, limits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from cyberpeace.share.tlp import rank


@dataclass(frozen=True)
class TimelineLabel:
    kind: str
    label: str


@dataclass(frozen=True)
class Limits:
    max_period_days: int
    max_incidents: int
    rate_bins: int
    top_sources: int
    audit_entries: int


@dataclass(frozen=True)
class Policy:
    clearance: dict[str, str]  # role -> the highest TLP that role reads
    timeline: dict[str, TimelineLabel | None]  # audit action -> label; None: left out
    limits: Limits
    tlp_colours: dict[str, str]  # red, amber, green, clear -> text colour on black


@cache
def policy() -> Policy:
    text = resources.files("cyberpeace.report").joinpath("data/report.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    clearance = {str(role): str(level) for role, level in raw["clearance"].items()}
    for level in clearance.values():
        rank(level)  # an unknown level in the data file fails here, not in a reader's request
    timeline = {
        str(action): None if entry.get("skip") else TimelineLabel(entry["kind"], entry["label"])
        for action, entry in raw["timeline"].items()
    }
    colours = {str(name): str(colour) for name, colour in raw["tlp_colours"].items()}
    return Policy(clearance, timeline, Limits(**raw["limits"]), colours)
