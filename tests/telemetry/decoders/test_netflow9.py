"""NetFlow v9 (RFC 3954): columns, IPv6, sampling from options, templates held, refreshed."""

from __future__ import annotations

import struct

import pytest

from cyberpeace.telemetry.netflow9 import NetflowV9Decoder

from .encoder import (
    data_set,
    flowset,
    ip,
    mapped,
    v9_options_template_flowset,
    v9_packet,
    v9_template_flowset,
)
from .support import clean, only_row, rows

EXPORT_MS = 1_700_000_000_000  # the encoder's UNIX seconds, in ms
UPTIME = 50_000  # the encoder's header sysUpTime

V4_FIELDS = [
    (8, 4), (12, 4), (15, 4), (10, 2), (14, 2), (2, 4), (1, 4), (22, 4), (21, 4), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 2), (17, 2), (9, 1), (13, 1), (61, 1),
]  # fmt: skip
V4_ROW: dict[int, int | bytes] = {
    8: ip("192.0.2.10"), 12: ip("198.51.100.20"), 15: ip("192.0.2.1"), 10: 5, 14: 6,
    2: 12, 1: 3400, 22: 40_000, 21: 49_000, 7: 51515, 11: 22, 6: 0x1B, 4: 6, 5: 0,
    16: 64496, 17: 64497, 9: 24, 13: 24, 61: 1,
}  # fmt: skip
V6_FIELDS = [(27, 16), (28, 16), (62, 16), (7, 2), (11, 2), (4, 1), (32, 2), (1, 8), (2, 8),
             (22, 4), (21, 4), (10, 4), (14, 4), (61, 1)]  # fmt: skip


def test_every_column_of_an_ipv4_flow(v9: NetflowV9Decoder) -> None:
    packet = v9_packet(
        [v9_template_flowset([(256, V4_FIELDS)]), data_set(256, V4_FIELDS, [V4_ROW])]
    )

    result = clean(v9.decode(packet, "192.0.2.99", 0))

    assert result.templates == 1
    assert only_row(result) == {
        "start": (EXPORT_MS + 40_000 - UPTIME) * 1000,
        "end": (EXPORT_MS + 49_000 - UPTIME) * 1000,
        "exporter": "192.0.2.99",
        "observation_domain": 7,  # the header's source id
        "ip_version": 4,
        "src_addr": mapped("192.0.2.10"),
        "dst_addr": mapped("198.51.100.20"),
        "src_port": 51515,
        "dst_port": 22,
        "protocol": 6,
        "tcp_flags": 0x1B,
        "icmp_type": 0,
        "icmp_code": 0,
        "packets": 12,
        "bytes": 3400,
        "sampling_rate": 1,
        "input_if": 5,
        "output_if": 6,
        "src_as": 64496,
        "dst_as": 64497,
        "next_hop": mapped("192.0.2.1"),
        "direction": 1,
        "min_ttl": 0,  # no IE 52/53 in this template: not seen
        "max_ttl": 0,
    }


def test_every_column_of_an_ipv6_icmp_flow(v9: NetflowV9Decoder) -> None:
    row = {27: ip("2001:db8::1"), 28: ip("2001:db8:1::2"), 62: ip("fe80::1"), 4: 58,
           32: 128 << 8 | 0, 1: 2**40, 2: 2**33, 22: 49_000, 21: 50_000, 10: 70000,
           14: 70001, 61: 0}  # fmt: skip
    packet = v9_packet([v9_template_flowset([(300, V6_FIELDS)]), data_set(300, V6_FIELDS, [row])])

    found = only_row(clean(v9.decode(packet, "e", 0)))

    assert found == found | {
        "start": (EXPORT_MS - 1_000) * 1000,
        "end": EXPORT_MS * 1000,
        "ip_version": 6,
        "src_addr": ip("2001:db8::1"),
        "dst_addr": ip("2001:db8:1::2"),
        "next_hop": ip("fe80::1"),
        "protocol": 58,
        "icmp_type": 128,  # echo request
        "icmp_code": 0,
        "src_port": 0,
        "dst_port": 0,
        "bytes": 2**40,
        "packets": 2**33,
        "input_if": 70000,
        "output_if": 70001,
        "direction": 0,
        "min_ttl": 0,  # no IE 52/53 in this template: not seen
        "max_ttl": 0,
    }


