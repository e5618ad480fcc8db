"""Adaptive baselines: each host's and each safe area's own packet rate, learnt as it goes.

Fixed thresholds miss a flood that is small for the internet but huge for a small clinic. For
every destination host and safe area, the baseline is an exponentially weighted moving average
of its packets per second and of the absolute deviation from it (the EWMA of the control-chart
literature: J. S. Hunter, "The exponentially weighted moving average", Journal of Quality
Technology 18(4), 1986; the mean-deviation form is the one TCP's RTT estimator uses, RFC 6298
section 2). After a learning period, a second is over its baseline when its rate exceeds
``mean + k * deviation``, ``ratio`` times the mean and a floor (the deviation of a busy
aggregate is small next to its bursts: a rise must also be large in itself); a detection is
raised once ``min_duration_s`` consecutive seconds are over, and not again until the rate falls
back. Seconds over the baseline do not
teach it (an attack must not become the norm). Seconds without traffic count as zero. The rate
counted leaves out TCP that acknowledges (``COUNTED``): established sessions are the host's own
doing, and an ACK flood is left to the fixed thresholds.

The caller keeps one ``Baselines`` and hands it every batch in time order; the state (means,
deviations, seconds learnt, current runs) carries from batch to batch. Work per batch is one
step per second of the batch, each vectorised over every host and area; none per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.detect.cells import ALL_CLASSES, TCP_ACK
from cyberpeace.detect.detection import Detection
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.quantities import count
from cyberpeace.mission import NO_MATCH, Borders

F64 = NDArray[np.float64]
NAME, KIND, VERSION = "baseline", "rate-anomaly", 2
# What a baseline counts: every traffic class but TCP that acknowledges (established sessions:
# a download or a backup is a host's own doing, and its bursts are no flood). SYN, UDP, ICMP,
# reflected and other traffic can be sent unasked, so their rise is what warns.
COUNTED = tuple(c for c in ALL_CLASSES if c != TCP_ACK)


class BaselineSettings(BaseModel):
    """How baselines learn and when they raise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    learning_s: int = Field(600, ge=1, description="Seconds learnt before any detection.")
    alpha: float = Field(0.01, gt=0, le=1, description="EWMA weight of each new second.")
    k: float = Field(6.0, gt=0, description="Deviations above the mean that count as over.")
    floor_pps: float = Field(1_000, ge=0, description="Least packets/s that can be over.")
    ratio: float = Field(3.0, ge=1, description="Least multiple of the mean that can be over.")
    min_duration_s: int = Field(3, ge=1, description="Consecutive seconds over before raising.")


@dataclass
class _State:
    """Per key (parallel arrays): the learnt mean and deviation, seconds seen, current run."""

    mean: F64
    deviation: F64
    learnt: NDArray[np.int64]
    run: NDArray[np.int64]
    raised: NDArray[np.bool_]
    peak: F64


