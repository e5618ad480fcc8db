"""The assessment engine: every tested entry of the knowledge base applied to one set of facts.

An entry's tests are conditions (``conditions.py``) tried from the strongest to the weakest:
``applies`` (false: not engaged; open: cannot tell), then ``breached``, ``likely``,
``possibly``. The first that holds gives the level, capped by the confidence of the facts it
rests on (``conditions.yaml``: below ``likely`` a finding is at most likely, below
``possibly`` at most possibly). The unknown facts of the stronger tests are the missing facts
that would change it; when no test holds and some were open, the answer is "cannot tell".
Facts that contradict each other (``contradictions`` in ``conditions.yaml``) count as unknown.
"""

from __future__ import annotations

from typing import Any

from cyberpeace.law.assessment import (
    LEVEL_NAMES,
    Assessment,
    FactorFinding,
    Finding,
    Level,
    RequirementStatus,
    ResponseOption,
    ThresholdFinding,
)
from cyberpeace.law.conditions import FACTOR_LEVELS, LEVELS, Condition, Truth, evaluate
from cyberpeace.law.facts import Facts
from cyberpeace.law.knowledge import Entry, Knowledge, Option, load_knowledge
from cyberpeace.law.terms import term_entries
from cyberpeace.mission.model import Mandate

_TESTS = (("breached", 3), ("likely", 2), ("possibly", 1))


class Evaluation:
    """The facts with the knowledge: answers the lookups conditions make, memoising findings."""

    def __init__(self, facts: Facts, knowledge: Knowledge, extra: list[Entry]) -> None:
        self.facts = facts
        self.knowledge = knowledge
        self.entries = {e.id: e for e in [*knowledge.entries, *extra]}
        self._findings: dict[str, Finding] = {}
        self._factors: dict[str, tuple[str, str, Truth]] = {}
        self._contradicted: set[str] = set()  # contradictions are judged on the facts as given
        self.contradictions, self._contradicted = self._contradictions()

    # The lookups of conditions.Context.
    def fact_value(self, path: str) -> tuple[Any, str, float] | None:
        fact = self.facts.fact(path)
        return (fact.value, fact.source, fact.confidence) if fact.known else None

    def contradicted(self, path: str) -> bool:
        return path in self._contradicted

    def named(self, name: str) -> Condition:
        return self.knowledge.named[name]

    def rule_truth(self, rule_id: str, at_least: str) -> Truth:
        found = self.finding(rule_id)
        wanted = LEVELS.index(at_least) + 1
        reason = (f"{rule_id} is {found.level}",)
        if found.rank is not None and found.rank >= wanted:
            return Truth(True, 1.0, reason, assumed=tuple(found.assumed))
        if found.missing:
            return Truth(None, reasons=reason, unknown=frozenset(found.missing))
        return Truth(False, 1.0, reason)

    def factor_level(self, name: str) -> tuple[str, str, Truth]:
        if name not in self._factors:
            self._factors[name] = self._factor(name)
        return self._factors[name]

    def _factor(self, name: str) -> tuple[str, str, Truth]:
        factor = next(f for f in self.knowledge.factors if f.id == name)
        high = evaluate(factor.high, self)
        medium = evaluate(factor.medium, self) if factor.medium else Truth(False)
        if high.value:
            return "high", "high", high
        lowest = "medium" if medium.value else "low"
        highest = "high" if high.value is None else ("low" if medium.value is False else "medium")
        grounds = [t for t in (high, medium) if t.value is not False] or [high, medium]
        unknown = frozenset().union(*(t.unknown for t in (high, medium)))
        reasons = tuple(r for t in grounds for r in t.reasons)
        return (
            lowest,
            highest,
            Truth(True, min(high.confidence, medium.confidence), reasons, unknown),
        )

    def _contradictions(self) -> tuple[list[str], set[str]]:
        found: list[str] = []
        facts: set[str] = set()
        for c in self.knowledge.contradictions:
            if evaluate(c.when, self).value:
                found.append(f"{c.id}: {c.description} ({', '.join(c.facts)} set aside)")
                facts.update(c.facts)
        return found, facts

    def finding(self, rule_id: str) -> Finding:
        if rule_id not in self._findings:
            self._findings[rule_id] = self._judge(self.entries[rule_id])
        return self._findings[rule_id]

    def _judge(self, entry: Entry) -> Finding:
        applies = evaluate(entry.applies, self) if entry.applies else Truth(True)
        if applies.value is False:
            return self._result(
                entry, 0, applies, ("does not apply because:", *applies.reasons), set()
            )
        if applies.value is None:
            return self._result(entry, None, applies, applies.reasons, set(applies.unknown))
        open_: set[str] = set()
        assumed: set[str] = set()
        failed: list[str] = []
        for name, rank in _TESTS:
            condition = getattr(entry, name)
            if condition is None:
                continue
            truth = evaluate(condition, self)
            if truth.value:
                return self._capped(entry, rank, applies, truth, open_)
            open_ |= truth.unknown
            assumed |= set(truth.assumed)  # an assumed fact, once known, may change it
            failed += truth.reasons
        reasons = (*applies.reasons, *(["not met because:", *failed] if failed else []))
        return self._result(entry, None if open_ else 0, applies, reasons, open_ | assumed)

    def _capped(
        self, entry: Entry, rank: int, applies: Truth, held: Truth, open_: set[str]
    ) -> Finding:
        confidence = min(applies.confidence, held.confidence)
        capped = rank
        if confidence < self.knowledge.confidence["possibly"]:
            capped = min(rank, 1)
        elif confidence < self.knowledge.confidence["likely"]:
            capped = min(rank, 2)
        reasons = [*applies.reasons, *held.reasons]
        if capped < rank:
            reasons.append(
                f"the facts it rests on have confidence {confidence:g}, so at most "
                f"{LEVEL_NAMES[capped]}"
            )
        truth = Truth(True, confidence, tuple(reasons), assumed=(*applies.assumed, *held.assumed))
        return self._result(entry, capped, truth, truth.reasons, open_)

    def _result(
        self,
        entry: Entry,
        rank: int | None,
        truth: Truth,
        reasons: tuple[str, ...],
        missing: set[str],
    ) -> Finding:
        level: Level = "cannot tell" if rank is None else LEVEL_NAMES[rank]
        return Finding(
            rule=entry.id,
            title=entry.title,
            kind=entry.kind,
            instrument=entry.instrument,
            citation=entry.citation,
            level=level,
            confidence=round(truth.confidence, 3),
            reasons=list(dict.fromkeys(reasons)),
            missing=sorted(missing | set(truth.assumed)),
            assumed=sorted(set(truth.assumed)),
            contradicted=sorted(set(entry.facts) & self._contradicted),
        )


