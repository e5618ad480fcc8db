"""Read a mandate from YAML and report every problem with its location (file:line:column)."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from cyberpeace.mission.model import Mandate, Network

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a mandate, where it is, and how bad."""

    loc: Loc
    message: str
    line: int = 0
    column: int = 0
    severity: Literal["error", "warning"] = "error"

    @property
    def path(self) -> str:
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "(document)"

    def render(self, source: str) -> str:
        return f"{source}:{self.line}:{self.column}: {self.severity}: {self.path}: {self.message}"


class MandateError(ValueError):
    """A mandate that cannot be used; ``problems`` lists every error and warning found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(
            f"{source}: {len(errors)} error(s) in mandate\n"
            + "\n".join(p.render(source) for p in problems)
        )


def load_mandate(path: Path | str) -> Mandate:
    """Load and check a mandate file; raise MandateError listing every error found."""
    path = Path(path)
    mandate, problems = check_mandate_text(path.read_text("utf-8"), str(path))
    if mandate is None or any(p.severity == "error" for p in problems):
        raise MandateError(str(path), problems)
    return mandate


def check_mandate_text(
    text: str, source: str = "<mandate>"
) -> tuple[Mandate | None, list[Problem]]:
    """Validate mandate YAML; return the mandate (None if invalid) and all problems found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return None, [Problem((), f"not valid YAML: {getattr(exc, 'problem', exc)}", line, col)]
    if not isinstance(data, dict):
        return None, [Problem((), "a mandate must be a YAML mapping", 1, 1)]
    try:
        mandate = Mandate.model_validate(data)
    except ValidationError as exc:
        problems = [_placed(root, tuple(e["loc"]), e["msg"]) for e in exc.errors()]
        return None, problems
    problems = [_placed(root, loc, msg, sev) for loc, msg, sev in _semantic_problems(mandate)]
    return mandate, problems


def _placed(root: yaml.Node | None, loc: Loc, message: str, severity: str = "error") -> Problem:
    node = _node_at(root, loc)
    line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (0, 0)
    sev: Literal["error", "warning"] = "warning" if severity == "warning" else "error"
    return Problem(loc, message.removeprefix("Value error, "), line, col, sev)


def _node_at(root: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (so a missing key points at its parent)."""
    node = root
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
    return node


Finding = tuple[Loc, str, str]


def _semantic_problems(m: Mandate) -> Iterator[Finding]:
    yield from _duplicate_ids("parties", [p.id for p in m.parties])
    yield from _duplicate_ids("safe_areas", [s.id for s in m.safe_areas])
    yield from _duplicate_ids("terms", [t.id for t in m.terms])
    yield from _duplicate_ids("rules_of_engagement", [e.action for e in m.rules_of_engagement])
    yield from _unknown_references(m)
    territory = [
        (("parties", i, "territory", "prefixes", j), p.id, net)
        for i, p in enumerate(m.parties)
        for j, net in enumerate(p.territory.networks())
    ]
    yield from _overlaps(territory, "party")
    areas = [
        (("safe_areas", i, *where), s.party, net)
        for i, s in enumerate(m.safe_areas)
        for where, net in _safe_area_networks(s.prefixes, s.hosts)
    ]
    yield from _overlaps(areas, "safe area owner")
    yield from _outside_territory(m, areas)
    for i, term in enumerate(m.terms):
        if term.effective_until and term.effective_until <= term.effective_from:
            yield ("terms", i, "effective_until"), "ends before it starts", "error"


def _safe_area_networks(prefixes: list[str], hosts: list[str]) -> Iterator[tuple[Loc, Network]]:
    for j, prefix in enumerate(prefixes):
        yield ("prefixes", j), ipaddress.ip_network(prefix)
    for j, host in enumerate(hosts):
        yield ("hosts", j), ipaddress.ip_network(host)


def _duplicate_ids(section: str, ids: list[str]) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            yield (
                (section, i),
                f"duplicate id {ident!r} (first at {section}[{seen[ident]}])",
                "error",
            )
        seen.setdefault(ident, i)


def _unknown_references(m: Mandate) -> Iterator[Finding]:
    parties = {p.id for p in m.parties}
    areas = {s.id for s in m.safe_areas}
    for i, area in enumerate(m.safe_areas):
        if area.party not in parties:
            yield ("safe_areas", i, "party"), f"unknown party {area.party!r}", "error"
    for i, term in enumerate(m.terms):
        for j, party in enumerate(term.bound):
            if party not in parties:
                yield ("terms", i, "bound", j), f"unknown party {party!r}", "error"
        for j, area_id in enumerate(term.protects.safe_areas):
            if area_id not in areas:
                loc: Loc = ("terms", i, "protects", "safe_areas", j)
                yield loc, f"unknown safe area {area_id!r}", "error"


def _overlaps(entries: Iterable[tuple[Loc, str, Network]], what: str) -> Iterator[Finding]:
    """Prefixes held by different owners must not overlap (a sweep over sorted ranges)."""
    by_family: dict[int, list[tuple[int, int, str, Loc]]] = defaultdict(list)
    for loc, owner, net in entries:
        first, last = int(net.network_address), int(net.broadcast_address)
        by_family[net.version].append((first, last, owner, loc))
    for ranges in by_family.values():
        ranges.sort(key=lambda r: (r[0], -r[1]))
        open_ranges: list[tuple[int, int, str, Loc]] = []
        for first, last, owner, loc in ranges:
            open_ranges = [r for r in open_ranges if r[1] >= first]
            for _, _, other_owner, other_loc in open_ranges:
                if other_owner != owner:
                    where = Problem(other_loc, "").path
                    message = f"overlaps {where}, held by {what} {other_owner!r}, not {owner!r}"
                    yield loc, message, "error"
            open_ranges.append((first, last, owner, loc))


def _outside_territory(m: Mandate, areas: list[tuple[Loc, str, Network]]) -> Iterator[Finding]:
    territories = {p.id: p.territory.networks() for p in m.parties}
    for loc, owner, net in areas:
        if owner not in territories:
            continue  # already reported as an unknown party
        nets = territories[owner]
        if not any(net.version == t.version and net.subnet_of(t) for t in nets):  # type: ignore[arg-type]
            yield loc, f"{net} lies outside the territory of party {owner!r}", "warning"
