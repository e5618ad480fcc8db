"""Facts set by an analyst, over what the incident shows.

An override names a fact by its dotted path and gives its value, bare or as
``{value: ..., confidence: ...}``, exactly as a facts file would (docs/facts.md); its source is
always ``analyst:<who>``, never given by the analyst. ``None`` withdraws an analyst's fact, so
the incident's own fact (or unknown) comes back. Analysts' facts outlive re-assessment: when
new detections arrive, the facts made from them never replace what an analyst set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from cyberpeace.law.facts import Fact, FactsError, fact_paths, facts_from_dict

ANALYST = "analyst:"
MAX_OVERRIDES = 100
MAX_TEXT = 2000
MAX_ITEMS = 50
_ALLOWED_KEYS = frozenset({"value", "confidence"})


def is_analysts(fact: Fact[Any]) -> bool:
    return fact.source.startswith(ANALYST)


def parse_overrides(
    data: Mapping[str, Any], analyst: str, source: str = "<overrides>"
) -> dict[str, Fact[Any] | None]:
    """Validate overrides; raise FactsError naming each bad fact path."""
    if len(data) > MAX_OVERRIDES:
        raise FactsError(source, [("(document)", f"at most {MAX_OVERRIDES} facts at a time")])
    problems: list[tuple[str, str]] = []
    given: dict[str, dict[str, Any]] = {}
    known = fact_paths()
    for path, raw in data.items():
        problem = _problem(path, raw, known)
        if problem:
            problems.append((path, problem))
        elif raw is not None:
            fact = dict(raw) if isinstance(raw, Mapping) else {"value": raw}
            given[path] = {**fact, "source": f"{ANALYST}{analyst}"}
    if problems:
        raise FactsError(source, problems)
    nested: dict[str, Any] = {}
    for path, fact in given.items():
        group, _, name = path.partition(".")
        if name:
            nested.setdefault(group, {})[name] = fact
        else:
            nested[group] = fact
    facts = facts_from_dict(nested, source)
    return {path: facts.fact(path) if path in given else None for path in data}


def _problem(path: str, raw: Any, known: frozenset[str]) -> str:
    if path not in known:
        return "no such fact (see docs/facts.md)"
    if isinstance(raw, Mapping):
        extra = sorted(set(raw) - _ALLOWED_KEYS)
        if extra:
            return f"only value and confidence may be given, not {', '.join(map(str, extra))}"
        raw = raw.get("value")
    return _value_problem(raw)


def _value_problem(value: Any) -> str:
    if isinstance(value, str):
        if "\x00" in value:
            return "text must not contain NUL (\\x00) characters"
        if len(value) > MAX_TEXT:
            return f"text longer than {MAX_TEXT} characters"
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            return f"more than {MAX_ITEMS} items"
        return next((p for p in map(_value_problem, value) if p), "")
    if isinstance(value, Mapping):
        return "a value cannot be a mapping"
    return ""


def apply_overrides(
    facts: Mapping[str, Fact[Any]], overrides: Mapping[str, Fact[Any] | None]
) -> dict[str, Fact[Any]]:
    """The facts with the overrides applied; a withdrawn (None) fact leaves the path out."""
    merged = dict(facts)
    for path, fact in overrides.items():
        if fact is None:
            merged.pop(path, None)
        else:
            merged[path] = fact
    return merged


def analysts_facts(facts: Mapping[str, Fact[Any]]) -> dict[str, Fact[Any]]:
    return {path: fact for path, fact in facts.items() if is_analysts(fact)}


def assignments(texts: Iterable[str]) -> dict[str, Any]:
    """``FACT=VALUE`` strings (the CLI's ``--set``), each VALUE read as YAML; ``null`` withdraws.

    Raise FactsError for a string without ``=`` or a VALUE that is not YAML.
    """
    found: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for text in texts:
        path, equals, value = text.partition("=")
        if not equals or not path.strip():
            problems.append((text, "expected FACT=VALUE, e.g. effects.injury_or_death=false"))
            continue
        try:
            found[path.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError as exc:
            problems.append((path.strip(), f"value is not YAML: {exc}"))
    if problems:
        raise FactsError("--set", problems)
    return found
