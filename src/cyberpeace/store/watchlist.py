"""The store's address and network indicators as the detectors' watchlist, kept fresh.

``watchlist`` reads every indicator still valid at ``now`` (``valid_until`` unset or later)
whose value is an IPv4 or IPv6 address or network; ``StoreWatchlist`` is what the live sensor
asks before each analysis: the list read at most every ``refresh_s`` seconds, so indicators a
party or a TAXII pull adds are watched within that time without a query per batch.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cyberpeace.detect.indicator_hits import Indicator, Watchlist
from cyberpeace.store.database import Store
from cyberpeace.store.tables import IndicatorRow

log = logging.getLogger(__name__)


def watchlist(session: Session, now: datetime | None = None) -> Watchlist:
    """The indicators valid at ``now`` that are addresses or networks."""
    moment = now or datetime.now(UTC)
    rows = session.execute(
        select(IndicatorRow.value, IndicatorRow.source, IndicatorRow.tlp)
        .where(or_(IndicatorRow.valid_until.is_(None), IndicatorRow.valid_until > moment))
        .where(IndicatorRow.valid_from <= moment)
        .order_by(IndicatorRow.id)
    ).all()
    return Watchlist(Indicator(value, source, tlp) for value, source, tlp in rows)


class StoreWatchlist:
    """A callable giving the store's watchlist, re-read at most every ``refresh_s`` seconds."""

    def __init__(self, store: Store, refresh_s: float = 60.0) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._current: Watchlist | None = None
        self._read_at = float("-inf")

    def __call__(self) -> Watchlist | None:
        with self._lock:
            if time.monotonic() - self._read_at >= self.refresh_s:
                try:
                    with self.store.session() as session:
                        self._current = watchlist(session)
                except Exception as error:  # keep the last list; detection goes on
                    log.warning("indicators not re-read from the store: %s", error)
                self._read_at = time.monotonic()
            return self._current
