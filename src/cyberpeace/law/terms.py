"""The mandate's own terms as entries the engine tests like any other rule.

A term binds some parties, protects safe areas and sectors, prohibits kinds of conduct and is in
force for a period (``mission/model.py``, ``Term``). Its test is built from those fields, so the
mandate file stays the one place a term is written.
"""

from __future__ import annotations

from cyberpeace.law.conditions import Condition
from cyberpeace.law.knowledge import Entry
from cyberpeace.mission.model import Mandate, Term
from cyberpeace.mission.vocabulary import vocabulary

ANY_OPERATION = "any-hostile-cyber-operation"


def term_entries(mandate: Mandate) -> list[Entry]:
    """One entry per term, with id ``mandate-<term id>``."""
    return [_entry(term, mandate.mission.name) for term in mandate.terms]


def _entry(term: Term, mission: str) -> Entry:
    protected: list[Condition] = []
    if term.protects.safe_areas:
        protected.append({"fact": "victim.safe_area_id", "in": list(term.protects.safe_areas)})
    if term.protects.sectors:
        protected.append({"fact": "victim.sector", "in": list(term.protects.sectors)})
    in_force: list[Condition] = [{"fact": "context.occurred_at", "at_least": term.effective_from}]
    if term.effective_until is not None:
        in_force.append({"fact": "context.occurred_at", "below": term.effective_until})
    prohibited = sorted(
        vocabulary().conduct if ANY_OPERATION in term.prohibited else term.prohibited
    )
    applies: Condition = {
        "all": [
            {"fact": "attribution.party", "in": list(term.bound)},
            {"any": protected} if protected else {"fact": "victim.party", "known": True},
            *in_force,
        ]
    }
    return Entry(
        id=f"mandate-{term.id}",
        title=term.title,
        paraphrase=(
            f"Parties {', '.join(term.bound)} accepted not to engage in "
            f"{', '.join(term.prohibited)} against the protected targets."
        ),
        citation=term.instrument,
        kind="term",
        facts=[
            "attribution.party",
            "victim.safe_area_id",
            "victim.sector",
            "victim.party",
            "context.occurred_at",
            "operation.conduct",
        ],
        applies=applies,
        breached={"fact": "operation.conduct", "overlaps": prohibited},
        instrument=mission,
    )
