"""What every flow-export decoder shares: the result of one datagram, counters, a registry.

A decoder turns one UDP datagram from one exporter into RecordBatches of FLOW_SCHEMA. Decoders
that need state (templates) keep it per exporter inside themselves. Built-in decoders register
with ``register_decoder`` exactly as a third-party decoder would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa


class DecodeError(ValueError):
    """A datagram (or part of one) that does not follow its specification; says why."""


@dataclass
class DecodeResult:
    """The flows of one datagram and what had to be refused or held back."""

    batches: list[pa.RecordBatch] = field(default_factory=list)
    malformed: int = 0  # records or sets refused as malformed
    unknown_template: int = 0  # data sets whose template has not been seen (held or dropped)
    templates: int = 0  # templates learned, refreshed or withdrawn
    errors: list[str] = field(default_factory=list)

    @property
    def flows(self) -> int:
        return sum(b.num_rows for b in self.batches)


class FlowDecoder(Protocol):
    """One export protocol (NetFlow v5, NetFlow v9, IPFIX, sFlow v5 ...)."""

    name: str

    def accepts(self, datagram: bytes) -> bool:
        """Whether the datagram's header says it is this protocol (cheap, no full parse)."""
        ...

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        """Decode one datagram; never raises on bad input, reports it in the result."""
        ...


DecoderFactory = Callable[[], FlowDecoder]
_REGISTRY: dict[str, DecoderFactory] = {}


def register_decoder(name: str) -> Callable[[DecoderFactory], DecoderFactory]:
    def add(factory: DecoderFactory) -> DecoderFactory:
        _REGISTRY[name] = factory
        return factory

    return add


def decoder_factories() -> dict[str, DecoderFactory]:
    return dict(_REGISTRY)
