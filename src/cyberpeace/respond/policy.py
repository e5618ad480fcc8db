"""The mission's working limits for responses (``data/policy.yaml``), under the mandate's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import TypeAdapter

_DURATION = TypeAdapter(timedelta)


@dataclass(frozen=True)
class Retry:
    base: timedelta
    max_delay: timedelta
    attempts: int

    def delay(self, attempt: int) -> timedelta:
        """Exponential back-off: ``base * 2^(attempt-1)``, at most ``max_delay``."""
        return min(self.max_delay, self.base * (1 << max(0, attempt - 1)))


@dataclass(frozen=True)
class Policy:
    active_within: timedelta
    legitimate_share_limit: float
    baseline: timedelta
    aggregate_min_prefix: dict[str, int]
    max_set_sources: int
    reflection_port_share: float
    rtbh_min_bps: float
    rate_limit_pps: int
    durations: dict[str, timedelta]
    retry: Retry
    reversibility: dict[str, tuple[bool, str]]


def _duration(value: Any) -> timedelta:
    parsed: timedelta = _DURATION.validate_python(value)
    return parsed


@cache
def policy() -> Policy:
    """Load ``data/policy.yaml`` once."""
    text = resources.files("cyberpeace.respond").joinpath("data/policy.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    retry = raw["retry"]
    return Policy(
        active_within=_duration(raw["active_within"]),
        legitimate_share_limit=float(raw["legitimate_share_limit"]),
        baseline=_duration(raw["baseline"]),
        aggregate_min_prefix={k: int(v) for k, v in raw["aggregate_min_prefix"].items()},
        max_set_sources=int(raw["max_set_sources"]),
        reflection_port_share=float(raw["reflection_port_share"]),
        rtbh_min_bps=float(raw["rtbh_min_bps"]),
        rate_limit_pps=int(raw["rate_limit_pps"]),
        durations={kind: _duration(v) for kind, v in raw["durations"].items()},
        retry=Retry(
            _duration(retry["base"]), _duration(retry["max_delay"]), int(retry["attempts"])
        ),
        reversibility={
            kind: (bool(v["reversible"]), str(v["how"])) for kind, v in raw["reversibility"].items()
        },
    )