class Baselines:
    """Baselines of destination hosts (by address) and safe areas (by id), across batches."""

    def __init__(self, settings: BaselineSettings | None = None) -> None:
        self.settings = settings or BaselineSettings()
        self._slots: dict[str, int] = {}
        z = np.zeros(0)
        none = np.zeros(0, np.int64)
        self._state = _State(z, z.copy(), none, none.copy(), np.zeros(0, np.bool_), z.copy())
        self._last_second: int | None = None
        self._places: dict[int, tuple[str | None, str | None]] = {}  # slot: party, safe area

    def __len__(self) -> int:
        return len(self._slots)

    def baseline(self, key: str) -> tuple[float, float, int]:
        """The mean and deviation of ``key``'s packets/s and the seconds learnt."""
        i = self._slots[key]
        return (
            float(self._state.mean[i]),
            float(self._state.deviation[i]),
            int(self._state.learnt[i]),
        )

    def observe(
        self, batch: Batch, borders: Borders | None = None, *, until: float | None = None
    ) -> list[Detection]:
        """Learn from ``batch`` (later than the batches before it) and say what rose above its
        baseline: hosts as such, and safe areas (when ``borders`` are given). Seconds from
        ``until`` on are left for a later batch (a live window's last seconds are still
        filling); None: every second of the batch."""
        totals = batch.cells.totals(COUNTED)
        if until is not None:
            settled = totals.second < np.floor(until)
            if not settled.all():
                totals = totals.where(settled)
        if len(totals.second) == 0:
            return []
        hosts = np.unique(totals.dst)
        key_of = np.searchsorted(hosts, totals.dst)
        slot = np.array([self._slot(f"host {batch.addresses.text(int(h))}") for h in hosts])
        seconds, rows, values = [totals.second], [slot[key_of]], [totals.packets]
        if borders is not None:
            self._place(borders, batch, hosts, slot)
            area = batch.addresses.safe_area(borders, hosts)[key_of]
            inside = area != NO_MATCH
            ids = np.unique(area[inside])
            area_slot = np.zeros(len(borders.safe_area_ids), dtype=np.int64)
            for a in ids.tolist():  # one per safe area hit, not per record
                area_slot[a] = self._slot(f"safe area {borders.safe_area_ids[a]}")
                self._places[int(area_slot[a])] = (None, borders.safe_area_ids[a])
            seconds.append(totals.second[inside])
            rows.append(area_slot[area[inside]])
            values.append(totals.packets[inside])
        second = np.concatenate(seconds)
        return self._step(second, np.concatenate(rows).astype(np.int64), np.concatenate(values))

    def _place(
        self, borders: Borders, batch: Batch, hosts: NDArray[np.int64], slot: NDArray[np.int64]
    ) -> None:
        """Remember whose territory and safe area each host is in (one entry per host)."""
        party = batch.addresses.party(borders, hosts)
        area = batch.addresses.safe_area(borders, hosts)
        for s, p, a in zip(slot.tolist(), party.tolist(), area.tolist(), strict=True):
            self._places[s] = (
                None if p == NO_MATCH else borders.party_ids[p],
                None if a == NO_MATCH else borders.safe_area_ids[a],
            )

    def _slot(self, name: str) -> int:
        slot = self._slots.get(name)
        if slot is None:
            slot = self._slots[name] = len(self._slots)
            s = self._state
            self._state = _State(
                np.append(s.mean, 0.0),
                np.append(s.deviation, 0.0),
                np.append(s.learnt, 0),
                np.append(s.run, 0),
                np.append(s.raised, False),
                np.append(s.peak, 0.0),
            )
        return slot

    def _step(
        self, second: NDArray[np.int64], slot: NDArray[np.int64], pps: F64
    ) -> list[Detection]:
        settings, state = self.settings, self._state
        first = int(second.min())
        if self._last_second is not None:
            first = max(first, self._last_second + 1)  # seconds already learnt are not again
        last = int(second.max())
        if last < first:
            return []
        span = last - first + 1
        keep = second >= first
        grid = np.zeros((span, len(self._slots)))
        np.add.at(grid, (second[keep] - first, slot[keep]), pps[keep])
        names = list(self._slots)
        found: list[Detection] = []
        for offset in range(span):  # one step per second, vectorised over every key
            rate = grid[offset]
            ready = state.learnt >= settings.learning_s
            limit = np.maximum(
                np.maximum(state.mean + settings.k * state.deviation, settings.ratio * state.mean),
                settings.floor_pps,
            )
            over = ready & (rate > limit)
            state.run = np.where(over, state.run + 1, 0)
            state.peak = np.where(over, np.maximum(state.peak, rate), 0.0)
            state.raised &= over
            fire = over & ~state.raised & (state.run >= settings.min_duration_s)
            for i in np.flatnonzero(fire):  # a handful of detections, not records
                found.append(self._detection(names[i], int(i), first + offset, rate[i]))
            state.raised |= fire
            learn = ~over
            diff = rate - state.mean
            fresh = learn & (state.learnt == 0)
            state.mean = np.where(
                fresh, rate, np.where(learn, state.mean + settings.alpha * diff, state.mean)
            )
            spread = state.deviation + settings.alpha * (np.abs(diff) - state.deviation)
            state.deviation = np.where(learn & ~fresh, spread, state.deviation)
            state.learnt = state.learnt + learn
        self._last_second = last
        return found

    def _detection(self, name: str, i: int, second: int, rate: float) -> Detection:
        settings, state = self.settings, self._state
        mean, deviation, learnt = state.mean[i], state.deviation[i], int(state.learnt[i])
        run = int(state.run[i])
        kind, _, target = name.partition(" ")
        if kind == "safe":
            target = target.removeprefix("area ")
        limit = max(mean + settings.k * deviation, settings.ratio * mean, settings.floor_pps)
        summary = (
            f"rate {count(rate)} pkt/s against a baseline of {count(mean)} ± {count(deviation)}"
            f" pkt/s learnt over {count(learnt)} s, over mean + {settings.k:g} deviations,"
            f" {settings.ratio:g} times the mean and the floor"
            f" ({count(limit)} pkt/s) for {run} consecutive seconds."
        )
        party, area = self._places.get(i, (None, target if kind == "safe" else None))
        return Detection(
            detector=NAME,
            kind=KIND,
            target=target,
            party=party,
            safe_area=area,
            start=datetime.fromtimestamp(second - run + 1, UTC),
            end=datetime.fromtimestamp(second + 1, UTC),
            severity="medium",
            confidence=round(min(0.99, 1 - 0.5 / max(rate / limit, 1.0)), 3),
            magnitude={"peak_pps": round(float(state.peak[i]), 1), "windows": run},
            explanation={
                "summary": f"{KIND} against {target}: {summary}",
                "detector": NAME,
                "version": VERSION,
                "stage": "precursor",  # a rise above the norm warns; the floods' detectors judge
                "baseline": {
                    "of": name,
                    "mean_pps": round(float(mean), 1),
                    "deviation_pps": round(float(deviation), 1),
                    "learnt_s": learnt,
                    "limit_pps": round(float(limit), 1),
                    "k": settings.k,
                    "floor_pps": settings.floor_pps,
                    "ratio": settings.ratio,
                    "counts": "every packet but TCP that acknowledges (established sessions)",
                    "min_duration_s": settings.min_duration_s,
                },
            },
        )
