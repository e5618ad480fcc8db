"""Episodes: consecutive hits of one detector on one target (and one actor) joined into one.

Two hits belong to the same episode when they concern the same target, prefix and actor and the
later window opens no more than ``gap_s`` seconds after the earlier one closes. The grouping is
vectorised; only the episodes found (a handful) are visited one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.groups import distinct, sort_rows
from cyberpeace.detect.hits import Hits, Rule


@dataclass(frozen=True)
class RuleOutcome:
    """How one rule fared over an episode."""

    rule: Rule
    peak: float  # the highest value measured in the episode's hits
    windows: int  # windows in which the rule held


@dataclass(frozen=True)
class Episode:
    detector: str
    target: int  # host or network address
    prefix_len: int
    actor: int | None  # the single source, if the detector names one
    ports: tuple[int, ...]  # destination ports the hits concern, if any
    window_s: int
    first: int  # start of the first window, seconds since the epoch
    last: int  # start of the last window
    windows: int  # distinct windows with hits
    runs: tuple[tuple[int, int], ...]  # (first, last) window starts of each unbroken run
    outcomes: tuple[RuleOutcome, ...]

    @property
    def after(self) -> int:
        """The end of the last window."""
        return self.last + self.window_s


def collapse(detector: str, hits: Hits, gap_s: float) -> list[Episode]:
    """The episodes in ``hits``, ordered by first window."""
    if len(hits) == 0:
        return []
    order = sort_rows(hits.target, hits.prefix_len, hits.actor, hits.window)
    target, plen, actor = hits.target[order], hits.prefix_len[order], hits.actor[order]
    window = hits.window[order]
    new = np.ones(len(order), dtype=np.bool_)
    new[1:] = (
        (target[1:] != target[:-1])
        | (plen[1:] != plen[:-1])
        | (actor[1:] != actor[:-1])
        | (window[1:] - window[:-1] > hits.window_s + gap_s)
    )
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(order))
    # A window can hold several hits (a sweep of two ports): count windows, not rows.
    opens_window = new.copy()
    opens_window[1:] |= window[1:] != window[:-1]
    episode_of_window = (np.cumsum(new) - 1)[opens_window]
    windows = np.bincount(episode_of_window, minlength=len(starts))
    peaks, counts = _rule_reductions(hits, order, starts, opens_window, episode_of_window)
    episodes = [
        Episode(
            detector=detector,
            target=int(target[a]),
            prefix_len=int(plen[a]),
            actor=int(actor[a]) if actor[a] >= 0 else None,
            ports=tuple(int(p) for p in distinct(hits.port[order][a:b]) if p >= 0),
            window_s=hits.window_s,
            first=int(window[a]),
            last=int(window[b - 1]),
            windows=int(windows[i]),
            runs=_runs(window[a:b], hits.window_s),
            outcomes=tuple(
                RuleOutcome(rule, float(peaks[k][i]), int(counts[k][i]))
                for k, rule in enumerate(hits.rules)
            ),
        )
        for i, (a, b) in enumerate(zip(starts, ends, strict=True))
    ]
    return sorted(episodes, key=lambda e: (e.first, e.target, e.actor or 0))


def _rule_reductions(
    hits: Hits,
    order: NDArray[np.intp],
    starts: NDArray[np.intp],
    opens_window: NDArray[np.bool_],
    episode_of_window: NDArray[np.intp],
) -> tuple[list[NDArray[np.float64]], list[NDArray[np.int64]]]:
    """Per rule: the peak value, and the number of windows it held in, for each episode."""
    window_starts = np.flatnonzero(opens_window)
    peaks, counts = [], []
    for rule in hits.rules:
        values = hits.numbers[rule.metric][order]
        peaks.append(np.maximum.reduceat(values, starts))
        held = np.maximum.reduceat(rule.holds(values), window_starts)
        counts.append(np.bincount(episode_of_window, held, len(starts)).astype(np.int64))
    return peaks, counts


def _runs(windows: NDArray[np.int64], window_s: int) -> tuple[tuple[int, int], ...]:
    """Unbroken runs of windows, as (first, last) window starts."""
    breaks = np.flatnonzero(np.diff(windows) > window_s)
    firsts = np.append(windows[:1], windows[breaks + 1])
    lasts = np.append(windows[breaks], windows[-1:])
    return tuple((int(a), int(b)) for a, b in zip(firsts, lasts, strict=True))
