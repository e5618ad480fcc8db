"""Attribution of an incident: who is behind it, on which bases, with what confidence.

Two kinds are kept apart. A *technical* attribution says in whose territory the sources sit
(from the traceback of the incident's detections); it is where the operation came from, the
legal engine's ``origin.state``. A *responsibility* attribution says to which state the conduct
is attributed (``attribution.*`` in law/facts.py), which only an analyst asserts. The confidence
scale and the basis kinds, with their default weights, are data (``data/attribution.yaml``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.law.facts import Fact

Kind = Literal["technical", "responsibility"]
KINDS: tuple[str, ...] = ("technical", "responsibility")
MAX_TEXT = 2000
MAX_BASES = 50


class AttributionError(ValueError):
    """An attribution that cannot be recorded; the message names the problem."""


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    definition: str
    fact_confidence: float = Field(ge=0, le=1)


class BasisKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weight: float = Field(ge=0, le=1)
    description: str


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scale: dict[str, Level]
    bases: dict[str, BasisKind]
    weight_range: tuple[float, float]
    actors: list[str]


@cache
def scale() -> Scale:
    """The shipped scale and basis kinds (``data/attribution.yaml``), read once."""
    path = resources.files("cyberpeace.investigate").joinpath("data/attribution.yaml")
    return Scale.model_validate(yaml.safe_load(path.read_text("utf-8")))


@dataclass(frozen=True)
class Basis:
    kind: str
    weight: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "weight": self.weight, "detail": self.detail}


@dataclass(frozen=True)
class AttributionDraft:
    """What an analyst states; ``check`` refuses what the scale does not allow."""

    kind: str
    candidate: str
    confidence: str
    bases: tuple[Basis, ...] = ()
    actor: str | None = None  # state-organ, state-directed or non-state (responsibility only)
    state: str | None = None
    party: str | None = None
    raise_if: str = ""  # what would raise the confidence
    lower_if: str = ""  # what would lower it
    summary: str = ""


def basis(kind: str, weight: float | None = None, detail: str = "") -> Basis:
    """A basis of a known kind; without a weight, the kind's default weight."""
    known = scale().bases
    if kind not in known:
        raise AttributionError(f"unknown basis kind {kind!r}; expected one of {sorted(known)}")
    low, high = scale().weight_range
    if weight is None:
        weight = known[kind].weight
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight != weight:
        raise AttributionError(f"basis {kind!r}: weight must be a number, not {weight!r}")
    if not low <= weight <= high:
        raise AttributionError(f"basis {kind!r}: weight {weight} is outside {low} to {high}")
    return Basis(kind, float(weight), _text("basis detail", detail))


def _text(name: str, value: str) -> str:
    if "\x00" in value:
        raise AttributionError(f"{name} must not contain NUL characters")
    if len(value) > MAX_TEXT:
        raise AttributionError(f"{name} is longer than {MAX_TEXT} characters")
    return value


def check(draft: AttributionDraft) -> AttributionDraft:
    """The draft unchanged if it is sound; else AttributionError naming the first problem."""
    if draft.kind not in KINDS:
        raise AttributionError(f"unknown attribution kind {draft.kind!r}; expected {KINDS}")
    if not draft.candidate.strip() or len(draft.candidate) > 200:
        raise AttributionError("candidate must be an actor name or party id of 1 to 200 characters")
    if draft.confidence not in scale().scale:
        raise AttributionError(
            f"unknown confidence {draft.confidence!r}; expected one of {list(scale().scale)}"
        )
    if not draft.bases:
        raise AttributionError("an attribution needs at least one basis")
    if len(draft.bases) > MAX_BASES:
        raise AttributionError(f"at most {MAX_BASES} bases")
    for given in draft.bases:
        basis(given.kind, given.weight, given.detail)
    if draft.actor is not None and draft.actor not in scale().actors:
        raise AttributionError(f"unknown actor {draft.actor!r}; expected one of {scale().actors}")
    if draft.kind == "technical" and draft.actor is not None:
        raise AttributionError("a technical attribution names where, not who: no actor")
    for name in ("candidate", "raise_if", "lower_if", "summary"):
        _text(name, getattr(draft, name))
    return draft


@dataclass(frozen=True)
class TracedOrigin:
    """One traced source of a detection: its party (territory), country, ASN and role."""

    party: str | None
    country: str | None
    asn: int | None
    role: str = "source"
    spoofed: bool = False


def technical_draft(origins: Iterable[TracedOrigin]) -> AttributionDraft | None:
    """The territory most of the genuine sources sit in, or None when none is known.

    Reflectors and sources with signs of spoofing say nothing of the origin and are left out;
    a minority share or few sources lower the confidence.
    """
    seen = list(origins)
    genuine = [o for o in seen if o.role == "source" and not o.spoofed and o.party]
    if not genuine:
        return None
    counts = Counter(o.party for o in genuine)
    party, top = counts.most_common(1)[0]
    share = top / len(seen)
    confidence = "moderate" if share >= 0.8 and len(genuine) >= 3 else "low"
    asns = sorted({o.asn for o in genuine if o.party == party and o.asn})
    country = next((o.country for o in genuine if o.party == party and o.country), None)
    detail = f"{top} of {len(seen)} traced sources in the territory of {party}"
    bases = [basis("technical-indicators", detail=detail)]
    if asns:
        bases.append(basis("infrastructure", detail="ASNs " + ", ".join(map(str, asns))))
    return AttributionDraft(
        kind="technical",
        candidate=str(party),
        confidence=confidence,
        bases=tuple(bases),
        state=country,
        party=str(party),
        raise_if="flow records upstream showing where the packets entered; more sources agreeing",
        lower_if="signs of spoofing; sources found to be compromised hosts or proxies",
        summary="derived from the traceback of the incident's detections",
    )


def attribution_facts(records: Iterable[Mapping[str, Any]]) -> dict[str, Fact[Any]]:
    """The facts the legal engine reads, from the latest technical and responsibility records.

    ``records`` are stored attributions (``as_dict`` of the row), newest last. A technical one
    gives ``origin.state``; a responsibility one ``attribution.actor/state/party/basis``, with
    the confidence of its stated level.
    """
    latest: dict[str, Mapping[str, Any]] = {}
    for record in records:
        latest[record["kind"]] = record
    found: dict[str, Fact[Any]] = {}
    levels = scale().scale
    technical = latest.get("technical")
    if technical and technical.get("state"):
        found["origin.state"] = Fact(
            value=technical["state"],
            source=f"attribution {technical['id']} (technical)",
            confidence=levels[technical["confidence"]].fact_confidence,
        )
    held = latest.get("responsibility")
    if held:
        source = f"attribution {held['id']} (responsibility)"
        confidence = levels[held["confidence"]].fact_confidence
        kinds = ", ".join(sorted({b["kind"] for b in held["bases"]}))
        pairs = [("actor", held.get("actor")), ("state", held.get("state"))]
        pairs += [("party", held.get("party")), ("basis", kinds)]
        for name, value in pairs:
            if value:
                found[f"attribution.{name}"] = Fact(
                    value=value, source=source, confidence=confidence
                )
    return found


def weighted_support(bases: Iterable[Basis | Mapping[str, Any]]) -> float:
    """How much the bases carry together: 1 - prod(1 - weight), as independent indications."""
    remaining = 1.0
    for given in bases:
        weight = given.weight if isinstance(given, Basis) else float(given["weight"])
        remaining *= 1.0 - weight
    return round(1.0 - remaining, 4)