def test_sampling_interval_from_options_data_multiplies_counts(v9: NetflowV9Decoder) -> None:
    scope, options = [(1, 4)], [(34, 4), (35, 1)]  # System scope; SAMPLING_INTERVAL, ALGORITHM
    packet = v9_packet(
        [
            v9_options_template_flowset(260, scope, options),
            v9_template_flowset([(256, V4_FIELDS)]),
            data_set(260, scope + options, [{1: 0, 34: 64, 35: 2}]),
            data_set(256, V4_FIELDS, [V4_ROW]),
        ]
    )

    row = only_row(clean(v9.decode(packet, "e", 0)))

    assert (row["packets"], row["bytes"], row["sampling_rate"]) == (12 * 64, 3400 * 64, 64)
    # The rate stays in force for later packets of the same exporter and source id ...
    later = v9.decode(v9_packet([data_set(256, V4_FIELDS, [V4_ROW])]), "e", 0)
    assert only_row(later)["sampling_rate"] == 64
    # ... and only for them.
    other = v9_packet([v9_template_flowset([(256, V4_FIELDS)]), data_set(256, V4_FIELDS, [V4_ROW])])
    assert only_row(v9.decode(other, "another exporter", 0))["sampling_rate"] == 1


def test_each_flow_gets_the_rate_of_its_sampler(v9: NetflowV9Decoder) -> None:
    scope, options = [(1, 4)], [(48, 1), (49, 1), (50, 4)]  # FLOW_SAMPLER_ID, MODE, INTERVAL
    fields = [*V4_FIELDS, (48, 1)]
    samplers = [{48: 1, 49: 2, 50: 10}, {48: 2, 49: 2, 50: 100}]
    flows = [V4_ROW | {48: 1}, V4_ROW | {48: 2}, V4_ROW | {48: 3}]
    packet = v9_packet(
        [
            v9_options_template_flowset(261, scope, options),
            v9_template_flowset([(257, fields)]),
            data_set(261, scope + options, samplers),
            data_set(257, fields, flows),
        ]
    )

    found = rows(clean(v9.decode(packet, "e", 0)))

    assert [row["sampling_rate"] for row in found] == [10, 100, 1]  # sampler 3 is unknown
    assert [row["packets"] for row in found] == [120, 1200, 12]


def test_a_refreshed_template_changes_the_layout(v9: NetflowV9Decoder) -> None:
    first = v9_packet([v9_template_flowset([(256, V4_FIELDS)]), data_set(256, V4_FIELDS, [V4_ROW])])
    swapped = [(12, 4), (8, 4), (4, 1), (1, 4)]  # same id, other fields and order
    second = v9_packet(
        [
            v9_template_flowset([(256, swapped)]),
            data_set(256, swapped, [{12: ip("10.9.9.9"), 8: ip("10.1.1.1"), 4: 17, 1: 99}]),
        ]
    )

    assert only_row(clean(v9.decode(first, "e", 0)))["src_addr"] == mapped("192.0.2.10")
    row = only_row(clean(v9.decode(second, "e", 0)))

    assert (row["src_addr"], row["dst_addr"]) == (mapped("10.1.1.1"), mapped("10.9.9.9"))
    assert (row["protocol"], row["bytes"], row["src_port"]) == (17, 99, 0)


def test_data_before_its_template_is_held_then_decoded(v9: NetflowV9Decoder) -> None:
    early = v9_packet([data_set(256, V4_FIELDS, [V4_ROW, V4_ROW])], uptime=60_000)
    template = v9_packet([v9_template_flowset([(256, V4_FIELDS)])], secs=1_700_000_005)

    held = v9.decode(early, "e", 1_000_000)
    assert (held.flows, held.malformed, held.unknown_template) == (0, 0, 0)

    released = clean(v9.decode(template, "e", 2_000_000))
    found = rows(released)
    assert len(found) == 2
    # Times come from the packet that carried the data, not the one that carried the template.
    assert found[0]["start"] == (EXPORT_MS + 40_000 - 60_000) * 1000


