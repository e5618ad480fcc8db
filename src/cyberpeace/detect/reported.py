"""What a live detector has already reported, so that a detection seen again is updated, not
repeated.

Each analysis of the recent window finds again the episodes it found before, a little longer.
A detection from the same detector on the same target whose time span overlaps (or comes within
``Thresholds.episode_gap_s`` of) one already reported is that episode: its start is the earliest
seen, its end the latest, its peak rates the highest, its severity and confidence the highest,
its sources and explanation the latest window's. Its packet, byte and window totals are exact
while the window still holds the episode's beginning; once the window has slid past it, the
seconds the window adds are counted at the window's average rate, and the explanation says the
totals are estimated.

An episode the latest analysis did not find has left the window and is forgotten (after its last
change, if any, has been told). Updates are told at once when an episode is new or its severity
rises, and otherwise at most every ``update_every`` seconds: a long attack updates its record,
not the audit log, every quarter-second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from cyberpeace.detect.detection import Detection, Severity

LEVELS: tuple[Severity, ...] = get_args(Severity)
TOTALS = ("packets", "bytes", "windows")  # magnitudes that add up over an episode's seconds


@dataclass(frozen=True)
class DetectionUpdate:
    """A detection that is new, or has grown since it was last told."""

    episode: int  # the live detector's number for the episode, the same in every update
    detection: Detection
    new: bool


@dataclass
class _Episode:
    number: int
    detection: Detection
    whole: bool = True  # the totals are exact: the window held the episode's beginning
    told_at: float | None = None  # when last told (monotonic seconds); None: never
    changed: bool = True
    urgent: bool = True
    leaving: bool = False


class Reported:
    """The episodes reported so far and whether each has changed since it was told."""

    def __init__(self, gap_s: float, window_s: float) -> None:
        self.gap = timedelta(seconds=gap_s)
        self.window_s = window_s
        self._episodes: list[_Episode] = []
        self._numbered = 0

    def __len__(self) -> int:
        return len(self._episodes)

    def absorb(self, detections: list[Detection]) -> None:
        """Take one analysis' detections: each joins its episode or starts one; an episode not
        found again leaves once told."""
        found: set[int] = set()
        for detection in detections:
            episode = self._match(detection)
            if episode is None:
                self._numbered += 1
                episode = _Episode(self._numbered, self._with_live(detection, whole=True))
                self._episodes.append(episode)
            else:
                self._grow(episode, detection)
            found.add(episode.number)
        for episode in self._episodes:
            episode.leaving = episode.number not in found
        self._episodes = [e for e in self._episodes if not (e.leaving and not e.changed)]

    def pending(
        self, now: float, update_every: float, everything: bool = False
    ) -> list[DetectionUpdate]:
        """The updates due at ``now``: new episodes, rising severity, leaving episodes, and other
        changes told at least ``update_every`` s ago (every change, with ``everything``)."""
        return [
            DetectionUpdate(e.number, e.detection, e.told_at is None)
            for e in self._episodes
            if e.changed and (everything or self._due(e, now, update_every))
        ]

    def told(self, updates: list[DetectionUpdate], now: float) -> None:
        """The updates reached their receiver (an update not marked told is offered again)."""
        numbers = {u.episode for u in updates}
        for episode in self._episodes:
            if episode.number in numbers:
                episode.told_at, episode.changed, episode.urgent = now, False, False
        self._episodes = [e for e in self._episodes if not (e.leaving and not e.changed)]

    def next_due(self, update_every: float) -> float | None:
        """When the earliest change not yet told falls due (monotonic seconds), if any."""
        times = [
            0.0 if e.urgent or e.leaving or e.told_at is None else e.told_at + update_every
            for e in self._episodes
            if e.changed
        ]
        return min(times, default=None)

    def _due(self, episode: _Episode, now: float, update_every: float) -> bool:
        if episode.urgent or episode.leaving or episode.told_at is None:
            return True
        return now - episode.told_at >= update_every

    def _match(self, detection: Detection) -> _Episode | None:
        for episode in self._episodes:
            known = episode.detection
            if (
                known.detector == detection.detector
                and known.target == detection.target
                and detection.start <= known.end + self.gap
                and known.start <= detection.end + self.gap
            ):
                return episode
        return None

    def _grow(self, episode: _Episode, seen: Detection) -> None:
        known = episode.detection
        whole = episode.whole and seen.start <= known.start
        grown = _merged(known, seen, whole)
        rises = LEVELS.index(grown.severity) > LEVELS.index(known.severity)
        if _differs(known, grown):
            episode.detection = self._with_live(grown, whole)
            episode.whole, episode.changed = whole, True
            episode.urgent = episode.urgent or rises

    def _with_live(self, detection: Detection, whole: bool) -> Detection:
        explanation = dict(detection.explanation)
        explanation["live"] = {
            "window_s": self.window_s,
            "totals": "exact" if whole else "estimated beyond the window",
        }
        return detection.model_copy(update={"explanation": explanation})


def _merged(known: Detection, seen: Detection, whole: bool) -> Detection:
    start, end = min(known.start, seen.start), max(known.end, seen.end)
    magnitude = _magnitude(known, seen, whole)
    magnitude["duration_s"] = round((end - start).total_seconds(), 3)
    severity = max(known.severity, seen.severity, key=LEVELS.index)
    return seen.model_copy(
        update={
            "start": start,
            "end": end,
            "severity": severity,
            "confidence": max(known.confidence, seen.confidence),
            "magnitude": magnitude,
            "explanation": _timeline(known, seen, start, end),
        }
    )


def _timeline(known: Detection, seen: Detection, start: datetime, end: datetime) -> dict[str, Any]:
    """The latest window's explanation, with the episode's whole course: its start and end, and
    the peak of whichever window saw the higher packet rate."""
    explanation = dict(seen.explanation)
    timelines = [d.explanation.get("timeline") for d in (known, seen)]
    if not all(isinstance(t, dict) for t in timelines):
        return explanation
    higher = known.magnitude.get("peak_pps", 0.0) > seen.magnitude.get("peak_pps", 0.0)
    peak = (timelines[0] if higher else timelines[1])["peak"]  # type: ignore[index]
    explanation["timeline"] = {"start": start.isoformat(), "peak": peak, "end": end.isoformat()}
    return explanation


def _magnitude(known: Detection, seen: Detection, whole: bool) -> dict[str, float]:
    """Peaks and counts: the highest seen. Totals: the window's while it holds the whole
    episode; else the known totals plus the window's average over the seconds it adds."""
    span = (seen.end - seen.start).total_seconds()
    added = (seen.end - known.end).total_seconds()
    share = min(1.0, max(0.0, added / span)) if span > 0 else 0.0
    out: dict[str, float] = {}
    for key in known.magnitude.keys() | seen.magnitude.keys():
        old, new = known.magnitude.get(key, 0.0), seen.magnitude.get(key, 0.0)
        if key in TOTALS:
            out[key] = new if whole else round(old + new * share, 1)
        else:
            out[key] = max(old, new)
    return out


def _differs(known: Detection, grown: Detection) -> bool:
    """Whether an update says something new: a longer span, a higher peak or severity."""
    ignored = {"duration_s", *TOTALS}
    higher = any(
        value > known.magnitude.get(key, 0.0)
        for key, value in grown.magnitude.items()
        if key not in ignored
    )
    return bool(
        grown.start < known.start
        or grown.end > known.end
        or higher
        or grown.severity != known.severity
        or grown.confidence > known.confidence
    )
