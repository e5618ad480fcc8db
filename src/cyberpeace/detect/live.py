"""Live detection: the collector's batches in, new and grown detections out, within seconds.

A ``LiveDetector`` is a collector sink (telemetry/collector.py). Each batch it is given joins a
sliding window of recent flows (``RecentFlows``: ``window_s`` seconds, 120 by default, and at
most ``max_rows`` rows, oldest dropped first and counted), and the detectors (``analyse``) run
over the whole window, so that an episode spanning many batches is seen whole, with its true
start and peak; the adaptive baselines (``baselines.py``) learn every settled second once and
raise when a host or safe area climbs far above its own rate. What they find is reconciled
with what was reported before (``Reported``): a detection of the same detector on the same
target at overlapping times updates its episode instead of repeating it. New and grown
detections go to ``report`` in one call per analysis, so a store can write them in one
transaction.

Threads: the sink call only adds the batch to the window and wakes the analysis thread, so the
collector's sink queue never fills behind a slow analysis. The analysis thread examines the
window as it is when it wakes; batches that arrived meanwhile are all in the next analysis.
Work per analysis is bounded by the window (``window_s`` seconds, at most ``max_rows`` rows:
about 0.3 s for 500,000 rows on one core), whatever the batch rate. When flows come faster than
``max_rows`` per ``window_s``, the window is shorter than ``window_s`` and ``dropped_flows``
says how much was pushed out early; detections over one-second windows (floods) are unaffected,
those over minutes (scans, brute force) see less.

A failing analysis or ``report`` is logged and counted and never stops the detector; updates
``report`` refused are offered again with the next ones.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from cyberpeace.detect import AllowList, Thresholds, analyse
from cyberpeace.detect.baselines import Baselines
from cyberpeace.detect.indicator_hits import Watchlist
from cyberpeace.detect.recent import RecentFlows
from cyberpeace.detect.reported import DetectionUpdate, Reported
from cyberpeace.mission import Borders
from cyberpeace.telemetry.schema import FLOW_SCHEMA, as_flow_schema

__all__ = ["DetectionUpdate", "LiveCounters", "LiveDetector", "ReportUpdates"]

log = logging.getLogger(__name__)

ReportUpdates = Callable[[list[DetectionUpdate]], None]
SETTLE_S = 10.0  # a second's flows have arrived this long after the newest record's start
RETRY_S = 1.0  # after ``report`` failed, wait this long before offering the updates again


@dataclass
class LiveCounters:
    batches: int = 0
    flows: int = 0
    analyses: int = 0
    analysis_errors: int = 0
    report_errors: int = 0
    new: int = 0  # episodes reported for the first time
    updates: int = 0  # later updates of reported episodes
    expired_flows: int = 0  # aged out of the window
    dropped_flows: int = 0  # pushed out by max_rows before they aged out
    window_flows: int = 0  # in the window now
    last_analysis_s: float = 0.0  # how long the latest analysis took
    last_error: str = ""


class LiveDetector:
    """A collector sink that runs the detectors over a sliding window of recent flows."""

    __name__ = "detection"

    def __init__(
        self,
        report: ReportUpdates,
        borders: Borders | None = None,
        thresholds: Thresholds | None = None,
        *,
        allow_list: Iterable[str] | AllowList = (),
        criticality: Mapping[str, str] | None = None,
        window_s: float = 120.0,
        max_rows: int = 500_000,
        update_every: float = 5.0,
        baselines: Baselines | None = None,
        settle_s: float = SETTLE_S,
        watchlist: Callable[[], Watchlist | None] | None = None,
    ) -> None:
        self.report = report
        self.borders = borders
        self.thresholds = thresholds or Thresholds()
        self.allow_list = allow_list if isinstance(allow_list, AllowList) else AllowList(allow_list)
        self.criticality = dict(criticality or {})
        self.update_every = update_every
        # Baselines learn each second once: those ``settle_s`` older than the window's newest
        # record, whose flows have (nearly all) arrived.
        self.baselines = baselines if baselines is not None else Baselines()
        self.settle_s = settle_s
        # The indicators to watch, asked for before each analysis (the store's change).
        self.watchlist = watchlist
        self._recent = RecentFlows(window_s, max_rows)
        self._reported = Reported(self.thresholds.episode_gap_s, window_s)
        self._counters = LiveCounters()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._arrived = 0  # batches given, and batches examined (guarded by the lock)
        self._examined = 0
        self._closing = False
        self._retry_at = 0.0  # after a failed report (the analysis thread's own)
        self._thread = threading.Thread(target=self._run, name="live detection", daemon=True)
        self._thread.start()

    def __call__(self, flows: pa.Table) -> None:
        """Take a batch of FLOW_SCHEMA flows (the collector's sink thread calls this)."""
        flows = _flow_table(flows)
        with self._lock:
            if self._closing:
                raise RuntimeError("the live detector is closed")
            self._recent.add(flows)
            self._arrived += 1
            self._counters.batches += 1
            self._counters.flows += flows.num_rows
            self._wake.notify_all()

    def counters(self) -> LiveCounters:
        with self._lock:
            counters = dataclasses.replace(self._counters)
            counters.expired_flows = self._recent.expired
            counters.dropped_flows = self._recent.dropped
            counters.window_flows = self._recent.rows
        return counters

    def drain(self, timeout: float = 10.0) -> None:
        """Return once every batch given so far has been examined and its updates reported."""
        deadline = time.monotonic() + timeout
        with self._lock:
            wanted = self._arrived
            while self._examined < wanted:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    raise TimeoutError(f"batches not examined within {timeout} s")
                self._wake.wait(left)

    def close(self, timeout: float = 10.0) -> None:
        """Examine what is left, report every change not yet told, and stop."""
        with self._lock:
            self._closing = True
            self._wake.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("live detection did not finish within %s s", timeout)

    def __enter__(self) -> LiveDetector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the analysis thread --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._examined == self._arrived and not self._closing:
                    due = self._reported.next_due(self.update_every)
                    due = None if due is None else max(due, self._retry_at)
                    if due is not None and due <= time.monotonic():
                        break
                    self._wake.wait(None if due is None else due - time.monotonic())
                closing, arrived = self._closing, self._arrived
                window = self._recent.table() if arrived > self._examined else None
            if window is not None:
                self._analyse(window)
            self._tell(everything=closing)
            with self._lock:
                self._examined = arrived
                self._wake.notify_all()
                if closing and self._examined == self._arrived:
                    return

    def _analyse(self, window: pa.Table) -> None:
        started = time.perf_counter()
        try:
            found = analyse(
                window,
                self.borders,
                self.thresholds,
                allow_list=self.allow_list,
                criticality=self.criticality,
                baselines=self.baselines,
                baselines_until=_newest(window) - self.settle_s,
                indicators=self.watchlist() if self.watchlist is not None else None,
            )
        except Exception as error:  # a bug must not stop live detection
            self._failed("analysis_errors", error, f"analysing {window.num_rows} flows")
            return
        self._reported.absorb(found.detections)
        with self._lock:
            self._counters.analyses += 1
            self._counters.last_analysis_s = time.perf_counter() - started

    def _tell(self, everything: bool) -> None:
        now = time.monotonic()
        updates = self._reported.pending(now, self.update_every, everything)
        if not updates:
            return
        try:
            self.report(updates)
        except Exception as error:  # offered again with the next updates
            self._failed("report_errors", error, f"reporting {len(updates)} updates")
            self._retry_at = now + RETRY_S
            return
        self._retry_at = 0.0
        self._reported.told(updates, now)
        new = sum(u.new for u in updates)
        with self._lock:
            self._counters.new += new
            self._counters.updates += len(updates) - new

    def _failed(self, counter: str, error: Exception, doing: str) -> None:
        with self._lock:
            first = getattr(self._counters, counter) == 0
            setattr(self._counters, counter, getattr(self._counters, counter) + 1)
            self._counters.last_error = f"{type(error).__name__}: {error}"
        log.warning("live detection: %s failed: %r", doing, error, exc_info=first)


def _newest(window: pa.Table) -> float:
    """The latest start of a record in the window, in seconds since the epoch."""
    if window.num_rows == 0:
        return 0.0
    latest = pc.max(window.column("start").cast(pa.int64())).as_py()
    return 0.0 if latest is None else float(latest) / 1e6


def _flow_table(flows: object) -> pa.Table:
    """``flows`` as a table of exactly FLOW_SCHEMA (the window's batches are joined as chunks)."""
    if not isinstance(flows, pa.Table):
        raise TypeError(f"a live detector takes pa.Table batches, not {type(flows).__name__}")
    if flows.schema.equals(FLOW_SCHEMA):
        return flows
    try:
        return as_flow_schema(flows)
    except (KeyError, ValueError, pa.ArrowException) as error:
        raise TypeError(f"flows are not of the Flow schema: {error}") from None