def assess(
    facts: Facts, mandate: Mandate | None = None, knowledge: Knowledge | None = None
) -> Assessment:
    """Assess one incident's facts against the knowledge base and, if given, the mandate's terms."""
    knowledge = knowledge or load_knowledge()
    terms = term_entries(mandate) if mandate else []
    run = Evaluation(facts, knowledge, terms)
    findings = [run.finding(e.id) for e in knowledge.entries if e.tested]
    on_terms = [run.finding(e.id) for e in terms]
    gaps: dict[str, int] = {}
    for finding in [*findings, *on_terms]:
        for path in finding.missing:
            gaps[path] = gaps.get(path, 0) + 1
    return Assessment(
        knowledge_version=knowledge.version,
        incident=facts.incident,
        findings=findings,
        thresholds=[_threshold(run, q.id) for q in knowledge.questions],
        mandate=on_terms,
        offences=[f.rule for f in findings if f.kind == "offence" and (f.rank or 0) >= 2],
        responses=[_option(run, option) for option in knowledge.options],
        contradictions=run.contradictions,
        missing=sorted(gaps, key=lambda p: (-gaps[p], p)),
    )


def _threshold(run: Evaluation, question_id: str) -> ThresholdFinding:
    question = next(q for q in run.knowledge.questions if q.id == question_id)
    found = run.finding(question.rule)
    factors = [_factor(run, f.id) for f in run.knowledge.factors] if question.factors else []
    return ThresholdFinding(
        question=question.id,
        title=question.title,
        rule=question.rule,
        level=found.level,
        reasons=found.reasons,
        missing=found.missing,
        factors=factors,
    )


def _factor(run: Evaluation, factor_id: str) -> FactorFinding:
    factor = next(f for f in run.knowledge.factors if f.id == factor_id)
    lowest, highest, truth = run.factor_level(factor_id)
    exact = lowest == highest
    return FactorFinding(
        factor=factor.id,
        title=factor.title,
        level=lowest if exact else "unknown",
        at_least=lowest,
        reasons=list(truth.reasons),
        missing=[] if exact else sorted(truth.unknown),
    )


def _option(run: Evaluation, option: Option) -> ResponseOption:
    statuses = []
    for requirement in option.conditions:
        truth = evaluate(requirement.when, run)
        statuses.append(
            RequirementStatus(
                requirement=requirement.id,
                description=requirement.description,
                required=requirement.required,
                status="met"
                if truth.value
                else ("not met" if truth.value is False else "cannot tell"),
                reasons=list(truth.reasons),
                missing=sorted(truth.unknown),
            )
        )
    required = [s.status for s in statuses if s.required]
    status = (
        "not open"
        if "not met" in required
        else ("cannot tell" if "cannot tell" in required else "open")
    )
    return ResponseOption(
        option=option.id,
        title=option.title,
        citation=option.citation,
        status=status,
        conditions=statuses,
        safeguards=option.safeguards,
    )


__all__ = ["FACTOR_LEVELS", "Evaluation", "assess"]
