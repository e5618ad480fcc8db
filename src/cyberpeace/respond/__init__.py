"""The response path: plan actions against an attack, judge them by the safeguards, record and
approve them under the rules of engagement, and enforce them (nftables, block list, notify;
any enforcer registered with ``@register``)."""

from cyberpeace.respond.action import OPEN, STATUSES, Action, Applied, Check, Proposal
from cyberpeace.respond.attack import Attack
from cyberpeace.respond.blocklist_feed import Entry, as_csv, as_stix, as_text
from cyberpeace.respond.enforcement import Alert, Reconciled, reconcile
from cyberpeace.respond.enforcers import build_enforcers
from cyberpeace.respond.enforcers.blocklist import BlocklistEnforcer
from cyberpeace.respond.enforcers.nftables import NftablesEnforcer, NftError
from cyberpeace.respond.enforcers.notify import NotifyEnforcer
from cyberpeace.respond.lifecycle import (
    Outcome,
    approve,
    expire_due,
    get_action,
    list_actions,
    reject,
    respond,
    revoke,
)
from cyberpeace.respond.planner import PlanContext, plan
from cyberpeace.respond.policy import Policy, policy
from cyberpeace.respond.registry import Enforcer, EnforcerConfig, register, registered, unregister
from cyberpeace.respond.safeguards import Judgement, judge
from cyberpeace.respond.shared_infrastructure import SharedInfrastructure

__all__ = [
    "OPEN",
    "STATUSES",
    "Action",
    "Alert",
    "Applied",
    "Attack",
    "BlocklistEnforcer",
    "Check",
    "Enforcer",
    "EnforcerConfig",
    "Entry",
    "Judgement",
    "NftError",
    "NftablesEnforcer",
    "NotifyEnforcer",
    "Outcome",
    "PlanContext",
    "Policy",
    "Proposal",
    "Reconciled",
    "SharedInfrastructure",
    "approve",
    "as_csv",
    "as_stix",
    "as_text",
    "build_enforcers",
    "expire_due",
    "get_action",
    "judge",
    "list_actions",
    "plan",
    "policy",
    "reconcile",
    "register",
    "registered",
    "reject",
    "respond",
    "revoke",
    "unregister",
]
