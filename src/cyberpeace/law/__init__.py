"""International law and norms: the knowledge base, the facts of an incident, the engine.

``assess(load_facts(path), mandate)`` gives an ``Assessment``: a finding for each tested rule
or norm (GGE 2015 norms, Tallinn Manual 2.0 rules, Budapest Convention offences, the mandate's
terms) with its reasons and the missing facts that would change it, the threshold questions with
the Schmitt factors, and the lawful response options with their conditions.
"""

from cyberpeace.law.assessment import (
    Assessment,
    FactorFinding,
    Finding,
    Level,
    ResponseOption,
    ThresholdFinding,
)
from cyberpeace.law.engine import assess
from cyberpeace.law.facts import Fact, Facts, FactsError, fact_paths, facts_from_dict, load_facts
from cyberpeace.law.knowledge import Entry, Knowledge, KnowledgeError, load_knowledge
from cyberpeace.law.report import assessment_text

__all__ = [
    "Assessment",
    "Entry",
    "Fact",
    "FactorFinding",
    "Facts",
    "FactsError",
    "Finding",
    "Knowledge",
    "KnowledgeError",
    "Level",
    "ResponseOption",
    "ThresholdFinding",
    "assess",
    "assessment_text",
    "fact_paths",
    "facts_from_dict",
    "load_facts",
    "load_knowledge",
]
