"""Enforcement: bring what is in force in line with the actions' status.

Run after each decision and on a timer (``cyberpeace actions expire`` runs it too). Enforcers
are called outside any database transaction (a slow router must not hold the store), each
action in three steps: read it, enforce, record. A failure marks the action failed with the
error, undoes what part of it was applied (nothing is left half-applied silently), raises an
alert and schedules a retry with exponential back-off; after the policy's last attempt it
stays failed, with a final alert, until a human acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from cyberpeace.respond.action import Action
from cyberpeace.respond.policy import Policy, policy
from cyberpeace.respond.registry import Enforcer, serving
from cyberpeace.store import Store, audit
from cyberpeace.store.tables import ActionRow

log = logging.getLogger("cyberpeace.respond")
ACTOR = "system:enforcement"


@dataclass(frozen=True)
class Alert:
    action_id: int
    kind: str
    message: str
    final: bool = False


@dataclass
class Reconciled:
    applied: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def _log_alert(alert: Alert) -> None:
    log.error("action %s (%s): %s", alert.action_id, alert.kind, alert.message)


def reconcile(
    store: Store,
    enforcers: Mapping[str, Enforcer],
    now: datetime,
    *,
    limits: Policy | None = None,
    alert: Callable[[Alert], None] = _log_alert,
) -> Reconciled:
    """Apply what is approved or due a retry; remove what ended but is still in force."""
    limits = limits or policy()
    done = Reconciled()
    with store.session() as session:
        due = session.scalars(
            select(ActionRow)
            .where(
                ActionRow.next_attempt_at <= now,
                or_(
                    ActionRow.status.in_(("approved", "applied", "failed")),
                    ActionRow.in_force.is_(True),
                ),
            )
            .order_by(ActionRow.id)
        ).all()
        work = [(_action(r), r.status, bool(r.in_force)) for r in due]
    for action, status, in_force in work:
        if status in ("approved", "applied", "failed"):
            _apply(store, enforcers, action, in_force, now, limits, alert, done)
        else:
            _remove(store, enforcers, action, now, limits, alert, done)
    return done


def _action(row: ActionRow) -> Action:
    assert row.expires_at is not None
    return Action(
        row.id,
        row.kind,
        row.target or "",
        dict(row.parameters),
        row.expires_at,
        row.party_id,
        row.incident_id,
    )


def _apply(
    store: Store,
    enforcers: Mapping[str, Enforcer],
    action: Action,
    in_force: bool,
    now: datetime,
    limits: Policy,
    alert: Callable[[Alert], None],
    done: Reconciled,
) -> None:
    chosen = serving(enforcers, action.kind)
    applied, error = [], ""
    if not chosen:
        error = f"no registered enforcer serves {action.kind}"
    for enforcer in chosen:
        try:
            applied.append(enforcer.apply(action))
        except Exception as exc:  # any enforcer failure: record it, undo, retry
            error = f"{enforcer.name}: {exc}"
            if not in_force:  # undo the part that was applied; a renewal keeps the old rule
                error += _undo(
                    [
                        e
                        for e in chosen
                        if e.name in {a.enforcer for a in applied} | {enforcer.name}
                    ],
                    action,
                )
            break
    with store.session() as session:
        row = session.get(ActionRow, action.id)
        assert row is not None
        if not error:
            row.status, row.in_force, row.attempts = "applied", True, 0
            row.enforcement = [{"enforcer": a.enforcer, **a.detail} for a in applied]
            row.next_attempt_at, row.last_error, row.updated_at = None, None, now
            audit.append(
                session,
                ACTOR,
                "action.apply",
                f"action:{action.id}",
                {"enforcers": [a.enforcer for a in applied]},
            )
            done.applied.append(action.id)
            return
        _failed(session, row, error, now, limits, alert, done, "apply")


def _remove(
    store: Store,
    enforcers: Mapping[str, Enforcer],
    action: Action,
    now: datetime,
    limits: Policy,
    alert: Callable[[Alert], None],
    done: Reconciled,
) -> None:
    errors = []
    for enforcer in serving(enforcers, action.kind):
        try:
            enforcer.remove(action)
        except Exception as exc:  # keep trying the others; the action stays in force
            errors.append(f"{enforcer.name}: {exc}")
    with store.session() as session:
        row = session.get(ActionRow, action.id)
        assert row is not None
        if not errors:
            row.in_force, row.next_attempt_at, row.attempts = False, None, 0
            row.last_error, row.updated_at = None, now
            audit.append(
                session, ACTOR, "action.remove", f"action:{action.id}", {"status": row.status}
            )
            done.removed.append(action.id)
            return
        _failed(session, row, "; ".join(errors), now, limits, alert, done, "remove")


def _undo(enforcers: list[Enforcer], action: Action) -> str:
    problems = []
    for enforcer in enforcers:
        try:
            enforcer.remove(action)
        except Exception as exc:  # reported with the failure, never hidden
            problems.append(f"{enforcer.name}: {exc}")
    if problems:
        return "; undoing the partial apply also failed: " + "; ".join(problems)
    return "; the partial apply was undone"


def _failed(
    session: object,
    row: ActionRow,
    error: str,
    now: datetime,
    limits: Policy,
    alert: Callable[[Alert], None],
    done: Reconciled,
    step: str,
) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    attempts = (row.attempts or 0) + 1
    final = attempts >= limits.retry.attempts
    row.attempts, row.last_error, row.updated_at = attempts, error, now
    if step == "apply" and row.status != "applied":
        row.status = "failed"
    row.next_attempt_at = None if final else now + limits.retry.delay(attempts)
    retry = "no more retries" if final else f"retry at {row.next_attempt_at.isoformat()}"  # type: ignore[union-attr]
    message = f"{step} failed (attempt {attempts}): {error}; {retry}"
    audit.append(
        session,
        ACTOR,
        "action.fail",
        f"action:{row.id}",
        {"step": step, "attempt": attempts, "error": error, "retry_at": row.next_attempt_at},
    )
    audit.append(session, ACTOR, "action.alert", f"action:{row.id}", {"message": message})
    found = Alert(row.id, row.kind, message, final)
    done.failed.append(row.id)
    done.alerts.append(found)
    alert(found)
