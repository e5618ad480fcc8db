"""Hostile input: truncation at every byte, lengths that lie, zero-length sets, absurd counts,
and fuzzing. Decoders never raise, never hang, count what they refuse, keep what is good."""

from __future__ import annotations

import struct
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberpeace.telemetry.decoding import DecodeResult
from cyberpeace.telemetry.ipfix import IpfixDecoder
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from cyberpeace.telemetry.netflow9 import NetflowV9Decoder
from cyberpeace.telemetry.schema import FLOW_SCHEMA

from .encoder import (
    VARIABLE,
    V5Record,
    data_set,
    flowset,
    ip,
    ipfix_message,
    ipfix_options_template_set,
    ipfix_template_set,
    v5_datagram,
    v9_options_template_flowset,
    v9_packet,
    v9_template_flowset,
)

FIELDS = [
    (8, 4), (12, 4), (15, 4), (10, 4), (14, 4), (2, 4), (1, 4), (22, 4), (21, 4), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 4), (17, 4), (9, 1), (13, 1), (61, 1), (58, 2),
]  # fmt: skip
RECORD_LENGTH = sum(length for _, length in FIELDS)  # 56
ROW = {8: ip("10.0.0.1"), 12: ip("10.0.0.2"), 4: 6, 1: 100, 2: 1}
V5 = v5_datagram([V5Record()] * 5)
V9_TEMPLATE = v9_template_flowset([(256, FIELDS)])
V9 = v9_packet([V9_TEMPLATE, data_set(256, FIELDS, [ROW] * 10)])
IPFIX_TEMPLATE = ipfix_template_set([(256, FIELDS)])
IPFIX = ipfix_message([IPFIX_TEMPLATE, data_set(256, FIELDS, [ROW] * 10)])
DEADLINE = settings(
    deadline=timedelta(milliseconds=500),
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)


def sound(result: DecodeResult) -> DecodeResult:
    """No decoder bug was caught by the last-resort guard, and the batches are well formed."""
    assert not [e for e in result.errors if "internal error" in e], result.errors
    assert all(batch.schema.equals(FLOW_SCHEMA) for batch in result.batches)
    return result


