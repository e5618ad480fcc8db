"""The small condition language the knowledge files state their tests in, and its evaluation.

A condition is a YAML mapping of one of these forms:

- ``{fact: PATH, is: V}``, ``{fact: PATH, in: [V, ...]}``, ``{fact: PATH, overlaps: [V, ...]}``
  (a list-valued fact shares a value with the list), ``{fact: PATH, at_least: N}``,
  ``{fact: PATH, below: N}``, ``{fact: PATH, known: true}``. Add ``unknown_as: true|false`` to
  assume a value when the fact is unknown; the assumption is then reported.
- ``{all: [...]}``, ``{any: [...]}``, ``{not: C}``.
- ``{use: NAME}``: a named condition from ``knowledge/conditions.yaml``.
- ``{rule: ID, at_least: breached|likely|possibly}``: another rule's finding.
- ``{factor: NAME, at_least: high|medium}``: a Schmitt factor;
  ``{factors: [NAME, ...], high: N}``: at least N of them are high.

Evaluation is three-valued (Kleene): true, false or None for "cannot tell", and keeps which facts
decided the answer, which unknown facts left it open, the weakest confidence it rests on and the
assumptions made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

Condition = dict[str, Any]
COMPARISONS = ("is", "in", "overlaps", "at_least", "below", "known")
LEVELS = ("possibly", "likely", "breached")
FACTOR_LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class Truth:
    """The value of a condition with its grounds."""

    value: bool | None
    confidence: float = 1.0
    reasons: tuple[str, ...] = ()
    unknown: frozenset[str] = frozenset()
    assumed: tuple[str, ...] = ()  # unknown facts taken as a value (``unknown_as``)


class Context(Protocol):
    """What a condition can look up: facts, named conditions, rule findings and factors."""

    def fact_value(self, path: str) -> tuple[Any, str, float] | None: ...
    def contradicted(self, path: str) -> bool: ...
    def named(self, name: str) -> Condition: ...
    def rule_truth(self, rule_id: str, at_least: str) -> Truth: ...
    def factor_level(self, name: str) -> tuple[str, str, Truth]: ...


def evaluate(condition: Condition, ctx: Context) -> Truth:
    """The three-valued truth of ``condition``."""
    if "all" in condition:
        return _conjunction([evaluate(c, ctx) for c in condition["all"]])
    if "any" in condition:
        return _disjunction([evaluate(c, ctx) for c in condition["any"]])
    if "not" in condition:
        inner = evaluate(condition["not"], ctx)
        value = None if inner.value is None else not inner.value
        return Truth(value, inner.confidence, inner.reasons, inner.unknown, inner.assumed)
    if "use" in condition:
        return evaluate(ctx.named(condition["use"]), ctx)
    if "rule" in condition:
        return ctx.rule_truth(condition["rule"], condition["at_least"])
    if "factor" in condition:
        return _factor(condition["factor"], condition["at_least"], ctx)
    if "factors" in condition:
        return _count_high(condition["factors"], condition["high"], ctx)
    return _fact(condition, ctx)


def _conjunction(parts: list[Truth]) -> Truth:
    false = [p for p in parts if p.value is False]
    if false:
        return _merged(False, false, max)
    if all(p.value for p in parts):
        return _merged(True, parts, min)
    open_ = [p for p in parts if p.value is None]
    return Truth(None, reasons=_reasons(parts), unknown=_union(open_), assumed=_assumed(parts))


def _disjunction(parts: list[Truth]) -> Truth:
    true = [p for p in parts if p.value]
    if true:
        return _merged(True, true, max)
    if all(p.value is False for p in parts):
        return _merged(False, parts, min)
    open_ = [p for p in parts if p.value is None]
    return Truth(None, reasons=_reasons(parts), unknown=_union(open_), assumed=_assumed(parts))


def _merged(value: bool, parts: list[Truth], pick: Callable[..., float]) -> Truth:
    confidence = pick(p.confidence for p in parts) if parts else 1.0
    return Truth(value, confidence, _reasons(parts), frozenset(), _assumed(parts))


def _reasons(parts: list[Truth]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for p in parts for r in p.reasons))


def _assumed(parts: list[Truth]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for p in parts for a in p.assumed))


def _union(parts: list[Truth]) -> frozenset[str]:
    return frozenset().union(*(p.unknown for p in parts))


def _factor(name: str, at_least: str, ctx: Context) -> Truth:
    lowest, highest, truth = ctx.factor_level(name)
    wanted = FACTOR_LEVELS.index(at_least)
    shown = lowest if lowest == highest else f"between {lowest} and {highest}"
    reasons = (f"factor {name} is {shown}", *truth.reasons)
    if FACTOR_LEVELS.index(lowest) >= wanted:
        return Truth(True, truth.confidence, reasons)
    if FACTOR_LEVELS.index(highest) < wanted:
        return Truth(False, truth.confidence, reasons)
    return Truth(None, reasons=reasons, unknown=truth.unknown)


def _count_high(names: list[str], needed: int, ctx: Context) -> Truth:
    levels = {name: ctx.factor_level(name) for name in names}
    high = [n for n, (lowest, _, _) in levels.items() if lowest == "high"]
    open_ = [t for lowest, highest, t in levels.values() if highest == "high" != lowest]
    reason = f"{len(high)} of {len(names)} factors high ({', '.join(high) or 'none'})"
    if len(high) >= needed:
        return Truth(True, reasons=(reason,))
    if len(high) + len(open_) < needed:
        return Truth(False, reasons=(reason,))
    return Truth(None, reasons=(reason,), unknown=_union(open_))


def _fact(condition: Condition, ctx: Context) -> Truth:
    path = condition["fact"]
    found = ctx.fact_value(path)
    if found is None or ctx.contradicted(path):
        if "unknown_as" in condition:
            value = bool(condition["unknown_as"])
            note = f"{path} is unknown; taken as {'met' if value else 'not met'}"
            return Truth(value, 1.0, (note,), frozenset(), (path,))
        return Truth(None, unknown=frozenset({path}))
    value, source, confidence = found
    if "known" in condition:
        met = bool(condition["known"])
    else:
        op = next(k for k in COMPARISONS if k in condition)
        met = _compare(op, value, condition[op])
    where = f" (source: {source}" + (f", confidence {confidence:g})" if confidence < 1 else ")")
    reason = f"{path} is {_shown(value)}" + (where if source else "")
    return Truth(met, confidence, (reason,))


def _compare(op: str, value: Any, target: Any) -> bool:
    if op == "is":
        return bool(value == target)
    if op == "in":
        return value in target
    if op == "overlaps":
        return bool(set(value) & set(target))
    value, target = _comparable(value), _comparable(target)
    return bool(value >= target) if op == "at_least" else bool(value < target)


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


@dataclass
class Checked:
    """What a condition refers to, collected while checking its shape."""

    facts: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    factors: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def check(condition: Any, where: str, out: Checked) -> Checked:
    """Check a condition's shape and collect what it refers to (problems go to ``out``)."""
    for problem in _shape_problems(condition, where, out):
        out.problems.append(problem)
    return out


