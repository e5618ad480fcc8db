"""Traceback: where a detection's traffic came from, and how far its sources can be believed.

For the top sources: the AS the exporter saw them from (``src_as``; absent when the exporter
does not send it), the party whose territory holds them (the mandate's borders) and that
party's country. Then the signs that the source addresses are spoofed, so that nobody blames
their holders:

* sources in special-purpose space (``data/bogons.yaml``: the IANA special-purpose address
  registries of RFC 6890, with multicast and reserved space) that no party claims;
* more distinct sources than plausible: most addresses of the /24 networks (IPv6: /64) they
  come from sending at once, or addresses spread evenly over nearly every /8 (real machines
  cluster in the networks of their providers; random spoofing does not);
* for a reflection, the sources are reflectors: servers answering requests that carried the
  victim's address as their source (US-CERT alert TA14-017A). They are abused, not attackers;
  the attacker sent the requests and is not in these flows;
* TTLs, where packets are seen (flows with ``max_ttl > 0``; see ``_ttl_signs``).

Everything is over the distinct sources of the episode (``sources.SourceTotals``), not records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.detection import Traceback, TracedSource
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.sources import SourceTotals, sent_by
from cyberpeace.mission import NO_MATCH, Borders, Mandate

REFLECTION = "udp-reflection"
DENSE_SHARE = 0.5  # of the addresses of their /24s sending at once
SPREAD_SLASH8 = 200  # of 256 /8 networks holding sources, evenly
FEW_FOR_SIGNS = 1_000  # fewer sources than this say nothing about spoofing by their spread


@cache
def bogons() -> tuple[AllowList, tuple[tuple[str, str, str], ...]]:
    """The special-purpose blocks (a prefix membership test) and their names and RFCs."""
    text = resources.files("cyberpeace.detect").joinpath("data/bogons.yaml").read_text("utf-8")
    rows = yaml.safe_load(text)["bogons"]
    named = tuple((str(r["prefix"]), str(r["name"]), str(r["rfc"])) for r in rows)
    return AllowList([prefix for prefix, _, _ in named]), named


def countries_of(mandate: Mandate) -> dict[str, str]:
    """Each party's ISO 3166-1 country code, by party id."""
    return {party.id: party.country for party in mandate.parties}


def trace(
    kind: str,
    traffic: Flows,
    totals: SourceTotals,
    shown: NDArray[np.int64],
    borders: Borders | None,
    countries: Mapping[str, str],
) -> Traceback:
    """The traceback of a detection of ``kind`` whose ``traffic`` has the source ``totals``;
    ``shown`` are the source ids to describe one by one (the detection's top sources)."""
    table = traffic.addresses
    parties = table.party(borders, totals.address) if borders else None
    bogon = _special_purpose(traffic, totals.address, parties)
    total = float(totals.bytes.sum()) or 1.0
    share = round(min(1.0, float(totals.bytes[bogon].sum()) / total), 4)
    signs = _signs(totals.address, bogon, share) + _ttl_signs(traffic)
    reflectors = kind == REFLECTION
    theirs = sent_by(traffic, totals, shown)  # the few shown then look here
    listed = [
        _traced(theirs, int(a), borders, countries, reflectors, bool(bogon[i]))
        for a, i in zip(
            shown.tolist(), np.searchsorted(totals.address, shown).tolist(), strict=True
        )
    ]
    return Traceback(
        sources=listed,
        distinct_sources=len(totals),
        special_purpose_share=share,
        spoofing_signs=signs,
        reflectors=reflectors,
        explanation=_explanation(reflectors, signs, len(totals)),
    )


def _special_purpose(
    traffic: Flows, addresses: NDArray[np.int64], parties: NDArray[np.int32] | None
) -> NDArray[np.bool_]:
    """Sources in special-purpose space that no party claims."""
    blocks, _ = bogons()
    inside = blocks.holds(traffic.addresses, addresses)
    if parties is not None:
        inside &= parties == NO_MATCH
    return inside


def _signs(addresses: NDArray[np.int64], bogon: NDArray[np.bool_], share: float) -> list[str]:
    signs = []
    if bogon.any():
        signs.append(
            f"{int(bogon.sum()):,} sources ({share:.1%} of the bytes) lie in special-purpose "
            "address space (RFC 6890 registries) that no public network sends from"
        )
    v4 = addresses[addresses < V6_BASE]
    if len(v4) >= FEW_FOR_SIGNS:
        per24 = np.bincount(np.unique(v4 >> 8, return_inverse=True)[1])
        fill = float(per24.mean()) / 256
        if fill >= DENSE_SHARE:
            signs.append(
                f"{len(v4):,} IPv4 sources fill {fill:.0%} of each /24 they come from on average: "
                "more machines of one network than plausibly attack at once"
            )
        per8 = np.bincount(v4 >> 24, minlength=256)
        held = int(np.count_nonzero(per8))
        even = float(per8[per8 > 0].std() / per8[per8 > 0].mean()) < 0.5
        if held >= SPREAD_SLASH8 and even:
            signs.append(
                f"{len(v4):,} IPv4 sources are spread evenly over {held} of the 256 /8 networks, "
                "unallocated ones among them: uniformly random, as spoofed addresses are"
            )
    return signs


@dataclass(frozen=True)
class TtlLimits:
    """The thresholds of the TTL signs (``data/ttl_signs.yaml`` says what each means)."""

    initial_ttls: tuple[int, ...]
    max_plausible_hops: int
    implausible_share: float
    wide_range_hops: int
    wide_share: float
    cluster_hops: int
    cluster_share: float
    min_sources: int


