"""Columnar hot paths: decoding more records calls no more Python functions, and is fast."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from cyberpeace.telemetry.decoding import DecodeResult
from cyberpeace.telemetry.ipfix import IpfixDecoder
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from cyberpeace.telemetry.netflow9 import NetflowV9Decoder

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

# A realistic 20-field template: 72-byte records, at most 900 in a message.
FIELDS = [
    (8, 4), (12, 4), (15, 4), (10, 4), (14, 4), (2, 8), (1, 8), (152, 8), (153, 8), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 4), (17, 4), (9, 1), (13, 1), (61, 1), (58, 2),
]  # fmt: skip


def rows_of(n: int) -> list[dict[int, int | bytes]]:
    return [
        {8: ip("10.0.0.1"), 12: ip("10.0.0.2"), 4: (6, 17, 1)[i % 3], 11: i % 65536, 1: i, 2: 1}
        for i in range(n)
    ]


def python_calls(decode: Callable[[], DecodeResult]) -> tuple[int, int]:
    """How many Python functions one decode calls (C functions not counted), and its flows."""
    calls = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        flows = decode().flows
    finally:
        sys.setprofile(None)
    return calls, flows


def ipfix_decode(n: int) -> Callable[[], DecodeResult]:
    decoder = IpfixDecoder()
    decoder.decode(ipfix_message([ipfix_template_set([(256, FIELDS)])]), "e", 0)
    message = ipfix_message([data_set(256, FIELDS, rows_of(n))])
    return lambda: decoder.decode(message, "e", 0)


def v9_decode(n: int) -> Callable[[], DecodeResult]:
    decoder = NetflowV9Decoder()
    decoder.decode(v9_packet([v9_template_flowset([(256, FIELDS)])]), "e", 0)
    packet = v9_packet([data_set(256, FIELDS, rows_of(n))])
    return lambda: decoder.decode(packet, "e", 0)


def v5_decode(n: int) -> Callable[[], DecodeResult]:
    decoder = NetflowV5Decoder()
    datagram = v5_datagram([V5Record(protocol=(6, 17, 1)[i % 3]) for i in range(n)])
    return lambda: decoder.decode(datagram, "e", 0)


@pytest.mark.parametrize(
    ("decode", "few", "many"),
    [(ipfix_decode, 3, 900), (v9_decode, 3, 900), (v5_decode, 3, 30)],
    ids=["ipfix", "netflow-v9", "netflow-v5"],
)
def test_python_calls_do_not_grow_with_records(
    decode: Callable[[int], Callable[[], DecodeResult]], few: int, many: int
) -> None:
    calls_few, flows_few = python_calls(decode(few))
    calls_many, flows_many = python_calls(decode(many))

    assert (flows_few, flows_many) == (few, many)
    assert calls_many == calls_few


def test_decode_many_calls_per_datagram_not_per_record() -> None:
    decoder = IpfixDecoder()
    decoder.decode(ipfix_message([ipfix_template_set([(256, FIELDS)])]), "e", 0)
    few = [ipfix_message([data_set(256, FIELDS, rows_of(3))])] * 10
    many = [ipfix_message([data_set(256, FIELDS, rows_of(900))])] * 10

    calls_few, _ = python_calls(lambda: decoder.decode_many(few, "e", 0))
    calls_many, flows = python_calls(lambda: decoder.decode_many(many, "e", 0))

    assert flows == 9000
    assert calls_many == calls_few


def test_a_hundred_thousand_records_of_a_20_field_template_decode_quickly() -> None:
    decoder = IpfixDecoder()
    decoder.decode(ipfix_message([ipfix_template_set([(256, FIELDS)])]), "e", 0)
    messages = [ipfix_message([data_set(256, FIELDS, rows_of(900))])] * 112

    started = time.perf_counter()
    flows = sum(decoder.decode(message, "e", 0).flows for message in messages)
    elapsed = time.perf_counter() - started

    assert flows == 100_800
    assert elapsed < 2.0  # about 0.05 s on one core; a loop per record would take seconds
