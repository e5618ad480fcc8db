"""Detection: flows measured in windows, registered detectors, and the engine that runs them.

Call ``detect(flows, borders, thresholds, allow_list=..., criticality=...)``; add a detector
with ``@register`` (see ``registry.py``).
"""

from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.detection import Detection, Severity, Source
from cyberpeace.detect.engine import Analysis, analyse, detect
from cyberpeace.detect.episodes import Episode, RuleOutcome
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch, FlowCounts
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.registry import Detector, Explained, Stage, register, registered, unregister
from cyberpeace.detect.severity import criticality_of
from cyberpeace.detect.thresholds import Thresholds

__all__ = [
    "AllowList",
    "Analysis",
    "Batch",
    "Detection",
    "Detector",
    "Episode",
    "Explained",
    "FlowCounts",
    "Hits",
    "Measures",
    "Rule",
    "RuleOutcome",
    "Severity",
    "Source",
    "Stage",
    "Thresholds",
    "analyse",
    "criticality_of",
    "detect",
    "register",
    "registered",
    "unregister",
]