def complete_records(cut: int, data_starts: int) -> int:
    """Records of the data set fully inside the first ``cut`` bytes (of 10)."""
    if cut < data_starts + 4:
        return 0
    return min(10, (cut - data_starts - 4) // RECORD_LENGTH)


def test_netflow_v5_truncated_at_every_byte() -> None:
    for cut in range(len(V5) + 1):
        result = sound(NetflowV5Decoder().decode(V5[:cut], "e", 0))
        assert result.flows == (max(0, (cut - 24) // 48) if cut >= 24 else 0), cut
        assert result.malformed == (0 if cut == len(V5) else 1), cut


def test_netflow_v9_truncated_at_every_byte() -> None:
    data_starts = 20 + len(V9_TEMPLATE)
    for cut in range(len(V9) + 1):
        result = sound(NetflowV9Decoder().decode(V9[:cut], "e", 0))
        expected = complete_records(cut, data_starts) if cut >= data_starts else 0
        assert result.flows == expected, cut
        # Fewer than 4 bytes after the header or a flowset are taken as padding.
        cut_set = 24 <= cut < data_starts or data_starts + 4 <= cut < len(V9)
        assert (result.malformed > 0) == (cut < 20 or cut_set), cut


def test_ipfix_truncated_at_every_byte() -> None:
    data_starts = 16 + len(IPFIX_TEMPLATE)
    for cut in range(len(IPFIX) + 1):
        result = sound(IpfixDecoder().decode(IPFIX[:cut], "e", 0))
        expected = complete_records(cut, data_starts) if cut >= data_starts else 0
        assert result.flows == expected, cut
        assert (result.malformed > 0) == (cut < len(IPFIX)), cut


def test_ipfix_set_claiming_more_than_remains(ipfix: IpfixDecoder) -> None:
    lying = struct.pack(">HH", 2, 400) + bytes(56)
    message = ipfix_message([lying])

    result = sound(ipfix.decode(message, "e", 0))

    assert result.errors == ["ipfix: set 2 at offset 16 claims 400 bytes, only 60 remain"]
    assert result.malformed == 1


@pytest.mark.parametrize("length", [0, 1, 2, 3])
def test_sets_shorter_than_their_header_stop_the_message(
    ipfix: IpfixDecoder, v9: NetflowV9Decoder, length: int
) -> None:
    bad = struct.pack(">HH", 256, length)
    ipfix_result = sound(ipfix.decode(ipfix_message([IPFIX_TEMPLATE, bad, bad]), "e", 0))
    v9_result = sound(v9.decode(v9_packet([V9_TEMPLATE, bad, bad]), "e", 0))

    for result in (ipfix_result, v9_result):
        assert (result.templates, result.malformed) == (1, 1)
        assert f"claims {length} bytes" in result.errors[0]


def test_message_lengths_that_lie(ipfix: IpfixDecoder) -> None:
    too_short = IPFIX[:2] + struct.pack(">H", 8) + IPFIX[4:]
    too_long = IPFIX[:2] + struct.pack(">H", len(IPFIX) + 100) + IPFIX[4:]
    shorter = IPFIX[:2] + struct.pack(">H", 16 + len(IPFIX_TEMPLATE)) + IPFIX[4:]

    assert sound(ipfix.decode(too_short, "e", 0)).errors == [
        "ipfix: message header claims 8 bytes, less than the header"
    ]
    long_result = sound(IpfixDecoder().decode(too_long, "e", 0))
    assert (long_result.flows, long_result.malformed) == (10, 1)
    short_result = sound(IpfixDecoder().decode(shorter, "e", 0))
    assert (short_result.flows, short_result.templates, short_result.malformed) == (0, 1, 1)


def test_zero_length_sets_in_a_stream_do_not_hang(ipfix: IpfixDecoder) -> None:
    result = sound(ipfix.decode(IPFIX[:16] + bytes(4) * 1000, "e", 0))

    assert result.malformed >= 1


def test_absurd_field_counts_are_refused(ipfix: IpfixDecoder, v9: NetflowV9Decoder) -> None:
    ipfix_bad = flowset(2, struct.pack(">HH", 300, 65535) + bytes(8), pad=False)
    v9_bad = flowset(0, struct.pack(">HH", 300, 65535) + bytes(8))

    ipfix_result = sound(ipfix.decode(ipfix_message([ipfix_bad]), "e", 0))
    v9_result = sound(v9.decode(v9_packet([v9_bad]), "e", 0))

    assert ipfix_result.errors == [
        "ipfix: template 300 at offset 20 claims 65535 fields, only 8 bytes remain"
    ]
    assert v9_result.errors == [
        "netflow-v9: template 300 at offset 24 claims 65535 fields, 8 bytes remain"
    ]


def test_bad_templates_are_refused_and_the_good_ones_around_them_kept(
    ipfix: IpfixDecoder,
) -> None:
    zero_length = (300, [(8, 4), (12, 0)])
    absurd_length = (301, [(8, 40000), (12, 40000)])
    reserved_id = (7, [(8, 4)])
    good = (256, FIELDS)
    message = ipfix_message(
        [
            ipfix_template_set([zero_length, absurd_length, reserved_id, good]),
            ipfix_options_template_set(302, [], [(34, 4)]),  # scope count 0
            data_set(256, FIELDS, [ROW]),
        ]
    )

    result = sound(ipfix.decode(message, "e", 0))

    assert (result.flows, result.templates, result.malformed) == (1, 1, 4)
    assert result.errors == [
        "ipfix: template 300 field 1 (element 12) has length 0",
        "ipfix: template 301 records of 80000 bytes cannot fit a set",
        "ipfix: template id 7 at offset 44 is reserved",
        "ipfix: options template 302 at offset 140 has 0 scope fields of 1",
    ]


def test_bad_netflow_v9_options_templates(v9: NetflowV9Decoder) -> None:
    odd = flowset(1, struct.pack(">HHH", 300, 3, 4) + bytes(8))
    beyond = flowset(1, struct.pack(">HHH", 301, 400, 4) + bytes(8))
    good = v9_options_template_flowset(302, [(1, 4)], [(34, 4)])

    result = sound(v9.decode(v9_packet([odd, beyond, good]), "e", 0))

    assert (result.templates, result.malformed) == (1, 2)


# --- fuzzing -----------------------------------------------------------------------------------

DECODERS = [NetflowV5Decoder, NetflowV9Decoder, IpfixDecoder]
PREFIXES = [b"\x00\x05", b"\x00\x09", b"\x00\x0a"]


@DEADLINE
@given(prefix=st.sampled_from(PREFIXES), rest=st.binary(max_size=1500))
def test_random_bytes_after_a_version_never_break_a_decoder(prefix: bytes, rest: bytes) -> None:
    datagram = prefix + rest
    for decoder_type in DECODERS:
        sound(decoder_type().decode(datagram, "e", 0))


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "word"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "word" and at + 2 <= len(data):
            value = draw(st.sampled_from([0, 1, 3, 4, 255, 256, 65535, len(data)]))
            data[at : at + 2] = struct.pack(">H", value % 65536)
    return bytes(data)


@DEADLINE
@given(datagram=mutated(V5))
def test_mutated_netflow_v5(datagram: bytes) -> None:
    sound(NetflowV5Decoder().decode(datagram, "e", 0))


@DEADLINE
@given(datagram=mutated(V9))
def test_mutated_netflow_v9(datagram: bytes) -> None:
    primed = NetflowV9Decoder()
    primed.decode(V9, "e", 0)  # so mutated data meets a known template too
    for decoder in (NetflowV9Decoder(), primed):
        sound(decoder.decode(datagram, "e", 0))


VARIABLE_FIELDS = [(8, 4), (82, VARIABLE), (12, 4), (1, VARIABLE, 9), (4, 1)]
IPFIX_VARIABLE = ipfix_message(
    [
        ipfix_template_set([(257, VARIABLE_FIELDS)]),
        ipfix_options_template_set(258, [(302, 4)], [(305, 4), (306, 4)]),
        data_set(258, [(302, 4), (305, 4), (306, 4)], [{302: 1, 305: 1, 306: 9}]),
        data_set(257, VARIABLE_FIELDS, [{82: b"x" * n, -1: b"y" * n} for n in (0, 3, 300)]),
    ]
)


@DEADLINE
@given(datagram=st.one_of(mutated(IPFIX), mutated(IPFIX_VARIABLE)))
def test_mutated_ipfix(datagram: bytes) -> None:
    primed = IpfixDecoder()
    primed.decode_many([IPFIX, IPFIX_VARIABLE], "e", 0)
    for decoder in (IpfixDecoder(), primed):
        sound(decoder.decode(datagram, "e", 0))


FIELD_SPEC = st.tuples(
    st.sampled_from([1, 2, 4, 7, 8, 12, 22, 21, 27, 34, 48, 60, 82, 152, 154, 160, 302, 999]),
    st.sampled_from([0, 1, 2, 3, 4, 5, 8, 16, 255, VARIABLE, 40000]),
)


@DEADLINE
@given(
    fields=st.lists(FIELD_SPEC, min_size=1, max_size=30),
    options=st.booleans(),
    body=st.binary(max_size=3000),
)
def test_random_templates_with_random_data(
    fields: list[tuple[int, int]], options: bool, body: bytes
) -> None:
    for version in (9, 10):
        if version == 9:
            template = (
                v9_options_template_flowset(300, fields[:1], fields[1:])
                if options
                else v9_template_flowset([(300, fields)])
            )
            datagram = v9_packet([template, flowset(300, body)])
            decoder: NetflowV9Decoder | IpfixDecoder = NetflowV9Decoder()
        else:
            template = (
                ipfix_options_template_set(300, fields[:1], fields[1:])
                if options
                else ipfix_template_set([(300, fields)])
            )
            datagram = ipfix_message([template, flowset(300, body)])
            decoder = IpfixDecoder()
        sound(decoder.decode(datagram, "e", 0))
