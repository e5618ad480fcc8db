"""Correlation: indicators link incidents to each other and to shared intelligence.

An incident's indicators (its detections' sources and targets, what parties report) are
normalised per kind (``indicator_kinds``), held in the case store and in a columnar index
(``index``: hashed keys in CSR postings, addresses and prefixes for containment), and met
against intelligence indicators, each meeting recorded as a sighting (``sightings``).
"""

from cyberpeace.correlation.correlations import (
    Correlations,
    IncidentLink,
    IntelligenceLink,
    SharedValue,
    correlations_of,
)
from cyberpeace.correlation.correlator import Correlator
from cyberpeace.correlation.index import Columns, CorrelationIndex, Side
from cyberpeace.correlation.indicator_kinds import IndicatorError, kinds, normalise
from cyberpeace.correlation.observations import (
    Context,
    Observation,
    observe,
    observe_detection,
    report_indicators,
)
from cyberpeace.correlation.sightings import meet, meet_flows, record_flows

__all__ = [
    "Columns",
    "Context",
    "CorrelationIndex",
    "Correlations",
    "Correlator",
    "IncidentLink",
    "IndicatorError",
    "IntelligenceLink",
    "Observation",
    "SharedValue",
    "Side",
    "correlations_of",
    "kinds",
    "meet",
    "meet_flows",
    "normalise",
    "observe",
    "observe_detection",
    "record_flows",
    "report_indicators",
]
