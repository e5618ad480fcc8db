"""One entry point for flow-export datagrams: find the protocol, hand the datagram to its decoder.

``FlowExportDecoder`` holds one instance of every registered decoder (decoding.register_decoder)
and asks each whether a datagram is its own (``accepts``, a look at the version field). It knows
no protocol by name: a decoder registered by another module (sFlow, a third party) is used the
same way, as long as it was imported before the FlowExportDecoder was built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

# Imported for their registration of the built-in decoders.
from cyberpeace.telemetry import ipfix, netflow5, netflow9, sflow  # noqa: F401
from cyberpeace.telemetry.collecting import MAX_ERRORS
from cyberpeace.telemetry.decoding import DecodeResult, FlowDecoder, decoder_factories


@runtime_checkable
class BatchFlowDecoder(Protocol):
    """A decoder that can also take several datagrams of one exporter at once."""

    def decode_many(
        self, datagrams: Iterable[bytes], exporter: str, received_us: int
    ) -> DecodeResult: ...


class FlowExportDecoder:
    """Decodes datagrams of any registered export protocol, keeping each decoder's state."""

    def __init__(self, decoders: Mapping[str, FlowDecoder] | None = None) -> None:
        if decoders is None:
            decoders = {name: factory() for name, factory in decoder_factories().items()}
        self.decoders: dict[str, FlowDecoder] = dict(decoders)

    def sniff(self, datagram: bytes) -> str | None:
        """The name of the protocol whose decoder accepts the datagram, if any."""
        name, _ = self._decoder_for(datagram)
        return name

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        """Decode one datagram; a datagram no decoder accepts is counted as malformed."""
        _, decoder = self._decoder_for(datagram)
        if decoder is None:
            return _unknown(datagram)
        return decoder.decode(datagram, exporter, received_us)

    def decode_many(
        self, datagrams: Sequence[bytes], exporter: str, received_us: int
    ) -> DecodeResult:
        """Decode datagrams of one exporter, those of one protocol together (far cheaper)."""
        merged = DecodeResult()
        by_decoder: dict[str, list[bytes]] = {}
        for datagram in datagrams:
            name, _ = self._decoder_for(datagram)
            if name is None:
                _merge(merged, _unknown(datagram))
            else:
                by_decoder.setdefault(name, []).append(datagram)
        for name, group in by_decoder.items():
            decoder = self.decoders[name]
            if isinstance(decoder, BatchFlowDecoder):
                _merge(merged, decoder.decode_many(group, exporter, received_us))
            else:
                for datagram in group:
                    _merge(merged, decoder.decode(datagram, exporter, received_us))
        return merged

    def _decoder_for(self, datagram: bytes) -> tuple[str | None, FlowDecoder | None]:
        for name, decoder in self.decoders.items():
            if decoder.accepts(datagram):
                return name, decoder
        return None, None


def _unknown(datagram: bytes) -> DecodeResult:
    head = bytes(datagram[:4]).hex() or "nothing"
    return DecodeResult(malformed=1, errors=[f"no decoder accepts a datagram starting {head}"])


def _merge(into: DecodeResult, part: DecodeResult) -> None:
    into.batches.extend(part.batches)
    into.malformed += part.malformed
    into.unknown_template += part.unknown_template
    into.templates += part.templates
    into.errors.extend(part.errors[: max(0, MAX_ERRORS - len(into.errors))])