@cache
def ttl_thresholds() -> TtlLimits:
    text = resources.files("cyberpeace.detect").joinpath("data/ttl_signs.yaml").read_text("utf-8")
    given = yaml.safe_load(text)
    return TtlLimits(
        initial_ttls=tuple(int(t) for t in given["initial_ttls"]),
        max_plausible_hops=int(given["max_plausible_hops"]),
        implausible_share=float(given["implausible_share"]),
        wide_range_hops=int(given["wide_range_hops"]),
        wide_share=float(given["wide_share"]),
        cluster_hops=int(given["cluster_hops"]),
        cluster_share=float(given["cluster_share"]),
        min_sources=int(given["min_sources"]),
    )


def _ttl_signs(traffic: Flows) -> list[str]:
    """Spoofing signs from the TTL the sources' packets arrive with (thresholds in
    ``data/ttl_signs.yaml``); nothing where no TTL was seen.

    A host sends with one of a few initial TTLs (32, 64, 128, 255) and each router takes one off,
    so its packets arrive with initial TTL minus hop count, and Internet paths are almost all
    under 30 hops. Hop-count filtering (Jin, Wang and Shin, "Hop-count filtering: an effective
    defense against spoofed DDoS traffic", ACM CCS 2003) infers the hop count as the smallest
    initial TTL at or above the one seen, minus it, and rests on two facts used here:

    * a forger can set any source address but not the hop count from where it really sends;
      tools that randomise the TTL give many sources arriving with TTLs no real path gives
      (an inferred hop count above ``max_plausible_hops``), and give one source address
      records whose TTL range is wider than a route change explains (``wide_range_hops``);
    * real sources sit at many distances, so thousands of them arriving with nearly one TTL
      (within ``cluster_hops`` of the most common, for ``cluster_share`` of them) are one
      machine, or a few, sending with forged addresses.
    """
    if not traffic.ttl_seen:  # a batch without TTLs: its records are not read
        return []
    known = traffic.max_ttl > 0
    limits = ttl_thresholds()
    if int(known.sum()) < limits.min_sources:
        return []
    src = traffic.src[known]
    order = np.argsort(src, kind="stable")
    src = src[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    if len(starts) < limits.min_sources:
        return []
    low = np.minimum.reduceat(traffic.min_ttl[known][order], starts).astype(np.int64)
    high = np.maximum.reduceat(traffic.max_ttl[known][order], starts).astype(np.int64)
    low = np.where(low == 0, high, low)  # a TTL-0 packet of the capture's own link
    initial = np.asarray(limits.initial_ttls, dtype=np.int64)
    hops = initial[np.minimum(np.searchsorted(initial, high), len(initial) - 1)] - high
    n, signs = len(starts), []
    implausible = float(np.mean(hops > limits.max_plausible_hops))
    wide = float(np.mean(high - low > limits.wide_range_hops))
    if implausible >= limits.implausible_share or wide >= limits.wide_share:
        signs.append(
            f"{n:,} sources with a known TTL: {implausible:.0%} arrive with a TTL no real path "
            f"gives and {wide:.0%} vary it more than one host's route does: randomised TTLs, as "
            "spoofing tools send (hop-count filtering, Jin et al. 2003)"
        )
    mode = int(np.bincount(high, minlength=256).argmax())
    close = float(np.mean(np.abs(high - mode) <= limits.cluster_hops))
    if close >= limits.cluster_share:
        signs.append(
            f"{close:.0%} of {n:,} sources arrive with TTL {mode} or within "
            f"{limits.cluster_hops} of it: one machine's distance, not many machines'"
        )
    return signs


def _traced(
    traffic: Flows,
    address: int,
    borders: Borders | None,
    countries: Mapping[str, str],
    reflector: bool,
    bogon: bool,
) -> TracedSource:
    table = traffic.addresses
    mine = traffic.src_as[traffic.src == address]
    seen = mine[mine > 0]
    asn = int(np.bincount(seen).argmax()) if len(seen) else None
    party = None
    if borders is not None:
        index = int(table.party(borders, np.array([address], dtype=np.int64))[0])
        party = None if index == NO_MATCH else borders.party_ids[index]
    block = None
    if bogon:
        _, named = bogons()
        hits = [n for n in named if AllowList([n[0]]).holds(table, np.array([address]))[0]]
        block = f"{hits[0][1]} {hits[0][0]} ({hits[0][2]})" if hits else "special-purpose"
    return TracedSource(
        address=table.text(address),
        asn=asn,
        party=party,
        country=countries.get(party) if party else None,
        role="reflector" if reflector else "source",
        special_purpose=block,
    )


def _explanation(reflectors: bool, signs: list[str], sources: int) -> str:
    if reflectors:
        return (
            f"The {sources:,} sources are reflectors: servers answering requests that carried "
            "the victim's address as their source. The victim's address was spoofed; the "
            "reflectors are abused, not attackers, and their holders are victims too. The true "
            "origin sent the requests and is not in these flows: trace it upstream of the "
            "reflectors (their operators' flow records, or where spoofed packets enter)."
        )
    if signs:
        return (
            "The source addresses are likely spoofed (" + "; ".join(signs) + "). Their holders "
            "may have sent nothing; the true origin lies upstream, where the packets entered."
        )
    return (
        f"No sign of spoofing among the {sources:,} sources: their addresses, networks and "
        "parties are where the traffic came from, as far as flow records can tell."
    )
