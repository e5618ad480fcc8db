"""The knowledge base: norms, rules, offences and measures as data files under ``knowledge/``.

Each file names its instrument and lists entries (id, title, our own paraphrase, the exact
citation, the facts the entry depends on, and its tests as conditions; see ``conditions.py``).
``thresholds.yaml`` holds the Schmitt factors and the threshold questions, ``conditions.yaml``
the named conditions and the contradictions between facts, ``responses.yaml`` the lawful
response options. The knowledge version is a hash of all these files, so that a stored
assessment says which knowledge it was made with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cyberpeace.law.conditions import Checked, Condition, check
from cyberpeace.law.facts import fact_paths

Kind = Literal[
    "principle",  # a general principle; its tests live in the rules that apply it
    "obligation",  # binding rule whose breach the engine tests
    "norm",  # voluntary, non-binding norm of responsible state behaviour
    "threshold",  # a legal threshold ("breached" reads "met")
    "attribution",  # attribution of conduct to a state ("breached" reads "met")
    "characterisation",  # what the conduct is, e.g. espionage ("breached" reads "applies")
    "offence",  # a criminal offence the conduct may match ("breached" reads "matches")
    "cooperation",  # co-operation machinery, used by the response options
    "measure",  # a confidence-building measure, used by the response options
    "term",  # a term of the mandate
]
Ident = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    """One norm, rule, offence or measure."""

    id: Ident = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    title: str = Field(min_length=3)
    paraphrase: str = Field(min_length=10)
    citation: str = Field(min_length=5)
    kind: Kind
    facts: list[str] = []
    applies: Condition | None = None
    breached: Condition | None = None
    likely: Condition | None = None
    possibly: Condition | None = None
    instrument: str = ""

    @property
    def tested(self) -> bool:
        return any(c is not None for c in (self.breached, self.likely, self.possibly))

    def conditions(self) -> dict[str, Condition]:
        named = {
            "applies": self.applies,
            "breached": self.breached,
            "likely": self.likely,
            "possibly": self.possibly,
        }
        return {k: v for k, v in named.items() if v is not None}


class Instrument(_Strict):
    instrument: str
    entries: list[Entry] = Field(min_length=1)


class Factor(_Strict):
    """A Schmitt factor: how far the facts point towards a use of force."""

    id: Ident
    title: str
    paraphrase: str
    citation: str
    high: Condition
    medium: Condition | None = None


class Question(_Strict):
    """A threshold question, answered by one rule's finding."""

    id: Ident
    title: str
    rule: Ident
    factors: bool = False


class Thresholds(_Strict):
    factors: list[Factor]
    questions: list[Question]


class Contradiction(_Strict):
    """Facts that cannot all be true; when ``when`` holds, ``facts`` count as unknown."""

    id: Ident
    description: str
    when: Condition
    facts: list[str] = Field(min_length=1)


class Named(_Strict):
    named: dict[Ident, Condition]
    contradictions: list[Contradiction] = []
    confidence: dict[Literal["likely", "possibly"], float]


class Requirement(_Strict):
    id: Ident
    description: str
    when: Condition
    required: bool = True


class Option(_Strict):
    """A lawful response option with the conditions under which it is open."""

    id: Ident
    title: str
    paraphrase: str
    citation: str
    conditions: list[Requirement] = []
    safeguards: list[str] = []


class Responses(_Strict):
    options: list[Option]


@dataclass(frozen=True)
class Knowledge:
    """Everything the engine reasons with, checked, with its version."""

    entries: tuple[Entry, ...]
    factors: tuple[Factor, ...]
    questions: tuple[Question, ...]
    named: dict[str, Condition]
    contradictions: tuple[Contradiction, ...]
    confidence: dict[str, float]
    options: tuple[Option, ...]
    version: str

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


class KnowledgeError(ValueError):
    """The knowledge files are inconsistent; every problem is listed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("knowledge base: " + "; ".join(problems))


INSTRUMENT_FILES = ("gge.yaml", "tallinn.yaml", "budapest.yaml", "osce.yaml")
OTHER_FILES = ("conditions.yaml", "thresholds.yaml", "responses.yaml")


def knowledge_texts() -> dict[str, str]:
    """The knowledge files' texts by name."""
    folder = resources.files("cyberpeace.law").joinpath("knowledge")
    return {
        name: folder.joinpath(name).read_text("utf-8") for name in INSTRUMENT_FILES + OTHER_FILES
    }


