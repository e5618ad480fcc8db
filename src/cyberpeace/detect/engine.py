"""The detection engine: a flow batch in, Detections out.

``detect`` takes the records in (refusing impossible ones and dropping allow-listed sources),
runs every registered detector over the batch, joins each detector's consecutive hits on one
target into an episode, and describes each episode as a Detection: when, how big, who sent it,
whose territory and which safe area it hit, how severe, how sure, and why it fired. Everything
per record is vectorised; the loops run over detectors and episodes, of which there are few.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce
from typing import Any

import numpy as np
import pyarrow as pa

import cyberpeace.detect.detectors  # noqa: F401  (registers the built-in detectors)
from cyberpeace.detect.addresses import V6_BASE, Addresses
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.baselines import Baselines
from cyberpeace.detect.detection import Detection
from cyberpeace.detect.episodes import Episode, RuleOutcome, collapse
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hyperloglog import HyperLogLog
from cyberpeace.detect.indicator_hits import Watchlist
from cyberpeace.detect.intake import Batch, FlowCounts, take_in
from cyberpeace.detect.magnitude import Measures, PerSecond, measure
from cyberpeace.detect.registry import Detector, Explained, registered
from cyberpeace.detect.screen import Floors
from cyberpeace.detect.severity import UNRATED_SAFE_AREA, severity
from cyberpeace.detect.sources import (
    EXACT_UP_TO,
    SourceTotals,
    source_totals,
    top_order,
    top_sources,
)
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.detect.traceback import trace
from cyberpeace.mission import NO_MATCH, Borders

TOP_SOURCES = 10
MAX_RUNS_SHOWN = 20
_DEFAULTS = Thresholds()
_NONE = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Analysis:
    """The detections of one batch, and what became of its records."""

    detections: list[Detection]
    counts: FlowCounts


@dataclass(frozen=True)
class _Draft:
    detector: Detector
    episode: Episode
    traffic: Flows
    totals: SourceTotals
    measures: Measures
    explained: Explained
    target: str


def detect(
    flows: pa.Table | pa.RecordBatch,
    borders: Borders | None = None,
    thresholds: Thresholds = _DEFAULTS,
    *,
    allow_list: Iterable[str] | AllowList = (),
    criticality: Mapping[str, str] | None = None,
    detectors: Iterable[str] | None = None,
    now: float | None = None,
    countries: Mapping[str, str] | None = None,
) -> list[Detection]:
    """The detections in ``flows`` (a pa.Table or pa.RecordBatch of FLOW_SCHEMA, IPv4 and IPv6
    alike), ordered by start.

    ``borders`` names the party and safe area of each target and source (None: unnamed).
    ``allow_list`` holds prefixes whose sources no detector counts (the mandate's allow list).
    ``criticality`` maps safe area ids to their criticality (``severity.criticality_of``);
    a safe area missing from it counts as ``high``. ``detectors`` picks registered detectors
    by name (default: all). ``now`` (seconds since the epoch, default the clock) is the time
    records from the future are judged against. Raises TypeError when ``flows`` is not Arrow
    data with the FLOW_SCHEMA columns detection needs.
    """
    return analyse(
        flows,
        borders,
        thresholds,
        allow_list=allow_list,
        criticality=criticality,
        detectors=detectors,
        now=now,
        countries=countries,
    ).detections


def analyse(
    flows: pa.Table | pa.RecordBatch,
    borders: Borders | None = None,
    thresholds: Thresholds = _DEFAULTS,
    *,
    allow_list: Iterable[str] | AllowList = (),
    criticality: Mapping[str, str] | None = None,
    detectors: Iterable[str] | None = None,
    now: float | None = None,
    baselines: Baselines | None = None,
    countries: Mapping[str, str] | None = None,
    baselines_until: float | None = None,
    indicators: Watchlist | None = None,
) -> Analysis:
    """As ``detect``, and also say how many records were examined, refused and allow-listed.

    ``baselines`` (kept by the caller from batch to batch) also learns from the batch and adds
    its detections of hosts and safe areas above their own baselines (``baselines.py``), from
    the seconds before ``baselines_until`` (default: every second of the batch).
    ``countries`` maps party ids to their country (``traceback.countries_of``) for the
    traceback of each detection's sources. ``indicators`` adds a detection for each host that
    exchanged records with a watched address or network (``indicator_hits.py``)."""
    chosen = _chosen(detectors)
    allowed = allow_list if isinstance(allow_list, AllowList) else AllowList(allow_list)
    batch, counts = take_in(flows, allowed, thresholds, now)
    drafts = [
        _draft(own, detector, episode, thresholds)
        for detector, own in _batches(chosen, batch, thresholds)
        for episode in collapse(
            detector.name, detector.find(own, thresholds), thresholds.episode_gap_s
        )
    ]
    drafts, suppressed = explained_away(drafts, thresholds.explained_share)
    related = _related(drafts)
    detections = [
        _detection(
            d,
            related[i],
            batch.addresses,
            borders,
            criticality or {},
            counts,
            countries,
            suppressed.get(i, []),
        )
        for i, d in enumerate(drafts)
    ]
    if baselines is not None:
        detections += baselines.observe(batch, borders, until=baselines_until)
    if indicators is not None:
        detections += indicators.observe(batch, borders)
    detections.sort(key=lambda d: (d.start, d.detector, d.target))
    return Analysis(detections, counts)


def _chosen(names: Iterable[str] | None) -> list[Detector]:
    available = registered()
    if names is None:
        return list(available.values())
    wanted = list(names)
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ValueError(f"no detector named {unknown}; registered: {sorted(available)}")
    return [available[name] for name in wanted]


def _batches(
    chosen: list[Detector], batch: Batch, thresholds: Thresholds
) -> list[tuple[Detector, Batch]]:
    """Each detector with the batch it examines: the flood detectors that say their
    ``floors`` the records towards destinations that might reach the lowest of them
    (``screen.py``), every other detector the whole batch."""
    floors = [floor(thresholds) for d in chosen if (floor := getattr(d, "floors", None))]
    if not floors:
        return [(detector, batch) for detector in chosen]
    loud = batch.loud(reduce(Floors.lower, floors))
    return [(d, loud if hasattr(d, "floors") else batch) for d in chosen]


def _draft(batch: Batch, detector: Detector, episode: Episode, thresholds: Thresholds) -> _Draft:
    """Gather an episode's records: the detector's traffic towards the target, from the actor,
    on the ports, during the episode and one window either side (scans rarely align with
    windows, and a flood's first packets precede its first full window).

    A detector that names the traffic ``classes`` it counts (``cells.py``) and finds floods
    towards one host has its records found and its rates read through the cells."""
    first, after = episode.first - episode.window_s, episode.after + episode.window_s
    classes: tuple[int, ...] | None = getattr(detector, "classes", None)
    host_len = 32 if episode.target < V6_BASE else 128
    per_second: PerSecond | None = None
    if classes is not None and episode.actor is None and episode.prefix_len == host_len:
        traffic = batch.towards(episode.target, first, after, classes)
        per_second = batch.cells.per_second(episode.target, classes, first, after)
    else:
        active = batch.active(first, after)
        mask = detector.traffic(active, thresholds)
        mask &= batch.addresses.network_of(active.dst, episode.prefix_len) == episode.target
        if episode.actor is not None:
            mask &= active.src == episode.actor
        if episode.ports:
            mask &= np.isin(active.dst_port, episode.ports)
        traffic = active.take(mask)
    totals = source_totals(traffic)
    sources = len(totals)
    if len(traffic) > EXACT_UP_TO:  # the totals hold the heavy sources only: estimate the rest
        sketch = HyperLogLog()
        sketch.add(traffic.src)
        sources = round(float(sketch.estimate()[0]))
    measures = measure(traffic, first, after, per_second, sources)
    return _Draft(
        detector,
        episode,
        traffic,
        totals,
        measures,
        detector.explain(episode, traffic, measures),
        batch.addresses.text(episode.target, episode.prefix_len),
    )


def explained_away(
    drafts: list[_Draft], share: float
) -> tuple[list[_Draft], dict[int, list[dict[str, Any]]]]:
    """Drop each detection of a generic detector (``generic = True``: the volumetric one) that
    a more specific flood detector explains: an attack-stage detection without an actor on the
    same target, overlapping it in time, whose traffic carries at least ``share`` of its packets
    or bytes. A reflection flood is then one reflection detection, not also a volumetric one.
    Returns the drafts kept and, by their new position, what each one explained away."""
    kept: list[int] = []
    explains: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for i, draft in enumerate(drafts):
        if not getattr(draft.detector, "generic", False):
            kept.append(i)
            continue
        by = _explainer(draft, drafts, share)
        if by is None:
            kept.append(i)
            continue
        m = draft.measures
        explains[by].append(
            {
                "detector": draft.detector.name,
                "kind": draft.detector.kind,
                "start": _iso(m.start),
                "end": _iso(m.end),
                "peak_pps": round(m.peak_pps, 1),
                "peak_bps": round(m.peak_bps, 1),
                "reason": (
                    f"the {draft.detector.name} detector also fired on {draft.target}; "
                    f"this detection's traffic carries at least {share:.0%} of its packets "
                    "or bytes, and says how the flood is made"
                ),
            }
        )
    position = {old: new for new, old in enumerate(kept)}
    return [drafts[i] for i in kept], {position[i]: v for i, v in explains.items()}


def _explainer(generic: _Draft, drafts: list[_Draft], share: float) -> int | None:
    """The specific detection that explains ``generic``: of the specific detector whose
    episodes overlapping it carry the largest share of its packets or bytes (a flood that dips
    may be two episodes of it), its largest episode; None if no detector carries ``share``."""
    g = generic.measures
    carried: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    largest: dict[str, int] = {}
    for j, other in enumerate(drafts):
        o = other.measures
        if (
            other is generic
            or getattr(other.detector, "generic", False)
            or other.detector.stage != "attack"
            or other.episode.actor is not None
            or other.target != generic.target
            or not (o.start <= g.end and g.start <= o.end)
        ):
            continue
        name = other.detector.name
        carried[name][0] += o.packets
        carried[name][1] += o.bytes
        if name not in largest or o.packets > drafts[largest[name]].measures.packets:
            largest[name] = j
    ranked = sorted(
        ((max(p / max(g.packets, 1.0), b / max(g.bytes, 1.0)), n) for n, (p, b) in carried.items()),
        reverse=True,
    )
    if not ranked or ranked[0][0] < share:
        return None
    return largest[ranked[0][1]]


def _related(drafts: list[_Draft]) -> list[list[dict[str, str]]]:
    """For each draft, the other detections on the same target that overlap it in time."""
    by_target: dict[str, list[int]] = defaultdict(list)
    for i, draft in enumerate(drafts):
        by_target[draft.target].append(i)
    related: list[list[dict[str, str]]] = [[] for _ in drafts]
    for members in by_target.values():
        for i in members:
            a = drafts[i].measures
            for j in members:
                b = drafts[j].measures
                if i != j and a.start <= b.end and b.start <= a.end:
                    other = drafts[j]
                    related[i].append(
                        {
                            "detector": other.detector.name,
                            "kind": other.detector.kind,
                            "start": _iso(b.start),
                            "end": _iso(b.end),
                        }
                    )
    return related


def _detection(
    draft: _Draft,
    related: list[dict[str, str]],
    addresses: Addresses,
    borders: Borders | None,
    criticality: Mapping[str, str],
    counts: FlowCounts,
    countries: Mapping[str, str] | None = None,
    suppressed: list[dict[str, Any]] | None = None,
) -> Detection:
    detector, episode, measures = draft.detector, draft.episode, draft.measures
    party, safe_area = _place(borders, addresses, episode.target)
    area_criticality = None if safe_area is None else criticality.get(safe_area, UNRATED_SAFE_AREA)
    level = severity(detector.stage, area_criticality, party is not None)
    confidence, margin = _confidence(detector.prior, episode.outcomes)
    where = f" (safe area {safe_area})" if safe_area else (f" ({party})" if party else "")
    explanation: dict[str, Any] = {
        "summary": f"{detector.kind} against {draft.target}{where}: {draft.explained.summary}",
        "detector": detector.name,
        "version": detector.version,
        "stage": detector.stage,
        "rules": [_outcome(o) for o in episode.outcomes],
        "fires_when": _fires_when(episode.outcomes),
        "window_s": episode.window_s,
        "windows": _windows(episode),
        "timeline": {  # the attack's course: start, the second of its highest packet rate, end
            "start": _iso(measures.start),
            "peak": _iso(max(measures.start, min(measures.peak_at, measures.end))),
            "end": _iso(measures.end),
        },
        "details": draft.explained.details,
        "confidence": {"prior": detector.prior, "margin": round(margin, 3)},
        "severity": {
            "stage": detector.stage,
            "safe_area_criticality": area_criticality,
            "in_territory": party is not None,
        },
        "input": {
            "received": counts.received,
            "examined": counts.examined,
            "impossible": dict(counts.impossible),
            "allow_listed": counts.allow_listed,
        },
    }
    if suppressed:
        explanation["suppressed"] = suppressed
        explanation["suppressed_note"] = (
            f"A {suppressed[0]['detector']} detection of the same traffic was left out: this "
            "detection explains it."
        )
    if related:
        names = ", ".join(sorted({r["detector"] for r in related}))
        explanation["related"] = related
        explanation["related_note"] = (
            f"The {names} detector also fired on {draft.target} at overlapping times; "
            "the detections may describe the same traffic."
        )
    sources = top_sources(draft.traffic, borders, TOP_SOURCES, draft.totals)
    shown = draft.totals.address[top_order(draft.totals, TOP_SOURCES)] if sources else _NONE
    traced = trace(detector.kind, draft.traffic, draft.totals, shown, borders, countries or {})
    return Detection(
        detector=detector.name,
        kind=detector.kind,
        target=draft.target,
        party=party,
        safe_area=safe_area,
        start=_time(measures.start),
        end=_time(measures.end),
        severity=level,
        confidence=confidence,
        magnitude=measures.as_magnitude(episode.windows),
        sources=sources,
        explanation=explanation,
        traceback=traced,
    )


def _place(
    borders: Borders | None, addresses: Addresses, target: int
) -> tuple[str | None, str | None]:
    if borders is None:
        return None, None
    where = np.array([target], dtype=np.int64)
    party = int(addresses.party(borders, where)[0])
    area = int(addresses.safe_area(borders, where)[0])
    return (
        None if party == NO_MATCH else borders.party_ids[party],
        None if area == NO_MATCH else borders.safe_area_ids[area],
    )


def _confidence(prior: float, outcomes: tuple[RuleOutcome, ...]) -> tuple[float, float]:
    """``1 - (1 - prior) / margin``, at most 0.99: the prior for a detection that barely reaches
    its threshold, approaching certainty as the peak exceeds it (margin = peak / threshold of
    the rule exceeded most, among the rules that are not merely required)."""
    deciding = [o for o in outcomes if not o.rule.required] or list(outcomes)
    margin = max((o.peak / o.rule.threshold for o in deciding), default=1.0)
    margin = max(margin, 1.0)
    return round(min(0.99, 1 - (1 - prior) / margin), 3), margin


def _outcome(outcome: RuleOutcome) -> dict[str, Any]:
    rule = outcome.rule
    return {
        "metric": rule.metric,
        "unit": rule.unit,
        "threshold": rule.threshold,
        "required": rule.required,
        "peak": round(outcome.peak, 3),
        "windows_reached": outcome.windows,
    }


def _fires_when(outcomes: tuple[RuleOutcome, ...]) -> str:
    required = [o.rule.metric for o in outcomes if o.rule.required]
    others = [o.rule.metric for o in outcomes if not o.rule.required]
    parts = [f"{' and '.join(required)} reached its threshold"] if required else []
    if len(others) == 1:
        parts.append(f"{others[0]} reached its threshold")
    elif others:
        parts.append(f"any of {', '.join(others)} reached its threshold")
    return "a window fired when " + " and ".join(parts)


def _windows(episode: Episode) -> dict[str, Any]:
    runs = [[_iso(a), _iso(b + episode.window_s)] for a, b in episode.runs]
    return {
        "count": episode.windows,
        "first": _iso(episode.first),
        "after_last": _iso(episode.after),
        "runs": runs[:MAX_RUNS_SHOWN],
        "runs_total": len(runs),
    }


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _iso(seconds: float) -> str:
    return _time(seconds).isoformat()
