"""Responding as detections arrive: the sensor's ``--respond`` (opt-in).

Wraps the live detector's recorder: once a batch of updates is stored, each updated detection
is planned against (``lifecycle.respond``) and what needs no human under the rules of
engagement (the mission's own edge) is enforced at once, by the sweeper's enforcers; the rest
waits for approval in the console. A detection seen again as the attack goes on renews and
widens the same actions (their dedup key), so a flood of updates stays one action per match.
Planning never costs a detection: its errors are logged, the detections stay stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from cyberpeace.detect.reported import DetectionUpdate
from cyberpeace.mission import Mandate
from cyberpeace.respond.attack import Attack
from cyberpeace.respond.lifecycle import Outcome, respond
from cyberpeace.respond.planner import PlanContext
from cyberpeace.respond.sweeper import Sweeper
from cyberpeace.store import SYSTEM, Store, get_detection
from cyberpeace.store.recorder import DetectionRecorder

log = logging.getLogger("cyberpeace.respond.auto")


class AutoResponder:
    """A ``report`` for the live detector: record, plan, enforce what is automatic."""

    def __init__(
        self, recorder: DetectionRecorder, store: Store, mandate: Mandate, sweeper: Sweeper
    ) -> None:
        self.recorder, self.store, self.mandate, self.sweeper = recorder, store, mandate, sweeper
        self.outcomes: list[Outcome] = []  # the latest few, for the counters and tests

    def __call__(self, updates: Sequence[DetectionUpdate]) -> None:
        self.recorder(updates)  # raises when the store refuses: the detector offers them again
        ids = {self.recorder.detection_id(u.episode) for u in updates}
        try:
            outcome, enforce = self._plan(sorted(i for i in ids if i is not None))
        except Exception:  # logged with its traceback; the detections are safe in the store
            log.exception("planning against %d detections failed", len(ids))
            return
        self.outcomes = [*self.outcomes[-99:], outcome]
        if enforce:
            self.sweeper.sweep()

    def _plan(self, detection_ids: list[int]) -> tuple[Outcome, bool]:
        """The outcome, and whether anything is now due enforcement (approved, or renewed
        while in force: a longer timeout, more sources)."""
        now = datetime.now(UTC)
        with self.store.session() as session:
            attacks = [
                Attack.from_detection(get_detection(session, SYSTEM, i)) for i in detection_ids
            ]
            outcome = respond(session, attacks, PlanContext.of(self.mandate, now))
            for row in outcome.created:
                log.info("action %s proposed: %s %s (%s)", row.id, row.kind, row.target, row.status)
            due = [r for r in [*outcome.created, *outcome.renewed] if r.next_attempt_at]
            return outcome, bool(due)