def test_held_data_that_never_gets_its_template_counts_as_unknown(
    v9: NetflowV9Decoder,
) -> None:
    v9.decode(v9_packet([data_set(256, V4_FIELDS, [V4_ROW])]), "e", 0)

    assert v9.decode(v9_packet([]), "e", 29_000_000).unknown_template == 0
    assert v9.decode(v9_packet([]), "e", 31_000_000).unknown_template == 1
    assert v9.collector.held.count("e") == 0


def test_templates_belong_to_an_exporter_and_source_id(v9: NetflowV9Decoder) -> None:
    short = [(8, 4), (12, 4), (4, 1)]
    v9.decode(v9_packet([v9_template_flowset([(256, V4_FIELDS)])], source_id=1), "a", 0)
    v9.decode(v9_packet([v9_template_flowset([(256, short)])], source_id=2), "a", 0)

    data = data_set(256, short, [{8: ip("10.0.0.1"), 12: ip("10.0.0.2"), 4: 17}])
    row = only_row(clean(v9.decode(v9_packet([data], source_id=2), "a", 0)))
    assert (row["protocol"], row["observation_domain"]) == (17, 2)
    # Exporter "b" has no template 256 at all: its data waits.
    assert v9.decode(v9_packet([data], source_id=2), "b", 0).flows == 0
    assert v9.collector.held.count("b") == 1


def test_unknown_and_vendor_fields_are_skipped_by_length(v9: NetflowV9Decoder) -> None:
    fields = [(40000, 7), (8, 4), (95, 4), (12, 4), (56701, 3), (4, 1), (33000, 1)]
    row = {40000: 2**55 + 1, 8: ip("10.0.0.1"), 95: 0xFFFFFFFF, 12: ip("10.0.0.2"),
           56701: 0xABCDEF, 4: 17, 33000: 255}  # fmt: skip
    packet = v9_packet([v9_template_flowset([(256, fields)]), data_set(256, fields, [row] * 3)])

    found = rows(clean(v9.decode(packet, "e", 0)))

    assert [(r["src_addr"], r["dst_addr"], r["protocol"]) for r in found] == [
        (mapped("10.0.0.1"), mapped("10.0.0.2"), 17)
    ] * 3


@pytest.mark.parametrize("length", range(1, 9))
def test_counters_of_any_length_from_1_to_8(v9: NetflowV9Decoder, length: int) -> None:
    fields = [(8, 4), (12, 4), (1, length), (2, length), (10, length)]
    big = 2 ** (8 * length) - 2
    row = {8: ip("10.0.0.1"), 12: ip("10.0.0.2"), 1: big, 2: 1, 10: big & 0xFFFFFFFF}
    packet = v9_packet([v9_template_flowset([(256, fields)]), data_set(256, fields, [row])])

    found = only_row(clean(v9.decode(packet, "e", 0)))

    assert (found["bytes"], found["packets"], found["input_if"]) == (big, 1, big & 0xFFFFFFFF)


def test_flowsets_padded_to_4_bytes(v9: NetflowV9Decoder) -> None:
    fields = [(8, 4), (12, 4), (4, 1)]  # 9-byte records: 3 padding bytes after one record
    packet = v9_packet(
        [
            v9_template_flowset([(256, fields)]),
            data_set(256, fields, [{4: 6}], pad=True),
            data_set(256, fields, [{4: 17}, {4: 1}], pad=True),
        ]
    )

    assert [r["protocol"] for r in rows(clean(v9.decode(packet, "e", 0)))] == [6, 17, 1]


def test_a_reserved_flowset_is_refused_and_the_rest_kept(v9: NetflowV9Decoder) -> None:
    packet = v9_packet(
        [
            v9_template_flowset([(256, V4_FIELDS)]),
            flowset(5, b"\x01\x02\x03\x04"),
            data_set(256, V4_FIELDS, [V4_ROW]),
        ]
    )

    result = v9.decode(packet, "e", 0)

    assert (result.flows, result.malformed) == (1, 1)
    assert result.errors == ["netflow-v9: flowset 5 at offset 104 has a reserved id"]


