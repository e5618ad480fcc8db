"""Packet sampling in effect per exporter and domain, as options data reports it.

NetFlow v9 reports sampling in Options Data Records (RFC 3954 section 6.1): SAMPLING_INTERVAL (34)
for a whole source id, or FLOW_SAMPLER_ID (48) with FLOW_SAMPLER_MODE (49) and
FLOW_SAMPLER_RANDOM_INTERVAL (50) for one sampler, which data records then name in their own
FLOW_SAMPLER_ID field. IPFIX reports it with samplingInterval (34) or samplerId (48) and
samplerRandomInterval (50), or with the PSAMP elements of RFC 5477 section 8: a selectorId (302)
with samplingPacketInterval and samplingPacketSpace (305/306, systematic count-based sampling,
RFC 5475 section 6.5.2.1) or samplingSize and samplingPopulation (309/310, random n-out-of-N,
RFC 5475 section 6.5.2.3); data records name their selector in selectorId.

A rate of N means one packet in N was sampled: the decoders multiply counts by N.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

MAX_RATE = 0xFFFFFFFF  # the sampling_rate column is uint32


@dataclass(frozen=True, slots=True)
class Sampling:
    """What one (exporter, domain) reported; replaced, never changed, so it can be kept."""

    rate: int | None = None  # reported for the whole domain
    samplers: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    system_init_ms: int | None = None  # systemInitTimeMilliseconds (IPFIX IE 160)

    @property
    def default_rate(self) -> int:
        """The rate of records that name no known sampler: the domain's, else its only sampler's."""
        if self.rate is not None:
            return self.rate
        if len(self.samplers) == 1:
            return next(iter(self.samplers.values()))
        return 1


UNSAMPLED = Sampling()


def rate_of(values: Mapping[str, int]) -> int | None:
    """The sampling rate one options record reports, if it reports one."""
    interval = values.get("sampling_interval")
    if interval:
        return min(interval, MAX_RATE)
    packets = values.get("sampling_packet_interval")
    if packets:
        spaced = packets + values.get("sampling_packet_space", 0)
        return min(max(1, round(spaced / packets)), MAX_RATE)
    size, population = values.get("sampling_size"), values.get("sampling_population")
    if size and population:
        return min(max(1, round(population / size)), MAX_RATE)
    return None


class SamplingTable:
    """Sampling per exporter and domain, bounded against exporters that invent ids."""

    def __init__(self, max_domains: int = 1024, max_samplers: int = 1024) -> None:
        self.max_domains = max_domains
        self.max_samplers = max_samplers
        self._by_exporter: dict[str, dict[int, Sampling]] = {}

    def get(self, exporter: str, domain: int) -> Sampling:
        return self._by_exporter.get(exporter, {}).get(domain, UNSAMPLED)

    def apply(self, exporter: str, domain: int, values: Mapping[str, int]) -> bool:
        """Take in one options record's values (by role); whether anything changed."""
        domains = self._by_exporter.setdefault(exporter, {})
        current = domains.get(domain, UNSAMPLED)
        if domain not in domains and len(domains) >= self.max_domains:
            return False
        updated = current
        init = values.get("system_init")
        if init is not None:
            updated = replace(updated, system_init_ms=init)
        rate = rate_of(values)
        sampler = values.get("sampler_id")
        if rate is not None and sampler is None:
            updated = replace(updated, rate=rate)
        elif rate is not None and sampler is not None:
            samplers = updated.samplers
            if sampler in samplers or len(samplers) < self.max_samplers:
                merged = MappingProxyType({**samplers, sampler: rate})
                updated = replace(updated, samplers=merged)
        if updated == current:
            return False
        domains[domain] = updated
        return True
