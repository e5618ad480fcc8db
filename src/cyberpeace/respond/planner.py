"""The planner: from an attack, the actions that would stop it, narrowest first.

For a reflection attack (the sources are abused reflectors, not attackers): drop UDP from the
amplifier source ports to the victim at the edge, a FlowSpec rule upstream (destination,
protocol, source ports, packet length: RFC 8955 component types 1, 3, 6 and 10), and a
due-diligence request to each party whose territory holds reflectors. For floods and
precursors from sources that can be believed: drop those sources (folded into prefixes only
where safe) towards the victim, FlowSpec with their prefixes for floods, block-list entries and
a due-diligence request to each party holding sources. Sources in shared infrastructure get an
action of their own, which the safeguards hold for a human. RTBH of the victim address only
as a last resort, for attacks too big for anything narrower.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cyberpeace.mission import Borders, Mandate
from cyberpeace.respond.action import Proposal
from cyberpeace.respond.aggregation import aggregate, parties_of
from cyberpeace.respond.attack import PRECURSORS, PROTOCOL_OF_KIND, REFLECTION, Attack
from cyberpeace.respond.policy import Policy, policy
from cyberpeace.respond.shared_infrastructure import SharedInfrastructure

BLACKHOLE = "65535:666"  # RFC 7999 section 5: the well-known BLACKHOLE community
DUE_DILIGENCE = "due-diligence-request"
SHOWN_SOURCES = 50


@dataclass(frozen=True)
class PlanContext:
    mandate: Mandate | None
    now: datetime
    borders: Borders | None = None
    shared: SharedInfrastructure | None = None
    policy: Policy | None = None

    @classmethod
    def of(cls, mandate: Mandate | None, now: datetime) -> PlanContext:
        borders = Borders.from_mandate(mandate) if mandate else None
        return cls(mandate, now, borders, SharedInfrastructure.for_mandate(mandate), policy())

    @property
    def limits(self) -> Policy:
        return self.policy or policy()


def plan(attack: Attack, context: PlanContext) -> list[Proposal]:
    """Every action the planner proposes against ``attack``; the safeguards judge each."""
    if attack.kind == REFLECTION:
        proposals = _reflection(attack, context)
    else:
        proposals = _sourced(attack, context)
    if _single_host(attack.target) and attack.peak_bps >= context.limits.rtbh_min_bps:
        proposals.append(_rtbh(attack, context))
    return proposals


def _proposal(
    attack: Attack,
    context: PlanContext,
    kind: str,
    parameters: Mapping[str, Any],
    key: str,
    reason: str,
) -> Proposal:
    return Proposal(
        kind=kind,
        target=attack.target,
        parameters=dict(parameters),
        duration=context.limits.durations[kind],
        dedup_key=f"{kind}:{attack.target}:{key}",
        reason=reason,
        party=attack.party,
        detection_id=attack.detection_id,
        incident_id=attack.incident_id,
    )


def _reflection(attack: Attack, context: PlanContext) -> list[Proposal]:
    shares = attack.reflection_ports
    ports = sorted(p for p, s in shares.items() if s >= context.limits.reflection_port_share)
    if not ports:
        ports = sorted(shares)
    found: list[Proposal] = []
    if ports:
        match = {
            "match": "reflection",
            "protocol": "udp",
            "source_ports": ports,
            "destination": attack.target,
        }
        found.append(
            _proposal(
                attack,
                context,
                "edge-filter",
                match,
                "udp-sport",
                f"reflection from UDP source ports {ports}: drop them towards the victim only",
            )
        )
        flowspec: dict[str, object] = {
            "destination": _host_prefix(attack.target),
            "protocol": "udp",
            "source_ports": ports,
            "packet_length": None,
            "then": "discard",
        }
        size = attack.mean_packet_size
        if size is not None and size >= 200:  # amplified answers are large; a query is small
            flowspec["packet_length"] = {"min": int(size // 2), "max": 65535}
        found.append(
            _proposal(
                attack,
                context,
                "flowspec",
                flowspec,
                "udp-sport",
                "stop the reflected traffic upstream, before it fills the victim's links",
            )
        )
    found.extend(_notifications(attack, context, reflectors=True))
    return found


def _sourced(attack: Attack, context: PlanContext) -> list[Proposal]:
    shared = context.shared or SharedInfrastructure([])
    sources = attack.source_addresses
    clean = [s for s in sources if shared.why(s) is None]
    held = [s for s in sources if shared.why(s) is not None]
    parties = parties_of(sources, context.borders)
    found: list[Proposal] = []
    if len(sources) > context.limits.max_set_sources or attack.kind == "syn-flood":
        found.append(_rate_limit(attack, context))
    if clean and len(clean) <= context.limits.max_set_sources:
        folded = aggregate(clean, parties, context.limits.aggregate_min_prefix)
        match = {"match": "sources", "sources": folded, "destination": attack.target}
        found.append(
            _proposal(
                attack,
                context,
                "edge-filter",
                match,
                "sources",
                f"drop the {len(clean)} sources seen attacking, towards the victim only",
            )
        )
        if attack.kind not in PRECURSORS:
            found.append(_flowspec_sources(attack, context, folded))
        entries = [{"value": s, "type": _stix_type(s), "party": parties.get(s)} for s in clean]
        tlp = context.mandate.data_policy.default_tlp if context.mandate else "TLP:AMBER"
        found.append(
            _proposal(
                attack,
                context,
                "blocklist",
                {"entries": entries, "tlp": tlp},
                "sources",
                "list the sources seen attacking, for the parties and for sharing",
            )
        )
    if held:
        match = {"match": "sources", "sources": sorted(held), "destination": attack.target}
        found.append(
            _proposal(
                attack,
                context,
                "edge-filter",
                match,
                "shared-sources",
                "sources that are shared infrastructure: only a human may decide to drop them",
            )
        )
    found.extend(_notifications(attack, context, reflectors=False))
    return found


def _rate_limit(attack: Attack, context: PlanContext) -> Proposal:
    protocol = PROTOCOL_OF_KIND.get(attack.kind)
    parameters: dict[str, object] = {
        "destination": attack.target,
        "protocol": protocol,
        "rate_pps": context.limits.rate_limit_pps,
    }
    if attack.kind == "syn-flood":
        parameters["tcp_flags"] = ["syn"]
    return _proposal(
        attack,
        context,
        "edge-rate-limit",
        parameters,
        f"rate:{protocol}",
        "too many sources to list, or sources spoofed: limit the attack traffic's rate instead",
    )


def _flowspec_sources(attack: Attack, context: PlanContext, folded: list[str]) -> Proposal:
    parameters = {
        "destination": _host_prefix(attack.target),
        "sources": folded,
        "protocol": PROTOCOL_OF_KIND.get(attack.kind),
        "source_ports": None,
        "packet_length": None,
        "then": "discard",
    }
    return _proposal(
        attack,
        context,
        "flowspec",
        parameters,
        "sources",
        "stop the sources' traffic to the victim upstream",
    )


def _rtbh(attack: Attack, context: PlanContext) -> Proposal:
    parameters = {"prefix": _host_prefix(attack.target), "communities": [BLACKHOLE]}
    return _proposal(
        attack,
        context,
        "rtbh",
        parameters,
        "victim",
        f"last resort: {attack.peak_bps / 1e9:.1f} Gbit/s is more than the links can carry; "
        "black-holing drops all traffic to the victim, legitimate traffic too",
    )


def _notifications(attack: Attack, context: PlanContext, *, reflectors: bool) -> list[Proposal]:
    by_party: dict[str, list[str]] = defaultdict(list)
    for source in attack.sources:
        party = source.get("party")
        if party:
            by_party[str(party)].append(str(source["address"]))
    found = []
    for party, addresses in sorted(by_party.items()):
        subject, body = _message(attack, party, addresses, reflectors, context)
        parameters = {
            "party": party,
            "message_kind": DUE_DILIGENCE,
            "subject": subject,
            "body": body,
            "sources": addresses[:SHOWN_SOURCES],
        }
        found.append(
            _proposal(
                attack,
                context,
                "notify",
                parameters,
                f"party:{party}",
                f"{len(addresses)} sources lie in the territory of {party}: ask it to act",
            )
        )
    return found


def _message(
    attack: Attack, party: str, addresses: list[str], reflectors: bool, context: PlanContext
) -> tuple[str, str]:
    what = "reflectors abused in" if reflectors else "sources of"
    subject = f"Due-diligence request: {what} a {attack.kind} against {attack.target}"
    listed = "\n".join(f"  {a}" for a in addresses[:SHOWN_SOURCES])
    more = len(addresses) - SHOWN_SOURCES
    ask = (
        "These hosts answer spoofed requests (open reflectors); their operators are victims too. "
        "We ask you to have them closed or rate-limited, and to look for where the spoofed "
        "requests enter your networks (BCP 38)."
        if reflectors
        else "We ask you to investigate these hosts and to stop the traffic from them."
    )
    body = (
        f"The mission observed a {attack.kind} against {attack.target}"
        + (f" (safe area {attack.safe_area})" if attack.safe_area else "")
        + f" from {attack.start:%Y-%m-%d %H:%M:%S} to {attack.end:%H:%M:%S} UTC. "
        f"{len(addresses)} of its sources lie in the territory of {party}:\n{listed}\n"
        + (f"  ... and {more} more\n" if more > 0 else "")
        + f"{ask} Under the norm that a State should not knowingly allow its territory to be "
        "used for internationally wrongful acts using ICTs (UN GGE 2015 report, para. 13(c)), "
        "please tell the mission what you find and do. This request states observations, not "
        "an attribution."
    )
    return subject, body


def _single_host(target: str) -> bool:
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return False
    return True


def _host_prefix(target: str) -> str:
    return str(ipaddress.ip_network(target, strict=False))


def _stix_type(value: str) -> str:
    return "ipv4-addr" if ipaddress.ip_network(value, strict=False).version == 4 else "ipv6-addr"