def test_a_resent_template_is_not_compiled_again(v9: NetflowV9Decoder) -> None:
    packet = v9_packet([v9_template_flowset([(256, V4_FIELDS)])])
    v9.decode(packet, "e", 0)
    compiled = v9.collector.templates.of("e")[(7, 256)]

    assert v9.decode(packet, "e", 0).templates == 1
    assert v9.collector.templates.of("e")[(7, 256)] is compiled


def test_options_flowset_padding_and_several_templates(v9: NetflowV9Decoder) -> None:
    both = v9_template_flowset([(256, V4_FIELDS), (257, [(8, 4), (12, 4)])])
    packet = v9_packet([both, data_set(257, [(8, 4), (12, 4)], [{8: ip("10.0.0.1")}])])

    result = clean(v9.decode(packet, "e", 0))

    assert (result.templates, result.flows) == (2, 1)


def test_accepts_only_version_9_with_a_header(v9: NetflowV9Decoder) -> None:
    packet = v9_packet([])
    assert v9.accepts(packet)
    assert not v9.accepts(packet[:19])
    assert not v9.accepts(b"\x00\x0a" + packet[2:])


def test_template_flowset_padding_and_a_reserved_template_id(v9: NetflowV9Decoder) -> None:
    body = struct.pack(">HHHHHH", 256, 2, 8, 4, 12, 4) + struct.pack(">HHHH", 9, 1, 8, 4)
    packet = v9_packet([flowset(0, body + bytes(8))])

    result = v9.decode(packet, "e", 0)

    assert (result.templates, result.malformed) == (1, 1)
    assert result.errors == ["netflow-v9: template id 9 at offset 36 is reserved"]


def test_options_templates_resent_and_padded(v9: NetflowV9Decoder) -> None:
    options = v9_options_template_flowset(300, [(1, 4)], [(34, 4)])
    padded_options = options[:2] + struct.pack(">H", len(options) + 8) + options[4:] + bytes(8)

    first = clean(v9.decode(v9_packet([padded_options]), "e", 0))
    again = clean(v9.decode(v9_packet([padded_options]), "e", 0))

    assert (first.templates, again.templates) == (1, 1)


def test_a_wrong_version_given_to_decode_directly(v9: NetflowV9Decoder) -> None:
    result = v9.decode(b"\x00\x05" + v9_packet([])[2:], "e", 0)

    assert result.errors == ["netflow-v9: version 5, expected 9"]


def test_a_sampler_id_sent_as_a_scope_field(v9: NetflowV9Decoder) -> None:
    scope, options = [(48, 2)], [(50, 4)]  # not a scope type (1-5): read as FLOW_SAMPLER_ID
    fields = [*V4_FIELDS, (48, 2)]
    packet = v9_packet(
        [
            v9_options_template_flowset(262, scope, options),
            v9_template_flowset([(257, fields)]),
            data_set(262, scope + options, [{48: 513, 50: 20}]),
            data_set(257, fields, [V4_ROW | {48: 513}]),
        ]
    )

    assert only_row(clean(v9.decode(packet, "e", 0)))["sampling_rate"] == 20


def test_a_sampler_rate_changing_between_datagrams_of_one_call(v9: NetflowV9Decoder) -> None:
    scope, options = [(1, 4)], [(48, 1), (50, 4)]
    fields = [*V4_FIELDS, (48, 1)]
    templates = [
        v9_options_template_flowset(261, scope, options),
        v9_template_flowset([(257, fields)]),
    ]

    def packet(rate: int) -> bytes:
        return v9_packet(
            [*templates, data_set(261, scope + options, [{48: 1, 50: rate}]),
             data_set(257, fields, [V4_ROW | {48: 1}])]
        )  # fmt: skip

    found = rows(clean(v9.decode_many([packet(10), packet(20), packet(30)], "e", 0)))

    assert [row["sampling_rate"] for row in found] == [10, 20, 30]
