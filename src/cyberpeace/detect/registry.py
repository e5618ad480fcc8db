"""The detector registry: built-in detectors register here exactly as a third party's would.

A detector is any object with the attributes and methods of ``Detector``; decorating its class
with ``@register`` makes one instance of it run on every batch ``detect()`` examines::

    from cyberpeace.detect import Hits, Rule, register

    @register
    class IcmpFlood:
        name = "icmp-flood"
        kind = "icmp-flood"
        stage = "attack"
        version = 1
        prior = 0.6

        def find(self, batch, thresholds): ...      # -> Hits
        def traffic(self, flows, thresholds): ...   # -> bool mask of the records it counts
        def explain(self, episode, traffic, measures): ...  # -> Explained

A flood detector that fires only when some second's packets, bits or new flows towards one
host reach a threshold may also say so with ``floors(thresholds)`` (``screen.Floors``): it then
examines only the records towards destinations that might reach the lowest floors of all such
detectors (``screen.py``), every record of each. A detector without ``floors`` sees the whole
batch; one that can fire below the floors it states would miss floods, so state them true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.episodes import Episode
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hits import Hits
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.magnitude import Measures
from cyberpeace.detect.thresholds import Thresholds

Stage = Literal["attack", "precursor"]


@dataclass(frozen=True)
class Explained:
    """A detector's own account of an episode: one sentence, and the numbers behind it."""

    summary: str
    details: dict[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    @property
    def name(self) -> str:
        """The registered name, stored with every Detection it makes."""

    @property
    def kind(self) -> str:
        """What it finds, e.g. ``udp-reflection``."""

    @property
    def stage(self) -> Stage:
        """``attack`` (harm under way) or ``precursor`` (reconnaissance that may precede it)."""

    @property
    def version(self) -> int:
        """Raised whenever its logic changes, so stored detections say which rule fired."""

    @property
    def prior(self) -> float:
        """Confidence in a detection that barely reaches its threshold, in (0, 1)."""

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        """The windows of ``batch`` in which its rules fire."""

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        """Which records it counts (the engine narrows them to an episode's target)."""

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        """Describe an episode from the records that make it up."""


D = TypeVar("D", bound=Detector)

_REGISTRY: dict[str, Detector] = {}


def register(detector_class: type[D]) -> type[D]:
    """Class decorator: run one instance of the class on every batch, under its ``name``."""
    detector = detector_class()
    existing = _REGISTRY.get(detector.name)
    if existing is not None and _origin(type(existing)) != _origin(detector_class):
        raise ValueError(
            f"a detector named {detector.name!r} is already registered ({_origin(type(existing))})"
        )
    _REGISTRY[detector.name] = detector
    return detector_class


def unregister(name: str) -> None:
    """Remove a registered detector (a KeyError if there is none of that name)."""
    del _REGISTRY[name]


def registered() -> Mapping[str, Detector]:
    """The registered detectors by name, in registration order (a copy)."""
    return dict(_REGISTRY)


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
