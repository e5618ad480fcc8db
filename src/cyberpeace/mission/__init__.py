"""The mandate: parties, territories, safe areas, terms, rules of engagement; address lookup."""

from cyberpeace.mission.borders import Borders
from cyberpeace.mission.loader import MandateError, Problem, check_mandate_text, load_mandate
from cyberpeace.mission.model import (
    DataPolicy,
    Engagement,
    Mandate,
    Party,
    SafeArea,
    Term,
    Territory,
)
from cyberpeace.mission.prefixes import (
    NO_MATCH,
    PrefixTable4,
    PrefixTable6,
    coverage_bits,
    v4_array,
    v6_array,
)

__all__ = [
    "NO_MATCH",
    "Borders",
    "DataPolicy",
    "Engagement",
    "Mandate",
    "MandateError",
    "Party",
    "PrefixTable4",
    "PrefixTable6",
    "Problem",
    "SafeArea",
    "Term",
    "Territory",
    "check_mandate_text",
    "coverage_bits",
    "load_mandate",
    "v4_array",
    "v6_array",
]
