"""Detection: flows measured in windows, registered detectors, and the engine that runs them.

Call ``detect(flows, borders, thresholds, allow_list=..., criticality=...)`` on a ``pa.Table`` or
``pa.RecordBatch`` of the Flow schema (telemetry/schema.py), IPv4 and IPv6; add a detector
with ``@register`` (see ``registry.py``).
"""

from cyberpeace.detect.addresses import Addresses
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.baselines import Baselines, BaselineSettings
from cyberpeace.detect.detection import Detection, Severity, Source
from cyberpeace.detect.engine import Analysis, analyse, detect
from cyberpeace.detect.episodes import Episode, RuleOutcome
from cyberpeace.detect.flows import Flows, read_flows
from cyberpeace.detect.hits import Hits, Rule
from cyberpeace.detect.intake import Batch, FlowCounts
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.registry import Detector, Explained, Stage, register, registered, unregister
from cyberpeace.detect.severity import criticality_of
from cyberpeace.detect.thresholds import Thresholds

__all__ = [
    "Addresses",
    "AllowList",
    "Analysis",
    "BaselineSettings",
    "Baselines",
    "Batch",
    "Detection",
    "Detector",
    "Episode",
    "Explained",
    "FlowCounts",
    "Flows",
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
    "read_flows",
    "register",
    "registered",
    "unregister",
]
