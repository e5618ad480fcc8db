"""The action lifecycle in the case store, each step in the hash-chained audit log.

proposed -> approved -> applied -> expired | revoked; proposed -> rejected; approved or a
renewal that cannot be enforced -> failed (retried, see ``enforcement.py``). Approvals come
from distinct mission staff; the rules of engagement say how many. A flood of detections of one
attack renews (and, where safe, widens) one action instead of creating many: actions carry a
dedup key (kind, target, match) and an open action with the same key absorbs the new proposal.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.respond.action import OPEN, Proposal
from cyberpeace.respond.attack import Attack
from cyberpeace.respond.planner import PlanContext, plan
from cyberpeace.respond.safeguards import Judgement, judge
from cyberpeace.store import audit
from cyberpeace.store.access import Forbidden, NotFound, Viewer
from cyberpeace.store.incidents import InvalidTransition
from cyberpeace.store.tables import ActionRow

SYSTEM_ACTOR = "system:respond"


@dataclass
class Outcome:
    """What planning did: new actions, renewed ones, and the proposals refused (with why)."""

    created: list[ActionRow] = field(default_factory=list)
    renewed: list[ActionRow] = field(default_factory=list)
    refused: list[tuple[Proposal, Judgement]] = field(default_factory=list)
    judged: list[tuple[Proposal, Judgement]] = field(default_factory=list)
    dry_run: bool = False


def respond(
    session: Session,
    attacks: list[Attack],
    context: PlanContext,
    *,
    baseline: pa.Table | None = None,
    dry_run: bool = False,
    actor: str = SYSTEM_ACTOR,
) -> Outcome:
    """Plan against each attack, judge each proposal, and record the actions (unless dry run)."""
    outcome = Outcome(dry_run=dry_run)
    for attack in attacks:
        for proposal in plan(attack, context):
            judgement = judge(proposal, attack, context, baseline)
            outcome.judged.append((proposal, judgement))
            if judgement.refused:
                outcome.refused.append((proposal, judgement))
                if not dry_run:
                    audit.append(
                        session,
                        actor,
                        "action.refused",
                        f"target:{proposal.target}",
                        {"kind": proposal.kind, "reasons": judgement.reasons},
                    )
                continue
            if dry_run:
                continue
            existing = _open_with_key(session, proposal.dedup_key)
            renewed = existing and _renew(session, existing, proposal, judgement, context, actor)
            if renewed and existing is not None:
                outcome.renewed.append(existing)
            else:
                outcome.created.append(_create(session, proposal, judgement, context, actor))
    return outcome


def _open_with_key(session: Session, key: str) -> ActionRow | None:
    query = select(ActionRow).where(ActionRow.dedup_key == key, ActionRow.status.in_(OPEN))
    return session.scalars(query.order_by(ActionRow.id.desc())).first()


def _create(
    session: Session, proposal: Proposal, judgement: Judgement, context: PlanContext, actor: str
) -> ActionRow:
    automatic = judgement.approvals_needed == 0
    row = ActionRow(
        incident_id=proposal.incident_id,
        detection_id=proposal.detection_id,
        kind=proposal.kind,
        status="approved" if automatic else "proposed",
        parameters=proposal.parameters,
        safeguards=[c.as_record() for c in judgement.checks],
        proposed_at=context.now,
        expires_at=judgement.expires_at,
        target=proposal.target,
        party_id=proposal.party,
        dedup_key=proposal.dedup_key,
        reason=proposal.reason,
        approvals_needed=judgement.approvals_needed,
        approvals=[],
        status_reason="automatic under the rules of engagement" if automatic else "",
        in_force=False,
        attempts=0,
        next_attempt_at=context.now if automatic else None,
        enforcement=[],
        updated_at=context.now,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor,
        "action.propose",
        f"action:{row.id}",
        {
            "kind": row.kind,
            "target": row.target,
            "reason": proposal.reason,
            "approvals_needed": row.approvals_needed,
            "expires_at": row.expires_at,
            "safeguards": {c.name: c.result for c in judgement.checks},
            "detection": proposal.detection_id,
            "incident": proposal.incident_id,
        },
    )
    if automatic:
        audit.append(
            session,
            actor,
            "action.approve",
            f"action:{row.id}",
            {"reason": row.status_reason, "approvals": 0},
        )
    return row


def _renew(
    session: Session,
    row: ActionRow,
    proposal: Proposal,
    judgement: Judgement,
    context: PlanContext,
    actor: str,
) -> bool:
    """Extend (and for source sets needing no approval, widen) an open action; False when the
    new proposal asks for more than the existing action was approved for."""
    new_sources = set(proposal.parameters.get("sources") or [])
    old_sources = set(row.parameters.get("sources") or [])
    widened = sorted(new_sources - _covered(old_sources, new_sources))
    # Until a human has approved any of it, a gated action may grow: they decide on it whole.
    decided = (row.approvals_needed or 0) > 0 and (row.status != "proposed" or row.approvals)
    if widened and decided:
        return False  # more than the humans approved: a new action, for them to decide
    parameters = dict(row.parameters)
    if widened:
        # A new prefix may hold old single sources: keep the prefix only, or nft refuses the
        # overlapping intervals (and one match per address is the narrower record anyway).
        union = old_sources | set(widened)
        parameters["sources"] = sorted(union - _covered_by_others(union))
    if "entries" in proposal.parameters:
        known = {e["value"] for e in parameters.get("entries", [])}
        extra = [e for e in proposal.parameters["entries"] if e["value"] not in known]
        if extra and decided:
            return False
        parameters["entries"] = [*parameters.get("entries", []), *extra]
    before = row.expires_at
    row.parameters = parameters
    row.expires_at = max(row.expires_at or judgement.expires_at, judgement.expires_at)
    row.safeguards = [c.as_record() for c in judgement.checks]
    row.updated_at = context.now
    if row.status == "applied":
        row.next_attempt_at = context.now  # re-apply: refresh the timeouts, add the new sources
    audit.append(
        session,
        actor,
        "action.renew",
        f"action:{row.id}",
        {
            "detection": proposal.detection_id,
            "expires_from": before,
            "expires_to": row.expires_at,
            "added_sources": widened,
        },
    )
    return True


def _covered(old: set[str], new: set[str]) -> set[str]:
    """The new sources that an old source or prefix already holds: one set lookup per prefix
    length the old sources use, not one comparison per pair (a flood has tens of thousands)."""
    nets = {ipaddress.ip_network(o, strict=False) for o in old}
    lengths = {(n.version, n.prefixlen) for n in nets}
    held = set()
    for value in new:
        net = ipaddress.ip_network(value, strict=False)
        for version, length in lengths:
            inside = version == net.version and length <= net.prefixlen
            if inside and net.supernet(new_prefix=length) in nets:
                held.add(value)
                break
    return held


def _covered_by_others(values: set[str]) -> set[str]:
    """The values that lie inside another value of the set (or repeat it), in one sorted pass:
    prefixes are nested or disjoint, so sorted by start address, widest first, a value is
    covered exactly when it ends before the furthest end seen so far."""
    nets = [(ipaddress.ip_network(v, strict=False), v) for v in values]
    # by version, then start address, then prefix length: the wider of two equal starts first
    nets.sort(key=lambda n: (n[0].version, int(n[0].network_address), n[0].prefixlen, n[1]))
    covered: set[str] = set()
    reach: dict[int, int] = {}
    for net, value in nets:
        end = int(net.broadcast_address)
        if end <= reach.get(net.version, -1):
            covered.add(value)
        else:
            reach[net.version] = end
    return covered


def get_action(session: Session, viewer: Viewer, action_id: int) -> ActionRow:
    row = session.get(ActionRow, action_id)
    if row is None:
        raise NotFound(f"no action {action_id}")
    if not viewer.may_see_party(row.party_id):
        raise Forbidden(f"action {action_id} concerns another party")
    return row


def list_actions(
    session: Session,
    viewer: Viewer,
    *,
    status: str | None = None,
    pending: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ActionRow]:
    """Actions, newest first; ``pending``: those waiting for approvals."""
    query = select(ActionRow)
    if not viewer.is_staff:
        query = query.where(ActionRow.party_id == viewer.party_id)
    if pending:
        query = query.where(ActionRow.status == "proposed")
    elif status:
        query = query.where(ActionRow.status == status)
    query = query.order_by(ActionRow.proposed_at.desc(), ActionRow.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def approve(
    session: Session, viewer: Viewer, action_id: int, reason: str, now: datetime
) -> ActionRow:
    """One approval by one member of mission staff; the action is approved when enough
    distinct people have approved it (the rules of engagement, raised by the safeguards)."""
    row = _decidable(session, viewer, action_id, reason, "approve")
    approvals = list(row.approvals or [])
    if any(a["by"] == viewer.actor for a in approvals):
        raise InvalidTransition(
            f"{viewer.actor} has already approved action {action_id}; "
            f"it needs {row.approvals_needed} distinct people"
        )
    approvals.append({"by": viewer.actor, "at": now.isoformat(), "reason": reason})
    row.approvals, row.updated_at = approvals, now
    audit.append(
        session,
        viewer.actor,
        "action.approve",
        f"action:{row.id}",
        {
            "reason": reason,
            "approvals": len(approvals),
            "needed": row.approvals_needed,
        },
    )
    if len(approvals) >= (row.approvals_needed or 0):
        row.status, row.status_reason, row.next_attempt_at = "approved", reason, now
    return row


def reject(
    session: Session, viewer: Viewer, action_id: int, reason: str, now: datetime
) -> ActionRow:
    row = _decidable(session, viewer, action_id, reason, "reject")
    row.status, row.status_reason, row.updated_at = "rejected", reason, now
    audit.append(session, viewer.actor, "action.reject", f"action:{row.id}", {"reason": reason})
    return row


def revoke(
    session: Session, viewer: Viewer, action_id: int, reason: str, now: datetime
) -> ActionRow:
    """End an action before it expires; the enforcement then removes what is in force."""
    if not viewer.is_staff:
        raise Forbidden("only mission staff may revoke actions")
    row = get_action(session, viewer, action_id)
    if row.status not in ("approved", "applied", "failed", "proposed"):
        raise InvalidTransition(f"action {action_id} is {row.status}; nothing to revoke")
    if not reason.strip():
        raise InvalidTransition("revoking an action needs a reason")
    previous = row.status
    row.status, row.status_reason, row.updated_at = "revoked", reason, now
    row.next_attempt_at = now if row.in_force else None
    audit.append(
        session,
        viewer.actor,
        "action.revoke",
        f"action:{row.id}",
        {"from": previous, "reason": reason},
    )
    return row


def expire_due(session: Session, now: datetime, actor: str = SYSTEM_ACTOR) -> list[ActionRow]:
    """Every open action whose time is up becomes expired (enforcement removes it)."""
    due = session.scalars(
        select(ActionRow).where(ActionRow.status.in_(OPEN), ActionRow.expires_at <= now)
    ).all()
    for row in due:
        previous = row.status
        row.status, row.status_reason, row.updated_at = "expired", "time limit reached", now
        row.next_attempt_at = now if row.in_force else None
        audit.append(
            session,
            actor,
            "action.expire",
            f"action:{row.id}",
            {"from": previous, "expires_at": row.expires_at},
        )
    return list(due)


def _decidable(
    session: Session, viewer: Viewer, action_id: int, reason: str, verb: str
) -> ActionRow:
    if not viewer.is_staff:
        raise Forbidden(f"only mission staff may {verb} actions")
    row = get_action(session, viewer, action_id)
    if row.status != "proposed":
        raise InvalidTransition(f"action {action_id} is {row.status}, not waiting for a decision")
    if not reason.strip():
        raise InvalidTransition(f"to {verb} an action, give a reason")
    return row


def summary(row: ActionRow) -> dict[str, Any]:
    """One action in a few words, for lists."""
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "target": row.target,
        "approvals": f"{len(row.approvals or [])}/{row.approvals_needed or 0}",
        "expires_at": row.expires_at,
        "reason": row.reason,
    }
