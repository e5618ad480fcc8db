"""The safeguards: named checks, each recorded on the action with its inputs and its result.

necessity (an attack above threshold is active now), proportionality (sources seen attacking,
the narrowest match, the share of legitimate traffic caught, shared infrastructure), time limit
(every action expires, at most the mandate's max_duration), rules of engagement (the approvals
the mandate requires) and reversibility. A failed check refuses the action; a check that needs
a human raises the approvals required to at least one, whatever the rules of engagement say.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa

from cyberpeace.respond.action import Check, Proposal
from cyberpeace.respond.attack import Attack
from cyberpeace.respond.legitimate import legitimate_share
from cyberpeace.respond.planner import PlanContext
from cyberpeace.respond.shared_infrastructure import SharedInfrastructure

TRAFFIC_KINDS = frozenset({"edge-filter", "edge-rate-limit", "flowspec", "rtbh"})


@dataclass(frozen=True)
class Judgement:
    checks: list[Check]
    approvals_needed: int
    expires_at: datetime

    @property
    def refused(self) -> bool:
        return any(not c.passed for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.result}" for c in self.checks if not c.passed]


def judge(
    proposal: Proposal, attack: Attack, context: PlanContext, baseline: pa.Table | None = None
) -> Judgement:
    roe, approvals = rules_of_engagement(proposal, context)
    limit, expires_at = time_limit(proposal, context)
    checks = [
        necessity(attack, context),
        proportionality(proposal, attack, context, baseline),
        limit,
        roe,
        reversibility(proposal, context),
    ]
    if any(c.needs_human for c in checks):
        approvals = max(approvals, 1)
    return Judgement(checks, approvals, expires_at)


def necessity(attack: Attack, context: PlanContext) -> Check:
    """An attack above its detector's threshold, active now (its detection ended lately)."""
    within = context.limits.active_within
    age = context.now - attack.end
    rules = attack.explanation.get("rules", [])
    above = [r for r in rules if float(r.get("peak", 0)) >= float(r.get("threshold", 0))]
    reached = bool(above) if rules else True  # a stored detection is one that fired
    active = age <= within
    inputs = {
        "detection": attack.detection_id,
        "kind": attack.kind,
        "ended": attack.end.isoformat(),
        "now": context.now.isoformat(),
        "active_within_s": within.total_seconds(),
        "rules_reached": [
            f"{r.get('metric')} {r.get('peak')} >= {r.get('threshold')}" for r in above
        ],
    }
    if not reached:
        return Check("necessity", False, "no rule of the detection reached its threshold", inputs)
    if not active:
        return Check(
            "necessity",
            False,
            f"the attack was last seen {age.total_seconds():.0f} s ago, not active now",
            inputs,
        )
    return Check(
        "necessity",
        True,
        f"{attack.kind} above threshold, seen {age.total_seconds():.0f} s ago",
        inputs,
    )


def proportionality(
    proposal: Proposal, attack: Attack, context: PlanContext, baseline: pa.Table | None
) -> Check:
    """Only sources seen attacking; the narrowest match; legitimate share; shared infra."""
    if proposal.kind not in TRAFFIC_KINDS and proposal.kind != "blocklist":
        return Check("proportionality", True, "blocks no traffic", {"kind": proposal.kind})
    params = proposal.parameters
    seen = attack.source_addresses
    listed = list(params.get("sources") or []) + [e["value"] for e in params.get("entries", [])]
    unseen = _unseen(listed, seen)
    shared = context.shared or SharedInfrastructure([])
    touched = {s: why for s in listed if (why := shared.why(s))}
    share = legitimate_share(baseline, attack.target, params, seen)
    limit = context.limits.legitimate_share_limit
    broad = proposal.kind == "rtbh"
    inputs = {
        "sources": len(listed),
        "sources_seen": len(seen),
        "unseen": unseen[:20],
        "shared_infrastructure": touched,
        "legitimate_share": share,
        "legitimate_share_limit": limit,
        "baseline_flows": baseline.num_rows if baseline is not None else 0,
        "match": _match_text(proposal),
    }
    if unseen:
        return Check(
            "proportionality",
            False,
            f"{len(unseen)} listed sources were never seen attacking",
            inputs,
        )
    human: list[str] = []
    if touched:
        kinds = "; ".join(sorted(set(touched.values()))[:3])
        human.append(f"{len(touched)} sources are shared infrastructure ({kinds})")
    if broad:
        human.append("drops all traffic to the victim, not only the attack's")
    if share is not None and share > limit:
        human.append(
            f"would catch {share:.2%} of the target's legitimate traffic (limit {limit:.2%})"
        )
    if share is None and proposal.kind in TRAFFIC_KINDS and not params.get("sources"):
        human.append("no baseline to estimate the legitimate traffic caught")
    if human:
        return Check(
            "proportionality", True, "needs a human: " + "; ".join(human), inputs, needs_human=True
        )
    caught = "unknown" if share is None else f"{share:.2%}"
    return Check(
        "proportionality", True, f"narrowest match, legitimate share caught {caught}", inputs
    )


