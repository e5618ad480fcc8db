"""The built-in detectors, registered on import like any other."""

from cyberpeace.detect.detectors import (
    brute_force,
    fragment_flood,
    icmp_flood,
    reflection,
    scan,
    syn_flood,
    volumetric,
)

__all__ = [
    "brute_force",
    "fragment_flood",
    "icmp_flood",
    "reflection",
    "scan",
    "syn_flood",
    "volumetric",
]
