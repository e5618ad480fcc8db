"""The correlation index of one case store, kept up to date with the rows added since it was built.

Each side is loaded from its saved ``.npy`` columns when there are any (else read from the store)
and extended with the rows whose id is above the last one it holds. Extending re-sorts the side,
a few seconds at ten million rows, so a large side is refreshed at most once per
``refresh_after`` seconds: its correlations may miss the newest rows for that long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from cyberpeace.correlation.index import (
    Columns,
    CorrelationIndex,
    Side,
    extended,
    last_row,
    load_side,
    save_side,
)
from cyberpeace.correlation.store_columns import incident_columns, intelligence_columns

SMALL = 200_000  # rows a side may have and still be refreshed on every use
Reader = Callable[[Session, int], Columns]


def _intelligence(session: Session, after: int) -> Columns:
    return intelligence_columns(session, after).columns


class Correlator:
    def __init__(self, directory: Path | None = None, *, refresh_after: float = 30.0) -> None:
        self.directory = directory
        self.refresh_after = refresh_after
        self._sides: dict[str, Side] = {}
        self._refreshed: dict[str, float] = {}
        self._lock = threading.Lock()

    def index(self, session: Session) -> CorrelationIndex:
        return CorrelationIndex(self.incidents(session), self.intelligence(session))

    def incidents(self, session: Session) -> Side:
        return self._side(session, "incidents", incident_columns)

    def intelligence(self, session: Session) -> Side:
        return self._side(session, "intelligence", _intelligence)

    def _side(self, session: Session, name: str, read: Reader) -> Side:
        with self._lock:
            side = self._sides.get(name)
            if side is None and self.directory is not None:
                side = load_side(self.directory, name)
            if side is None:
                side = Side.build(Columns.empty())
            recent = time.monotonic() - self._refreshed.get(name, -1e9) < self.refresh_after
            if len(side.columns) <= SMALL or not recent:
                fresh = extended(side, read(session, last_row(side.columns)))
                self._refreshed[name] = time.monotonic()
                if fresh is not side and self.directory is not None:
                    save_side(fresh, self.directory, name)
                side = fresh
            self._sides[name] = side
            return side
