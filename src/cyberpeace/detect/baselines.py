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
For the same reason it leaves out answers the host asked for (``less_pass``): UDP from an
amplifier port (data/amplifiers.yaml) towards a host, up to as many packets as the host sent to
such ports in that second. A resolver whose cache is empty after a restart, or a monitor polling
SNMP, gets many more answers because it asks many more questions; a reflection victim asked
nothing, so its flood counts whole.

The caller keeps one ``Baselines`` and hands it every batch in time order; the state (means,
deviations, seconds learnt, current runs) carries from batch to batch. Work per batch is two
compiled passes (``baseline_kernel.py``), a few seconds at a time so that memory is bounded by
the keys, not by the batch's length: the records of the counted classes (on an ordinary
network four in five records are established TCP and are not read) towards watched hosts
(with borders, found per record by the prefix tables before anything else) add their packets
to a grid of (key, second); then every key with traffic in the span steps through its
seconds, and the others' quiet seconds are taken at once when they next have traffic or the
batch ends. A batch's hosts are numbered by hashing and found among the known ones by one
sorted look-up, not one per host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.detect.addresses import V6_BASE
from cyberpeace.detect.baseline_kernel import (
    StateArrays,
    asks_pass,
    caught_up_pass,
    less_pass,
    rates_pass,
    step_pass,
    watched_pass,
)
from cyberpeace.detect.cell_kernel import CLASS_BITS
from cyberpeace.detect.cells import ALL_CLASSES, AMPLIFIER, TCP_ACK, amplifier_marks, of_classes
from cyberpeace.detect.detection import Detection
from cyberpeace.detect.hash_groups import numbered
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
_COUNTED_MARKS = of_classes(np.arange(1 << CLASS_BITS, dtype=np.uint8), COUNTED)
_NO_BORDERS_V4 = np.zeros(1, np.uint64)  # Borders.inside_v4's type, without borders: not read


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

    def arrays(self) -> StateArrays:
        """The state's arrays in the order the kernels take them."""
        return (
            self.mean,
            self.deviation,
            self.learnt,
            self.run,
            self.raised,
            self.peak,
            self.peak_at,
        )

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


_STEP_CHUNK_S = 8  # seconds stepped at once: memory is chunk x keys, not batch x keys
_POWERS = 4_096  # quiet seconds whose decay is looked up, not computed