def time_limit(proposal: Proposal, context: PlanContext) -> tuple[Check, datetime]:
    """Every action expires: at the duration asked, at most the mandate's max_duration."""
    engagement = context.mandate.engagement(proposal.kind) if context.mandate else None
    cap = engagement.max_duration if engagement else proposal.duration
    duration = min(proposal.duration, cap)
    expires_at = context.now + duration
    inputs = {
        "asked_s": proposal.duration.total_seconds(),
        "max_duration_s": cap.total_seconds(),
        "expires_at": expires_at.isoformat(),
    }
    return Check("time-limit", True, f"expires after {_human(duration)}", inputs), expires_at


def rules_of_engagement(proposal: Proposal, context: PlanContext) -> tuple[Check, int]:
    """Whether the mandate allows the action, and how many distinct people must approve it."""
    engagement = context.mandate.engagement(proposal.kind) if context.mandate else None
    if engagement is None:
        return Check(
            "rules-of-engagement",
            False,
            f"the mandate has no rule for {proposal.kind}",
            {"kind": proposal.kind},
        ), 0
    inputs = {
        "kind": proposal.kind,
        "scope": engagement.scope,
        "allowed": engagement.allowed,
        "approvals": engagement.approvals,
        "max_duration_s": engagement.max_duration.total_seconds(),
    }
    if not engagement.allowed:
        return Check(
            "rules-of-engagement", False, f"the mandate forbids {proposal.kind}", inputs
        ), 0
    who = (
        "automatic"
        if engagement.approvals == 0
        else f"{engagement.approvals} distinct approver{'s' if engagement.approvals > 1 else ''}"
    )
    result = f"{proposal.kind} ({engagement.scope}): {who}"
    return Check("rules-of-engagement", True, result, inputs), engagement.approvals


def reversibility(proposal: Proposal, context: PlanContext) -> Check:
    reversible, how = context.limits.reversibility[proposal.kind]
    return Check(
        "reversibility",
        True,
        ("reversible: " if reversible else "not reversible: ") + how,
        {"kind": proposal.kind, "reversible": reversible},
    )


def _unseen(listed: list[str], seen: list[str]) -> list[str]:
    """Listed sources or prefixes that hold any address not seen attacking."""
    seen_nets = [ipaddress.ip_network(s, strict=False) for s in seen]
    unseen = []
    for value in listed:
        net = ipaddress.ip_network(value, strict=False)
        inside = sum(1 for s in seen_nets if s.version == net.version and s.subnet_of(net))  # type: ignore[arg-type, misc]
        if inside < net.num_addresses:
            unseen.append(value)
    return unseen


def _match_text(proposal: Proposal) -> str:
    p = proposal.parameters
    parts = [f"to {p.get('destination') or p.get('prefix') or proposal.target}"]
    if p.get("protocol"):
        parts.append(str(p["protocol"]))
    if p.get("source_ports"):
        parts.append(f"source ports {p['source_ports']}")
    if p.get("sources"):
        parts.append(f"from {len(p['sources'])} sources/prefixes")
    return " ".join(parts)


def _human(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
