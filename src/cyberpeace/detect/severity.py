"""How severe a detection is: what was hit, and whether harm is under way or being prepared.

An attack (a flood) on a safe area takes the safe area's criticality from the mandate; on other
addresses of a party it is ``medium``; outside every party's territory ``low``. A precursor (a
scan) is one level below the attack on the same target, and never below ``low``: it warns of
harm to come rather than doing it.
"""

from __future__ import annotations

from typing import get_args

from cyberpeace.detect.detection import Severity
from cyberpeace.detect.registry import Stage
from cyberpeace.mission import Mandate

LEVELS: tuple[Severity, ...] = get_args(Severity)  # low, medium, high, critical
UNRATED_SAFE_AREA: Severity = "high"  # the mandate's default criticality for a safe area


def severity(stage: Stage, safe_area_criticality: str | None, in_territory: bool) -> Severity:
    if safe_area_criticality is not None:
        level = LEVELS.index(_level(safe_area_criticality))
    else:
        level = 1 if in_territory else 0
    if stage == "precursor":
        level = max(0, level - 1)
    return LEVELS[level]


def criticality_of(mandate: Mandate) -> dict[str, str]:
    """Safe area id -> criticality, as the engine's ``criticality`` argument wants it."""
    return {area.id: area.criticality for area in mandate.safe_areas}


def _level(criticality: str) -> Severity:
    for level in LEVELS:
        if level == criticality:
            return level
    return UNRATED_SAFE_AREA
