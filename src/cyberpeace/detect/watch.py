"""What a mandate tells the detectors: whose borders, which sources to ignore, what matters most.

``Watch.of(mandate)`` is the one place that turns a mandate into the arguments ``analyse``,
``detect`` and ``LiveDetector`` take; without a mandate every destination is watched unnamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cyberpeace.detect.severity import criticality_of
from cyberpeace.detect.traceback import countries_of
from cyberpeace.mission import Borders, Mandate


@dataclass(frozen=True)
class Watch:
    borders: Borders | None = None
    allow_list: list[str] = field(default_factory=list)  # the mandate's allow-listed prefixes
    criticality: dict[str, str] = field(default_factory=dict)  # safe area id -> criticality
    countries: dict[str, str] = field(default_factory=dict)  # party id -> ISO 3166-1 code

    @classmethod
    def of(cls, mandate: Mandate | None) -> Watch:
        if mandate is None:
            return cls()
        return cls(
            Borders.from_mandate(mandate),
            [entry.prefix for entry in mandate.allow_list],
            criticality_of(mandate),
            countries_of(mandate),
        )