def version_of(texts: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return "sha256:" + digest.hexdigest()[:16]


@cache
def load_knowledge() -> Knowledge:
    """Load and check the shipped knowledge files once."""
    return knowledge_from_texts(knowledge_texts())


def knowledge_from_texts(texts: dict[str, str]) -> Knowledge:
    """Build Knowledge from file texts; raise KnowledgeError listing every problem."""
    try:
        parsed = {name: yaml.safe_load(text) for name, text in texts.items()}
        instruments = [Instrument.model_validate(parsed[n]) for n in INSTRUMENT_FILES]
        named = Named.model_validate(parsed["conditions.yaml"])
        thresholds = Thresholds.model_validate(parsed["thresholds.yaml"])
        responses = Responses.model_validate(parsed["responses.yaml"])
    except (yaml.YAMLError, ValidationError) as exc:
        raise KnowledgeError([str(exc)]) from None
    entries = tuple(
        e.model_copy(update={"instrument": i.instrument}) for i in instruments for e in i.entries
    )
    knowledge = Knowledge(
        entries=entries,
        factors=tuple(thresholds.factors),
        questions=tuple(thresholds.questions),
        named=named.named,
        contradictions=tuple(named.contradictions),
        confidence={str(k): v for k, v in named.confidence.items()},
        options=tuple(responses.options),
        version=version_of(texts),
    )
    problems = knowledge_problems(knowledge)
    if problems:
        raise KnowledgeError(problems)
    return knowledge


def referenced_facts(condition: Condition, named: dict[str, Condition]) -> set[str]:
    """The facts a condition reads, through named conditions too (not through other rules)."""
    found = check(condition, "", Checked())
    facts = set(found.facts)
    for name in found.names:
        if name in named:
            facts |= referenced_facts(named[name], named)
    return facts


def knowledge_problems(k: Knowledge) -> list[str]:
    """Every inconsistency: duplicate ids, unknown facts, rules, factors or names, cycles."""
    problems: list[str] = []
    paths, rules = fact_paths(), {e.id for e in k.entries}
    factors = {f.id for f in k.factors}
    ids = [e.id for e in k.entries] + [f.id for f in k.factors] + [o.id for o in k.options]
    problems += [f"duplicate id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for where, condition, declared in _all_conditions(k):
        found = check(condition, where, Checked())
        problems += found.problems
        problems += [f"{where}: unknown fact {f!r}" for f in sorted(found.facts - paths)]
        problems += [f"{where}: unknown rule {r!r}" for r in sorted(found.rules - rules)]
        problems += [f"{where}: unknown factor {f!r}" for f in sorted(found.factors - factors)]
        problems += [f"{where}: unknown name {n!r}" for n in sorted(found.names - set(k.named))]
        if declared is not None:
            missing = referenced_facts(condition, k.named) - set(declared)
            problems += [f"{where}: reads {f!r}, not in the entry's facts" for f in sorted(missing)]
    for entry in k.entries:
        problems += [f"{entry.id}.facts: unknown fact {f!r}" for f in entry.facts if f not in paths]
        if entry.kind in ("obligation", "norm", "threshold", "offence") and not entry.citation:
            problems.append(f"{entry.id}: no citation")
    problems += [
        f"question {q.id}: unknown rule {q.rule!r}" for q in k.questions if q.rule not in rules
    ]
    problems += _cycles(k)
    return problems


def _all_conditions(k: Knowledge) -> list[tuple[str, Condition, list[str] | None]]:
    out: list[tuple[str, Condition, list[str] | None]] = []
    for entry in k.entries:
        out += [(f"{entry.id}.{n}", c, entry.facts) for n, c in entry.conditions().items()]
    for factor in k.factors:
        out += [(f"{factor.id}.high", factor.high, None)]
        out += [(f"{factor.id}.medium", factor.medium, None)] if factor.medium else []
    out += [(f"named.{n}", c, None) for n, c in k.named.items()]
    out += [(f"contradiction.{c.id}", c.when, None) for c in k.contradictions]
    for option in k.options:
        out += [(f"{option.id}.{r.id}", r.when, None) for r in option.conditions]
    return out


def _cycles(k: Knowledge) -> list[str]:
    edges: dict[str, set[str]] = {}
    for entry in k.entries:
        refs: set[str] = set()
        for condition in entry.conditions().values():
            refs |= check(condition, "", Checked()).rules
        edges[entry.id] = refs
    problems: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            problems.append("rules refer to each other in a cycle: " + " -> ".join([*trail, node]))
            return
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(edges):
        visit(node, [])
    return problems
