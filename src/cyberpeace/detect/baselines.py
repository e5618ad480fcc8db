"""Adaptive baselines: each host's and each safe area's own packet rate, learnt as it goes.

Fixed thresholds miss a flood that is small for the internet but huge for a small clinic. For
every destination host the mission protects (inside the borders, or every host when there are
none; at most ``max_hosts``) and every safe area, the baseline is an exponentially weighted
moving average of its packets per second and of the absolute deviation from it (the EWMA of the
control-chart literature: J. S. Hunter, "The exponentially weighted moving average", Journal of
Quality Technology 18(4), 1986; the mean-deviation form is the one TCP's RTT estimator uses, RFC
6298 section 2). After a learning period, a second is over its baseline when its rate exceeds
``mean + k * deviation``, ``ratio`` times the mean and a floor (the deviation of a busy
aggregate is small next to its bursts: a rise must also be large in itself); a detection is
raised once ``min_duration_s`` consecutive seconds are over, and not again until the rate falls
back. Seconds over the baseline do not teach it (an attack must not become the norm). Seconds
without traffic count as zero. The rate counted leaves out TCP that acknowledges (``COUNTED``):
established sessions are the host's own doing, and an ACK flood is left to the fixed thresholds.
For the same reason it leaves out answers the host asked for (``unsolicited``): UDP from an
amplifier port (data/amplifiers.yaml) towards a host, up to as many packets as the host sent to
such ports in that second. A resolver whose cache is empty after a restart, or a monitor polling
SNMP, gets many more answers because it asks many more questions; a reflection victim asked
nothing, so its flood counts whole.

The caller keeps one ``Baselines`` and hands it every batch in time order; the state (means,
deviations, seconds learnt, current runs) carries from batch to batch. Work per batch is the
cells of the records of the counted classes only (``Batch.of_classes``: on an ordinary network
four records in five are established TCP), then one compiled step per second over every host
and area (``baseline_kernel.py``; a few dozen seconds at a time, so memory is bounded by the
keys, not by the batch's length); a batch's hosts are found among the known ones by one sorted
look-up, not one per host.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.detect.baseline_kernel import step_pass
from cyberpeace.detect.cells import (
    ALL_CLASSES,
    AMPLIFIER,
    TCP_ACK,
    Cells,
    DestinationTotals,
    amplifier_marks,
)
from cyberpeace.detect.detection import Detection
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.quantities import count
from cyberpeace.mission import NO_MATCH, Borders
from cyberpeace.telemetry.protocols import UDP

F64 = NDArray[np.float64]
NAME, KIND, VERSION = "baseline", "rate-anomaly", 3
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
    max_hosts: int = Field(
        100_000, ge=1, description="Most hosts given a baseline; later ones get none (counted)."
    )


@dataclass
class _State:
    """Per key (parallel arrays): the learnt mean and deviation, seconds seen, current run."""

    mean: F64
    deviation: F64
    learnt: NDArray[np.int64]
    run: NDArray[np.int64]
    raised: NDArray[np.bool_]
    peak: F64
    peak_at: NDArray[np.int64]  # the second of the peak of the current run

    def grown(self, more: int) -> _State:
        """The state with ``more`` fresh keys after the present ones."""
        return _State(
            _extended(self.mean, more),
            _extended(self.deviation, more),
            _extended(self.learnt, more),
            _extended(self.run, more),
            _extended(self.raised, more),
            _extended(self.peak, more),
            _extended(self.peak_at, more),
        )


def _extended(values: NDArray[Any], more: int) -> NDArray[Any]:
    return np.concatenate([values, np.zeros(more, dtype=values.dtype)])


_STEP_CHUNK_S = 64  # seconds stepped at once: memory is chunk x keys, not batch x keys


class Baselines:
    """Baselines of destination hosts (by address) and safe areas (by id), across batches.

    With borders, only hosts inside a party's territory or a safe area get a baseline (the
    mission protects those; the internet's clients are not its hosts); without, every host
    does. Either way at most ``max_hosts``: hosts first seen after that get none, and are
    counted in ``hosts_refused``. Keys are found by one sorted look-up per batch, not per
    host."""

    def __init__(self, settings: BaselineSettings | None = None) -> None:
        self.settings = settings or BaselineSettings()
        none, z = np.zeros(0, np.int64), np.zeros(0)
        self._state = _State(
            z, z.copy(), none, none.copy(), np.zeros(0, np.bool_), z.copy(), none.copy()
        )
        self._hosts = np.zeros(0, dtype="S16")  # known host addresses, sorted
        self._host_slot = np.zeros(0, dtype=np.int64)  # their keys, aligned with _hosts
        self._areas: dict[str, int] = {}  # safe area id -> key
        self._label: dict[int, str] = {}  # key -> "safe area ID" (hosts are read from _address)
        self._address = np.zeros(0, dtype="S16")  # key -> the host's address (areas: empty)
        self._party = np.zeros(0, dtype=object)  # key -> party id or None
        self._area_of = np.zeros(0, dtype=object)  # key -> safe area id or None
        self._last_second: int | None = None
        self.hosts_refused = 0

    def __len__(self) -> int:
        return len(self._state.mean)

    def baseline(self, key: str) -> tuple[float, float, int]:
        """The mean and deviation of ``key``'s packets/s and the seconds learnt; ``key`` is
        "host ADDRESS" or "safe area ID". KeyError when it has no baseline."""
        i = self._key_of(key)
        return (
            float(self._state.mean[i]),
            float(self._state.deviation[i]),
            int(self._state.learnt[i]),
        )

    def _key_of(self, key: str) -> int:
        if key.startswith("safe area "):
            return self._areas[key.removeprefix("safe area ")]
        address = ipaddress.ip_address(key.removeprefix("host "))
        if isinstance(address, ipaddress.IPv4Address):
            address = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
        packed = np.array([address.packed], dtype="S16")
        at = int(np.searchsorted(self._hosts, packed[0]))
        if at == len(self._hosts) or self._hosts[at] != packed[0]:
            raise KeyError(key)
        return int(self._host_slot[at])

    def observe(
        self, batch: Batch, borders: Borders | None = None, *, until: float | None = None
    ) -> list[Detection]:
        """Learn from ``batch`` (later than the batches before it) and say what rose above its
        baseline: hosts as such, and safe areas (when ``borders`` are given). Seconds from
        ``until`` on are left for a later batch (a live window's last seconds are still
        filling); None: every second of the batch."""
        counted = batch.of_classes(COUNTED).cells  # the records of other classes add nothing
        totals = counted.totals(COUNTED)
        if until is not None:
            settled = totals.second < np.floor(until)
            if not settled.all():
                totals = totals.where(settled)
        totals = unsolicited(batch, counted, totals)
        if len(totals.second) == 0:
            return []
        hosts, key_of = np.unique(totals.dst, return_inverse=True)
        party = area = None
        if borders is not None:
            party = batch.addresses.party(borders, hosts)
            area = batch.addresses.safe_area(borders, hosts)
        slot = self._host_keys(batch, hosts, borders, party, area)[key_of]
        watched = slot >= 0
        seconds, rows, values = [totals.second[watched]], [slot[watched]], [totals.packets[watched]]
        if borders is not None and area is not None:
            area_of = area[key_of]
            inside = area_of != NO_MATCH
            area_slot = np.full(len(borders.safe_area_ids), -1, dtype=np.int64)
            for a in np.unique(area_of[inside]).tolist():  # one per safe area hit
                area_slot[a] = self._area_key(borders.safe_area_ids[a])
            seconds.append(totals.second[inside])
            rows.append(area_slot[area_of[inside]])
            values.append(totals.packets[inside])
        every = (int(totals.second.min()), int(totals.second.max()))  # quiet keys learn too
        return self._step(
            np.concatenate(seconds),
            np.concatenate(rows).astype(np.int64),
            np.concatenate(values),
            every,
        )

    def _host_keys(
        self,
        batch: Batch,
        hosts: NDArray[np.int64],
        borders: Borders | None,
        party: NDArray[np.int32] | None,
        area: NDArray[np.int32] | None,
    ) -> NDArray[np.int64]:
        """The key of each of ``hosts`` (distinct ids of the batch), new ones added; -1 for a
        host that gets no baseline (outside the borders, or past ``max_hosts``)."""
        packed = batch.addresses.packed(hosts)
        keys = np.full(len(hosts), -1, dtype=np.int64)
        at = np.searchsorted(self._hosts, packed)
        known = at < len(self._hosts)
        known[known] = self._hosts[at[known]] == packed[known]
        keys[known] = self._host_slot[at[known]]
        fresh = ~known
        if party is not None and area is not None:
            fresh &= (party != NO_MATCH) | (area != NO_MATCH)
        room = self.settings.max_hosts - len(self._hosts)
        new = np.flatnonzero(fresh)
        if len(new) > room:
            self.hosts_refused += len(new) - max(room, 0)
            new = new[: max(room, 0)]
        if len(new) == 0:
            return keys
        first = len(self)
        keys[new] = first + np.arange(len(new))
        self._grow(packed[new], _names(borders, party, new, "party"), _names(borders, area, new))
        merged = np.concatenate([self._hosts, packed[new]])
        order = np.argsort(merged, kind="stable")
        self._hosts = merged[order]
        self._host_slot = np.concatenate([self._host_slot, keys[new]])[order]
        return keys

    def _area_key(self, area_id: str) -> int:
        key = self._areas.get(area_id)
        if key is None:
            key = self._areas[area_id] = len(self)
            self._label[key] = f"safe area {area_id}"
            self._grow(np.zeros(1, dtype="S16"), np.array([None]), np.array([area_id]))
        return key

    def _grow(
        self,
        addresses: NDArray[np.bytes_],
        parties: NDArray[np.object_],
        areas: NDArray[np.object_],
    ) -> None:
        self._state = self._state.grown(len(addresses))
        self._address = np.concatenate([self._address, addresses])
        self._party = np.concatenate([self._party, parties])
        self._area_of = np.concatenate([self._area_of, areas])

    def _step(
        self,
        second: NDArray[np.int64],
        slot: NDArray[np.int64],
        pps: F64,
        seconds: tuple[int, int],
    ) -> list[Detection]:
        """Step every key through the ``seconds`` (first, last) of a batch, given the packets/s
        of the keys that had traffic in them."""
        first, last = seconds
        if self._last_second is not None:
            first = max(first, self._last_second + 1)  # seconds already learnt are not again
        if last < first:
            return []
        keep = second >= first
        second, slot, pps = second[keep], slot[keep], pps[keep]
        order = np.argsort(second, kind="stable")
        second, slot, pps = second[order], slot[order], pps[order]
        keys, state, settings = len(self), self._state, self.settings
        held = (
            state.mean,
            state.deviation,
            state.learnt,
            state.run,
            state.raised,
            state.peak,
            state.peak_at,
        )
        steps = (
            settings.learning_s,
            settings.alpha,
            settings.k,
            settings.floor_pps,
            settings.ratio,
            settings.min_duration_s,
        )
        fire = np.zeros(keys, dtype=np.bool_)
        found: list[Detection] = []
        for chunk in range(first, last + 1, _STEP_CHUNK_S):
            span = min(_STEP_CHUNK_S, last + 1 - chunk)
            low, high = np.searchsorted(second, [chunk, chunk + span])
            cell = (second[low:high] - chunk) * keys + slot[low:high]
            sums = np.bincount(cell, pps[low:high], span * keys)
            grid = sums.astype(np.float64, copy=False).reshape(span, keys)
            row = step_pass(grid, 0, chunk, held, fire, steps)
            while row < span:  # a handful of detections, not records
                found += [
                    self._detection(self._name(int(i)), int(i), chunk + row, float(grid[row, i]))
                    for i in np.flatnonzero(fire)
                ]
                fire[:] = False
                row = step_pass(grid, row + 1, chunk, held, fire, steps)
        self._last_second = last
        return found

    def _name(self, key: int) -> str:
        label = self._label.get(key)
        if label is not None:
            return label
        address = ipaddress.IPv6Address(bytes(self._address[key]).ljust(16, bytes(1)))
        return f"host {address.ipv4_mapped or address}"

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
        party, area = self._party[i], self._area_of[i]
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
                "timeline": {  # the rise so far: its first second, highest second and end
                    "start": _iso(second - run + 1),
                    "peak": _iso(int(state.peak_at[i])),
                    "end": _iso(second + 1),
                },
                "baseline": {
                    "of": name,
                    "mean_pps": round(float(mean), 1),
                    "deviation_pps": round(float(deviation), 1),
                    "learnt_s": learnt,
                    "limit_pps": round(float(limit), 1),
                    "k": settings.k,
                    "floor_pps": settings.floor_pps,
                    "ratio": settings.ratio,
                    "counts": "every packet but TCP that acknowledges (established sessions) "
                    "and the answers the host asked for (as many as its requests)",
                    "min_duration_s": settings.min_duration_s,
                },
            },
        )


def _iso(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).isoformat()


def _names(
    borders: Borders | None,
    found: NDArray[np.int32] | None,
    rows: NDArray[np.intp],
    which: str = "safe_area",
) -> NDArray[np.object_]:
    """The party (``which`` "party") or safe area id of each of ``rows`` of ``found`` (an index
    into the borders' ids, or NO_MATCH), None where there is none."""
    names = np.full(len(rows), None, dtype=object)
    if borders is None or found is None:
        return names
    ids = np.array(borders.party_ids if which == "party" else borders.safe_area_ids, dtype=object)
    picked = found[rows]
    inside = picked != NO_MATCH
    names[inside] = ids[picked[inside]]
    return names


def unsolicited(batch: Batch, cells: Cells, totals: DestinationTotals) -> DestinationTotals:
    """``totals`` less the answers each host asked for: per (second, host), the packets of
    UDP from amplifier ports towards it (read off ``cells``, of the batch or of its classes
    ``totals`` counts), up to the packets it sent to amplifier ports in that second (by the
    start of the request's record)."""
    flows = batch.flows
    asks = (flows.protocol == UDP) & (amplifier_marks()[flows.dst_port] != 0)
    if len(totals.second) == 0 or not asks.any():
        return totals
    second = np.floor(flows.start[asks]).astype(np.int64)
    host, sent = flows.src[asks], flows.packets[asks].astype(np.float64)
    first = min(int(second.min()), int(totals.second.min()))
    shift = 1 << 34  # address ids are below 2**33 (addresses.py)
    asked_key, where = np.unique((second - first) * shift + host, return_inverse=True)
    asked = np.bincount(where, sent, len(asked_key))
    key = (totals.second - first) * shift + totals.dst  # ascending: totals are in key order
    at = np.minimum(np.searchsorted(asked_key, key), len(asked_key) - 1)
    credit = np.where(asked_key[at] == key, asked[at], 0.0)
    if not credit.any():
        return totals
    answers = cells.totals((AMPLIFIER,))
    wanted = (answers.second - first) * shift + answers.dst
    found = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
    same = key[found] == wanted
    got = np.zeros(len(key))
    got[found[same]] = answers.packets[same]
    less = np.minimum(credit, got)
    return dataclasses.replace(totals, packets=totals.packets - less)
