"""The dispatcher: picks the decoder by what the datagram says, generic over the registry."""

from __future__ import annotations

import pyarrow as pa

from cyberpeace.telemetry.decoding import DecodeResult, decoder_factories
from cyberpeace.telemetry.dispatch import FlowExportDecoder
from cyberpeace.telemetry.schema import empty_batch

from .encoder import (
    V5Record,
    data_set,
    ip,
    ipfix_message,
    ipfix_template_set,
    v5_datagram,
    v9_packet,
    v9_template_flowset,
)

FIELDS = [(8, 4), (12, 4), (4, 1)]
ROW = {8: ip("10.0.0.1"), 12: ip("10.0.0.2"), 4: 6}
V5 = v5_datagram([V5Record()] * 3)
V9 = v9_packet([v9_template_flowset([(256, FIELDS)]), data_set(256, FIELDS, [ROW])])
IPFIX = ipfix_message([ipfix_template_set([(256, FIELDS)]), data_set(256, FIELDS, [ROW, ROW])])


def test_every_registered_decoder_is_held() -> None:
    decoder = FlowExportDecoder()

    assert {"netflow-v5", "netflow-v9", "ipfix"} <= set(decoder.decoders)
    assert set(decoder.decoders) == set(decoder_factories())


def test_sniff_names_the_protocol() -> None:
    decoder = FlowExportDecoder()

    assert [decoder.sniff(d) for d in (V5, V9, IPFIX)] == ["netflow-v5", "netflow-v9", "ipfix"]
    assert decoder.sniff(b"\x00\x00\x00\x05" + bytes(40)) == "sflow-v5"
    assert decoder.sniff(b"\x00\x00\x00\x04" + bytes(40)) is None  # sFlow v4 has no decoder
    assert decoder.sniff(b"") is None


def test_decode_hands_each_datagram_to_its_decoder() -> None:
    decoder = FlowExportDecoder()

    assert [decoder.decode(d, "e", 0).flows for d in (V5, V9, IPFIX)] == [3, 1, 2]


def test_template_state_is_kept_between_calls() -> None:
    decoder = FlowExportDecoder()
    decoder.decode(v9_packet([v9_template_flowset([(256, FIELDS)])]), "e", 0)

    assert decoder.decode(v9_packet([data_set(256, FIELDS, [ROW])]), "e", 0).flows == 1


def test_a_datagram_no_decoder_accepts_is_malformed() -> None:
    result = FlowExportDecoder().decode(b"\x12\x34\x56\x78 junk", "e", 0)

    assert (result.flows, result.malformed) == (0, 1)
    assert result.errors == ["no decoder accepts a datagram starting 12345678"]


def test_decode_many_groups_by_protocol() -> None:
    result = FlowExportDecoder().decode_many([V5, IPFIX, b"junk", V9, V5], "e", 0)

    assert (result.flows, result.malformed, result.templates) == (9, 1, 2)


class Counting:
    """A third-party style decoder with only decode (no decode_many)."""

    name = "counting"

    def __init__(self) -> None:
        self.seen = 0

    def accepts(self, datagram: bytes) -> bool:
        return datagram.startswith(b"CNT")

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        self.seen += 1
        return DecodeResult(batches=[empty_batch()])


def test_any_decoder_is_used_the_same_way() -> None:
    counting = Counting()
    decoder = FlowExportDecoder({"counting": counting})

    assert decoder.sniff(b"CNT1") == "counting"
    result = decoder.decode_many([b"CNT1", b"CNT2", V5], "e", 0)
    assert counting.seen == 2
    assert result.malformed == 1  # v5 is not among this dispatcher's decoders
    assert all(isinstance(batch, pa.RecordBatch) for batch in result.batches)
