"""The built-in detectors, registered on import like any other."""

from cyberpeace.detect.detectors import reflection, scan, volumetric

__all__ = ["reflection", "scan", "volumetric"]