def _shape_problems(condition: Any, where: str, out: Checked) -> Iterator[str]:
    if not isinstance(condition, dict):
        yield f"{where}: a condition is a mapping, not {condition!r}"
        return
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        parts = condition[key]
        if not isinstance(parts, list) or not parts:
            yield f"{where}.{key}: needs a non-empty list"
            return
        for i, part in enumerate(parts):
            check(part, f"{where}.{key}[{i}]", out)
    elif "not" in condition:
        check(condition["not"], f"{where}.not", out)
    elif "use" in condition:
        out.names.add(condition["use"])
    elif "rule" in condition:
        out.rules.add(condition["rule"])
        if condition.get("at_least") not in LEVELS:
            yield f"{where}: rule needs at_least, one of {list(LEVELS)}"
    elif "factor" in condition:
        out.factors.add(condition["factor"])
        if condition.get("at_least") not in FACTOR_LEVELS[1:]:
            yield f"{where}: factor needs at_least, high or medium"
    elif "factors" in condition:
        out.factors.update(condition["factors"])
        if not isinstance(condition.get("high"), int):
            yield f"{where}: factors needs high: N"
    elif "fact" in condition:
        out.facts.add(condition["fact"])
        ops = [k for k in COMPARISONS if k in condition]
        extra = set(condition) - {"fact", "unknown_as", *COMPARISONS}
        if len(ops) != 1 or extra:
            yield f"{where}: a fact test needs exactly one of {list(COMPARISONS)}"
    else:
        yield f"{where}: unknown condition {sorted(condition)}"
