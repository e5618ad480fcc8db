"""What an enforcer is handed (``Action``) and what it hands back (``Applied``).

``Action.parameters`` by kind (the match is always the narrowest the planner found):

* ``edge-filter``, ``match: sources``: ``sources`` (addresses or prefixes seen attacking),
  ``destination`` (the victim address): drop packets from those sources to the victim.
* ``edge-filter``, ``match: reflection``: ``protocol: udp``, ``source_ports``, ``destination``:
  drop UDP from those (amplifier) source ports to the victim.
* ``edge-rate-limit``: ``destination``, ``protocol``, optional ``source_ports`` and
  ``tcp_flags`` (e.g. ``["syn"]``), ``rate_pps``: packets above the rate are dropped.
* ``flowspec`` (RFC 8955 components): ``destination`` (prefix, type 1), ``sources`` (optional
  prefixes, type 2), ``protocol`` (type 3), ``source_ports`` (type 6), ``packet_length``
  (``{"min": n, "max": m}``, type 10), ``then``: ``discard`` or ``{"rate_bps": n}``
  (traffic-rate, RFC 8955 section 7.3).
* ``rtbh``: ``prefix`` (the victim's /32 or /128), ``communities`` (RFC 7999 BLACKHOLE).
* ``blocklist``: ``entries`` (``value``, ``type`` ipv4-addr/ipv6-addr, ``party``), ``tlp``.
* ``notify``: ``party`` (to), ``message_kind``, ``subject``, ``body``, ``sources``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cyberpeace.mission.vocabulary import vocabulary

STATUSES = ("proposed", "approved", "applied", "failed", "expired", "revoked", "rejected")
OPEN = ("proposed", "approved", "applied", "failed")  # may still be, or come, in force
ENDED = ("expired", "revoked", "rejected")


def action_kinds() -> tuple[str, ...]:
    """The action kinds a mandate may name (``mission/data/vocabulary.yaml``)."""
    return tuple(vocabulary().actions)


@dataclass(frozen=True)
class Action:
    """One action as an enforcer sees it: what to match, until when."""

    id: int
    kind: str
    target: str
    parameters: Mapping[str, Any]
    expires_at: datetime
    party: str | None = None
    incident_id: int | None = None

    def remaining(self, now: datetime) -> timedelta:
        return max(timedelta(0), self.expires_at - now)


@dataclass(frozen=True)
class Applied:
    """What an enforcer put in force for an action, stored with the action."""

    enforcer: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One named safeguard, with its inputs and result, recorded on the action."""

    name: str
    passed: bool
    result: str
    inputs: dict[str, Any] = field(default_factory=dict)
    needs_human: bool = False

    def as_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "needs_human": self.needs_human,
            "result": self.result,
            "inputs": self.inputs,
        }


@dataclass(frozen=True)
class Proposal:
    """An action the planner proposes, before the safeguards and the store."""

    kind: str
    target: str
    parameters: dict[str, Any]
    duration: timedelta
    dedup_key: str
    reason: str
    party: str | None = None
    detection_id: int | None = None
    incident_id: int | None = None
