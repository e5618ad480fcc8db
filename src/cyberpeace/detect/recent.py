"""The recent flows a live detector examines: a sliding buffer bounded by age and by rows.

Batches are kept whole, in arrival order, with the (monotonic) time they arrived. A batch older
than ``seconds`` expires; when more than ``max_rows`` rows are held, the oldest rows go first
(a batch is sliced, not copied). Both are counted: expiry is the window sliding on, a drop means
the window held less than ``seconds`` because flows came faster than ``max_rows`` allows.

Age counts from arrival, not from the records' own times: an exporter's clock cannot make the
buffer keep or lose anything, and a record that arrives late (a long flow cut at its active
timeout) is still examined with the flows that arrived around it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from cyberpeace.telemetry.schema import FLOW_SCHEMA


@dataclass
class _Held:
    arrived: float
    table: pa.Table


class RecentFlows:
    """FLOW_SCHEMA batches of the last ``seconds``, at most ``max_rows`` rows in all."""

    def __init__(
        self,
        seconds: float,
        max_rows: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds <= 0 or max_rows < 1:
            raise ValueError("a window needs seconds > 0 and max_rows >= 1")
        self.seconds = seconds
        self.max_rows = max_rows
        self._clock = clock
        self._held: deque[_Held] = deque()
        self.rows = 0
        self.expired = 0  # rows that aged out of the window
        self.dropped = 0  # rows pushed out by max_rows before they aged out

    def add(self, flows: pa.Table) -> None:
        """Hold a batch (its newest ``max_rows`` rows, if it alone is larger)."""
        if flows.num_rows == 0:
            return
        if flows.num_rows > self.max_rows:
            self.dropped += flows.num_rows - self.max_rows
            flows = flows.slice(flows.num_rows - self.max_rows)
        self._held.append(_Held(self._clock(), flows))
        self.rows += flows.num_rows
        self._trim()

    def table(self) -> pa.Table:
        """Every row held, oldest first, as one table (the batches' chunks, not a copy)."""
        self._trim()
        if not self._held:
            return FLOW_SCHEMA.empty_table()
        return pa.concat_tables([held.table for held in self._held])

    def _trim(self) -> None:
        oldest = self._clock() - self.seconds
        while self._held and self._held[0].arrived < oldest:
            gone = self._held.popleft().table.num_rows
            self.rows -= gone
            self.expired += gone
        while self.rows > self.max_rows:
            first = self._held[0]
            excess = self.rows - self.max_rows
            if excess >= first.table.num_rows:
                self._held.popleft()
                excess = first.table.num_rows
            else:
                first.table = first.table.slice(excess)
            self.rows -= excess
            self.dropped += excess
