"""Sharing among member states: STIX 2.1 objects, TLP 2.0 markings, TAXII 2.1, MISP."""

from cyberpeace.share.tlp import (
    TLP_LEVELS,
    UnknownMarking,
    marking_definition,
    marking_id,
    most_restrictive,
    tlp_of,
)

__all__ = [
    "TLP_LEVELS",
    "UnknownMarking",
    "marking_definition",
    "marking_id",
    "most_restrictive",
    "tlp_of",
]
