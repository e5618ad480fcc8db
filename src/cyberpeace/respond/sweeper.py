"""The expiry sweep on a timer: a thread that keeps what is in force in line with the actions.

Every ``interval`` seconds it expires the actions whose time is up, takes expired and revoked
ones out of force (nft set elements deleted, ExaBGP routes withdrawn) and applies approved ones
and failed ones whose retry is due (``enforcement.reconcile``: exponential back-off, an alert
per failure, in the audit log). nftables elements also carry their own kernel timeouts, so they
lapse even while the sweeper is stopped; the action's status still moves to expired here.

It keeps one set of enforcers for its lifetime, so an enforcer's own state (the routes ExaBGP
was told about) survives from one pass to the next. A pass that raises is logged and the next
one runs as usual: the sweeper never dies of one bad pass.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping

from cyberpeace.config import Settings
from cyberpeace.respond.enforcement import Alert, Reconciled
from cyberpeace.respond.registry import Enforcer
from cyberpeace.respond.setup import enforce_now, enforcers_for
from cyberpeace.store import Store

log = logging.getLogger("cyberpeace.respond.sweeper")


def _log_alert(alert: Alert) -> None:
    final = " (no more retries: a human must act)" if alert.final else ""
    log.error("ALERT action %s (%s): %s%s", alert.action_id, alert.kind, alert.message, final)


class Sweeper:
    """Runs ``enforce_now`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        interval: float,
        *,
        enforcers: Mapping[str, Enforcer] | None = None,
        alert: Callable[[Alert], None] = _log_alert,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"sweep interval must be above 0 seconds, not {interval}")
        self.store, self.settings, self.interval = store, settings, interval
        self.enforcers = dict(enforcers) if enforcers is not None else enforcers_for(settings)
        self.alert = alert
        self.passes = 0
        self._stop = threading.Event()
        self._passing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="cyberpeace-sweeper", daemon=True)

    def sweep(self) -> Reconciled:
        """One pass, now (one at a time: the timer and a caller may both ask)."""
        with self._passing:
            done = enforce_now(self.store, self.settings, self.enforcers, self.alert)
            self.passes += 1
            return done

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:  # logged with its traceback; the next pass runs all the same
                log.exception("action sweep failed; next pass in %g s", self.interval)


@contextlib.contextmanager
def sweeping(store: Store, settings: Settings) -> Iterator[Sweeper | None]:
    """The sweeper the settings ask for (``action_sweep_seconds``; 0: none), while inside."""
    if settings.action_sweep_seconds <= 0:
        yield None
        return
    sweeper = Sweeper(store, settings, settings.action_sweep_seconds).start()
    try:
        yield sweeper
    finally:
        sweeper.stop()
