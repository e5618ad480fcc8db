"""The facts of an incident that the legal assessment reasons over (documented in docs/facts.md).

Every fact is a ``Fact``: a value, where it came from and how sure that source is. ``"unknown"``
is a value like any other and is the default, so a facts file states only what is known; the
engine then names the unknown facts that would change a finding. A fact may be written in full
(``{value: true, source: ..., confidence: 0.8}``) or as the bare value (``true``).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from cyberpeace.mission.model import Conduct, Sector

T = TypeVar("T")
UNKNOWN = "unknown"
Unknown = Literal["unknown"]


class Fact(BaseModel, Generic[T]):
    """One fact: its value (or ``"unknown"``), its source, and the source's confidence (0 to 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: T | Unknown = "unknown"
    source: str = ""
    confidence: float = Field(1.0, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _bare_value(cls, data: Any) -> Any:
        return data if isinstance(data, dict) else {"value": data}

    @property
    def known(self) -> bool:
        return not (isinstance(self.value, str) and self.value == UNKNOWN)


def _technique(value: str) -> str:
    # MITRE ATT&CK technique ids: T followed by four digits, optionally .NNN for a sub-technique.
    if not (
        len(value) in (5, 9)
        and value[0] == "T"
        and value[1:5].isdigit()
        and (len(value) == 5 or (value[5] == "." and value[6:].isdigit()))
    ):
        raise ValueError(f"{value!r} is not an ATT&CK technique id (T1234 or T1234.001)")
    return value


Technique = Annotated[str, AfterValidator(_technique)]
Flag = Fact[bool]
Scale = Literal["single-organisation", "sector", "national", "multinational", "global"]
OperationType = Literal[
    "ddos",
    "scanning",
    "intrusion",
    "espionage",
    "ransomware",
    "wiper",
    "sabotage",
    "defacement",
    "supply-chain",
    "influence",
    "other",
]
Actor = Literal["state-organ", "state-directed", "non-state"]
ArmedConflict = Literal["none", "international", "non-international"]


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Victim(_Group):
    """Who and what was hit."""

    party: Fact[str] = Fact()  # the mandate party id, or the state's name
    sector: Fact[Sector] = Fact()  # a sector of the mission's vocabulary
    safe_area: Flag = Fact()  # inside a safe area named in the mandate
    safe_area_id: Fact[str] = Fact()
    critical_infrastructure: Flag = Fact()
    governmental_function: Flag = Fact()  # inherently governmental functions (elections, taxes)
    medical: Flag = Fact()  # a medical unit or its computers, networks and data
    indispensable_to_survival: Flag = Fact()  # drinking water, food, and the like
    cert: Flag = Fact()  # an authorised emergency response team (CERT/CSIRT)
    military_objective: Flag = Fact()  # makes an effective contribution to military action


class Effects(_Group):
    """What the operation did."""

    data_theft: Flag = Fact()
    personal_data_affected: Flag = Fact()
    data_altered_or_deleted: Flag = Fact()
    disruption: Flag = Fact()
    disruption_hours: Fact[Annotated[float, Field(ge=0)]] = Fact()
    destruction: Flag = Fact()  # systems or data destroyed: function lost until repair
    physical_damage: Flag = Fact()
    injury_or_death: Flag = Fact()
    scale: Fact[Scale] = Fact()
    essential_services_affected: Flag = Fact()
    economic_loss_usd: Fact[Annotated[float, Field(ge=0)]] = Fact()
    immediate: Flag = Fact()  # the consequences followed within hours
    direct: Flag = Fact()  # caused by the operation itself, not by a long chain of events


class Operation(_Group):
    """How it was done."""

    type: Fact[OperationType] = Fact()
    techniques: Fact[list[Technique]] = Fact()  # MITRE ATT&CK technique ids
    conduct: Fact[list[Conduct]] = Fact()  # the mandate's conduct words, for its terms
    without_right: Flag = Fact()  # neither authorised nor otherwise lawful (Budapest Art. 1-11)
    interception: Flag = Fact()
    malware_distributed: Flag = Fact()  # tools produced or made available for offences
    forgery: Flag = Fact()
    fraud: Flag = Fact()
    ongoing: Flag = Fact()


class Attribution(_Group):
    """Who is behind it; the confidence of ``actor`` is the confidence of the attribution."""

    actor: Fact[Actor] = Fact()
    state: Fact[str] = Fact()  # the state the conduct is attributed to
    party: Fact[str] = Fact()  # the mandate party the conduct is attributed to
    military: Flag = Fact()  # armed forces or a military intelligence service
    basis: Fact[str] = Fact()  # forensics, intelligence, public attribution by states


class Context(_Group):
    armed_conflict: Fact[ArmedConflict] = Fact()
    nexus: Flag = Fact()  # the operation is linked to that armed conflict
    occurred_at: Fact[datetime] = Fact()


class Intent(_Group):
    coercive: Flag = Fact()  # to compel the victim in a matter it may decide freely
    intelligence_gathering: Flag = Fact()
    deliberate_targeting: Flag = Fact()  # the victim was chosen, not hit by uncontrolled spread
    indiscriminate: Flag = Fact()  # spread or effects that could not be directed or limited
    excessive_civilian_harm: Flag = Fact()  # expected harm excessive to the military advantage
    feasible_precautions_taken: Flag = Fact()


class Origin(_Group):
    """The state from whose territory or infrastructure the operation came."""

    state: Fact[str] = Fact()
    knew: Flag = Fact()  # knew, or should have known, of the operation
    notified: Flag = Fact()  # was told by the victim or the mission
    acted: Flag = Fact()  # took feasible measures to stop it
    budapest_party: Flag = Fact()  # party to the Budapest Convention


class Facts(BaseModel):
    """All facts of one incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    incident: str = ""
    summary: str = ""
    victim: Victim = Victim()
    effects: Effects = Effects()
    operation: Operation = Operation()
    attribution: Attribution = Attribution()
    context: Context = Context()
    intent: Intent = Intent()
    consent: Flag = Fact()  # the victim state consented to the operation
    origin: Origin = Origin()

    def fact(self, path: str) -> Fact[Any]:
        """The fact at a dotted path such as ``effects.physical_damage``."""
        node: Any = self
        for part in path.split("."):
            node = getattr(node, part)
        if not isinstance(node, Fact):
            raise KeyError(path)
        return node


def fact_paths() -> frozenset[str]:
    """Every dotted fact path the model defines."""
    paths: set[str] = set()
    for name, field in Facts.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, _Group):
            paths.update(f"{name}.{sub}" for sub in kind.model_fields)
        elif name not in ("schema_version", "incident", "summary"):
            paths.add(name)
    return frozenset(paths)


def flat_facts(facts: Facts) -> dict[str, Fact[Any]]:
    """Every fact that differs from the default (unknown, no source), by dotted path."""
    found = {path: facts.fact(path) for path in sorted(fact_paths())}
    return {path: fact for path, fact in found.items() if fact != Fact()}


def facts_from_flat(flat: dict[str, Fact[Any]], *, incident: str = "", summary: str = "") -> Facts:
    """Facts from dotted paths (``flat_facts``' inverse); raise FactsError on a bad path."""
    nested: dict[str, Any] = {"incident": incident, "summary": summary}
    for path, fact in flat.items():
        group, _, name = path.partition(".")
        value = fact.model_dump()
        if name:
            nested.setdefault(group, {})[name] = value
        else:
            nested[group] = value
    return facts_from_dict(nested, "<facts>")


class FactsError(ValueError):
    """A facts file that cannot be used; ``problems`` are ``(field path, message)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(
            f"{source}: {len(problems)} error(s) in facts\n"
            + "\n".join(f"  {path}: {message}" for path, message in problems)
        )


_ONLY_UNKNOWN = "Input should be 'unknown'"
# Names pydantic gives the branches of a union in an error's loc; they are not fields.
_BRANCHES = frozenset({"bool", "str", "int", "float", "datetime", "list"})


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier() and part not in _BRANCHES:
            out += f".{part}" if out else part
    return out.replace(".value[", "[").removesuffix(".value") or "(document)"


def facts_from_dict(data: Any, source: str = "<facts>") -> Facts:
    """Build Facts from parsed data; raise FactsError naming each bad field (pydantic's loc)."""
    if not isinstance(data, dict):
        raise FactsError(source, [("(document)", "facts must be a mapping")])
    try:
        return Facts.model_validate(data)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors():
            path = _dotted(tuple(error["loc"]))
            found.setdefault(path, error["msg"].removeprefix("Value error, "))
        # A fact's value is "its type, or unknown": the "unknown" branch's complaint adds nothing
        # where the other branch said what is wrong.
        problems = [
            (path, message)
            for path, message in found.items()
            if message != _ONLY_UNKNOWN
            or not any(other != path and other.startswith(path) for other in found)
        ]
        raise FactsError(source, problems) from None


def load_facts(path: Path | str) -> Facts:
    """Read facts from a YAML or JSON file (JSON is YAML, but its errors read better as JSON)."""
    path = Path(path)
    text = path.read_text("utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise FactsError(str(path), [("(document)", f"not valid YAML or JSON: {exc}")]) from None
    return facts_from_dict(data, str(path))