@dataclass(frozen=True)
class _Asks:
    """Questions to amplifier ports from hosts with a column of rates: the columns that ask
    (``column``, their safe area's column ``area`` or -1, and ``column_of``: per column, its
    index among them or -1), and each question's second (of its start), asker and packets."""

    column_of: NDArray[np.int64]
    column: NDArray[np.int64]
    area: NDArray[np.int64]
    second: NDArray[np.int64]
    ask: NDArray[np.int64]
    packets: F64

    @classmethod
    def none(cls, width: int) -> _Asks:
        nothing = np.zeros(0, dtype=np.int64)
        column_of = np.full(width, -1, dtype=np.int64)
        return cls(column_of, nothing, nothing, nothing, nothing, np.zeros(0))

    @property
    def count(self) -> int:
        return len(self.column)

    def answers(self, span: int) -> F64:
        """A grid for the answers towards the askers in ``span`` seconds."""
        return np.zeros((span, self.count))

    def asked(self, first: int, span: int) -> F64:
        """The packets each asker sent in each of the ``span`` seconds from ``first``."""
        inside = (self.second >= first) & (self.second < first + span)
        cell = (self.second[inside] - first) * self.count + self.ask[inside]
        sums = np.bincount(cell, self.packets[inside], span * self.count)
        asked: F64 = sums.astype(np.float64, copy=False).reshape(span, self.count)
        return asked


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
        flows = batch.flows
        # Without borders every host may have a baseline; with, those inside, found per record
        # before any numbering (the internet's clients cost a look-up, not a hash entry).
        v4, v6 = _NO_BORDERS_V4, (V6_BASE, np.zeros(0, dtype=np.bool_))
        if borders is not None:
            v4 = borders.inside_v4
            v6 = (V6_BASE, _v6_watched(batch, borders))
        (start, end, dst, packets), answer, long, (first, last) = watched_pass(
            batch.classes,
            (_COUNTED_MARKS, AMPLIFIER),
            (flows.start, flows.end, flows.dst, flows.packets),
            v4,
            v6,
            borders is None,
        )
        if first < 0:  # no record of a counted class
            return []
        if until is not None:
            last = min(last, int(np.floor(until)) - 1)
        if self._last_second is not None:
            first = max(first, self._last_second + 1)  # seconds already learnt are not again
        if last < first:
            return []
        hosts, record_host = numbered(dst)
        column, area_column = self._columns(batch, hosts, borders)
        asks = self._asks(batch, hosts, column, area_column)
        long_first = np.floor(start[long])
        long_stop = np.maximum(np.ceil(end[long]), long_first + 1)
        width = max(int(column.max(initial=-1)) + 1, len(self))
        grid = np.zeros((width, min(_STEP_CHUNK_S, last + 1 - first)))
        since = np.full(len(self), first, dtype=np.int64)  # each key's first second not stepped
        mark, touched = np.full(width, first - 1, dtype=np.int64), np.empty(width, dtype=np.int64)
        powers = (1.0 - self.settings.alpha) ** np.arange(_POWERS, dtype=np.float64)
        found: list[Detection] = []
        for chunk in range(first, last + 1, _STEP_CHUNK_S):
            span = min(_STEP_CHUNK_S, last + 1 - chunk)
            low, high = np.searchsorted(start, [chunk - 1, chunk + span])
            overlapping = (long_first < chunk + span) & (long_stop > chunk)
            answers = asks.answers(span)
            count = rates_pass(
                start,
                end,
                packets,
                (record_host, column, area_column, answer, asks.column_of),
                (int(low), int(high), long[overlapping]),
                (chunk, span),
                grid,
                answers,
                (mark, touched),
            )
            if asks.count:
                asked = asks.asked(chunk, span)
                less_pass(grid, answers, asked, asks.column, asks.area)
            found += self._stepped(grid, touched[:count], (chunk, span), since, powers)
        caught_up_pass(self._state.arrays(), since, last + 1, self.settings.alpha, powers)
        self._last_second = last
        return found

    def _columns(
        self, batch: Batch, hosts: NDArray[np.int64], borders: Borders | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """For each of ``hosts``, the column of its rates (its key; -1: none) and that of its
        safe area (-1: none), new keys added. A host of a safe area without a key (past
        ``max_hosts``) still counts towards its area: it gets a spare column after the keys,
        which no step reads."""
        party = area = None
        if borders is not None:
            party = batch.addresses.party(borders, hosts)
            area = batch.addresses.safe_area(borders, hosts)
        column = self._host_keys(batch, hosts, borders, party, area)
        area_column = np.full(len(hosts), -1, dtype=np.int64)
        if borders is None or area is None:
            return column, area_column
        inside = area != NO_MATCH
        area_key = np.full(len(borders.safe_area_ids), -1, dtype=np.int64)
        for a in np.unique(area[inside]).tolist():  # one per safe area hit
            area_key[a] = self._area_key(borders.safe_area_ids[a])
        area_column[inside] = area_key[area[inside]]
        spare = inside & (column < 0)
        column[spare] = len(self) + np.arange(int(spare.sum()))
        return column, area_column

    def _asks(
        self,
        batch: Batch,
        hosts: NDArray[np.int64],
        column: NDArray[np.int64],
        area_column: NDArray[np.int64],
    ) -> _Asks:
        """The questions the batch's hosts with a column sent to amplifier ports."""
        flows = batch.flows
        held = np.flatnonzero(column >= 0)
        width = max(int(column.max(initial=-1)) + 1, len(self))
        if len(held) == 0:
            return _Asks.none(width)
        asks, sender = asks_pass(
            flows.protocol, flows.dst_port, flows.src, (UDP, amplifier_marks()), hosts[held]
        )
        if len(asks) == 0:
            return _Asks.none(width)
        asker = held[sender]
        asking = np.unique(column[asker])
        column_of = np.full(width, -1, dtype=np.int64)
        column_of[asking] = np.arange(len(asking))
        area_of = np.full(width, -1, dtype=np.int64)
        area_of[column[held]] = area_column[held]
        return _Asks(
            column_of=column_of,
            column=asking,
            area=area_of[asking],
            second=np.floor(flows.start[asks]).astype(np.int64),
            ask=column_of[column[asker]],
            packets=flows.packets[asks].astype(np.float64),
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

    def _stepped(
        self,
        rates: F64,
        touched: NDArray[np.int64],
        seconds: tuple[int, int],
        since: NDArray[np.int64],
        powers: F64,
    ) -> list[Detection]:
        """Step the ``touched`` keys through their ``rates`` of the ``span`` seconds from
        ``first`` (``seconds``), clearing them, describing each key that fires."""
        settings = self.settings
        held = self._state.arrays()
        steps = (
            settings.learning_s,
            settings.alpha,
            settings.k,
            settings.floor_pps,
            settings.ratio,
            settings.min_duration_s,
        )
        first, span = seconds
        fire = np.zeros(1)
        found: list[Detection] = []
        done = len(touched) * span
        at = step_pass(rates, touched, 0, seconds, held, since, fire, steps, powers)
        while at < done:  # a handful of detections, not records
            key = int(touched[at // span])
            found.append(self._detection(self._name(key), key, first + at % span, float(fire[0])))
            at = step_pass(rates, touched, at + 1, seconds, held, since, fire, steps, powers)
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


def _v6_watched(batch: Batch, borders: Borders) -> NDArray[np.bool_]:
    """Whether a party's territory or a safe area holds each IPv6 address of the batch."""
    ids = V6_BASE + np.arange(len(batch.addresses), dtype=np.int64)
    party = batch.addresses.party(borders, ids)
    area = batch.addresses.safe_area(borders, ids)
    held: NDArray[np.bool_] = (party != NO_MATCH) | (area != NO_MATCH)
    return held


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
