"""The case file's fixed words (link kinds, note kinds, media types), read from a data file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class CaseVocabulary:
    link_kinds: dict[str, str]
    note_kinds: dict[str, str]
    task_statuses: dict[str, str]
    media_types: dict[str, str]
    evidence_kinds: dict[str, str]


@cache
def case_vocabulary() -> CaseVocabulary:
    """Load ``data/cases.yaml`` once."""
    path = resources.files("cyberpeace.investigate").joinpath("data/cases.yaml")
    raw = yaml.safe_load(path.read_text("utf-8"))
    return CaseVocabulary(
        link_kinds=dict(raw["link_kinds"]),
        note_kinds=dict(raw["note_kinds"]),
        task_statuses=dict(raw["task_statuses"]),
        media_types=dict(raw["media_types"]),
        evidence_kinds=dict(raw["evidence_kinds"]),
    )
