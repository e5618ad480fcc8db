"""International law and norms: the knowledge base, the facts of an incident, the engine.

``assess(load_facts(path), mandate)`` gives an ``Assessment``: a finding for each tested rule
or norm (GGE 2015 norms, Tallinn Manual 2.0 rules, Budapest Convention offences, the mandate's
terms) with its reasons and the missing facts that would change it, the threshold questions with
the Schmitt factors, and the lawful response options with their conditions.
``incident_facts`` makes the facts an incident shows from its detections and safe area;
``parse_overrides`` checks the facts an analyst sets over them.
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
from cyberpeace.law.facts import (
    Fact,
    Facts,
    FactsError,
    fact_paths,
    facts_from_dict,
    facts_from_flat,
    flat_facts,
    load_facts,
)
from cyberpeace.law.incident_facts import (
    DetectionRecord,
    IncidentRecord,
    SafeAreaRecord,
    incident_facts,
)
from cyberpeace.law.knowledge import Entry, Knowledge, KnowledgeError, load_knowledge
from cyberpeace.law.overrides import (
    analysts_facts,
    apply_overrides,
    assignments,
    parse_overrides,
)
from cyberpeace.law.report import assessment_text

__all__ = [
    "Assessment",
    "DetectionRecord",
    "Entry",
    "Fact",
    "FactorFinding",
    "Facts",
    "FactsError",
    "Finding",
    "IncidentRecord",
    "Knowledge",
    "KnowledgeError",
    "Level",
    "ResponseOption",
    "SafeAreaRecord",
    "ThresholdFinding",
    "analysts_facts",
    "apply_overrides",
    "assess",
    "assessment_text",
    "assignments",
    "fact_paths",
    "facts_from_dict",
    "facts_from_flat",
    "flat_facts",
    "incident_facts",
    "load_facts",
    "load_knowledge",
    "parse_overrides",
]
