"""Who a report is for: a viewer (staff or one party) and the highest TLP they may read.

A report holds only items whose TLP 2.0 label (FIRST, TLP 2.0, "Usage") is at or below the
reader's; its own marking is the most restricted label among what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from cyberpeace.report.policy import policy
from cyberpeace.share.tlp import TLP_LEVELS, UnknownMarking, rank
from cyberpeace.store import Forbidden, Viewer


class ReportError(ValueError):
    """A report cannot be built from what was asked: a bad date, period or TLP level."""


class AboveReaderTlp(Forbidden):
    """The report's subject is marked above what the reader may read."""


@dataclass(frozen=True)
class Reader:
    viewer: Viewer
    tlp: str

    def admits(self, tlp: str) -> bool:
        return rank(tlp) <= rank(self.tlp)

    @property
    def label(self) -> str:
        who = "mission staff" if self.viewer.is_staff else f"party {self.viewer.party_id}"
        return f"{who}, reading up to {self.tlp}"


def parse_tlp(text: str) -> str:
    """'amber', 'TLP:AMBER' or 'tlp:amber+strict' as the TLP 2.0 level; ReportError otherwise."""
    cleaned = text.strip().upper()
    level = cleaned if cleaned.startswith("TLP:") else f"TLP:{cleaned}"
    try:
        rank(level)
    except UnknownMarking:
        raise ReportError(
            f"unknown TLP level {text!r}; expected one of {list(TLP_LEVELS)}"
        ) from None
    return level


def reader_for(viewer: Viewer, tlp: str | None = None) -> Reader:
    """The reader ``viewer`` is, at their role's clearance or the lower ``tlp`` they ask for."""
    cleared = policy().clearance[viewer.role]
    if tlp is None:
        return Reader(viewer, cleared)
    asked = parse_tlp(tlp)
    if rank(asked) > rank(cleared):
        raise Forbidden(f"a {viewer.role} reader is cleared up to {cleared}, not {asked}")
    return Reader(viewer, asked)
