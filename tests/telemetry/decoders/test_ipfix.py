"""IPFIX (RFC 7011): columns, time forms, reduced size, variable length, enterprise fields,
withdrawal, refresh, held data, template floods, sampling from options."""

from __future__ import annotations

import struct

import pytest

from cyberpeace.telemetry.ipfix import IpfixDecoder

from .encoder import (
    VARIABLE,
    data_set,
    flowset,
    ip,
    ipfix_message,
    ipfix_options_template_set,
    ipfix_template_set,
    ipfix_withdrawal,
    mapped,
)
from .support import clean, only_row, rows

EXPORT_S = 1_700_000_100  # the encoder's export time
EXPORT_US = EXPORT_S * 1_000_000
NTP_OFFSET = 2_208_988_800

V4_FIELDS = [
    (8, 4), (12, 4), (15, 4), (7, 2), (11, 2), (4, 1), (6, 2), (1, 8), (2, 8), (152, 8),
    (153, 8), (10, 4), (14, 4), (16, 4), (17, 4), (61, 1), (52, 1), (53, 1),
]  # fmt: skip
V4_ROW: dict[int, int | bytes] = {
    8: ip("198.51.100.7"), 12: ip("203.0.113.9"), 15: ip("198.51.100.1"), 7: 5353, 11: 53,
    4: 17, 6: 0, 1: 5_000_000_000, 2: 4_000_000, 152: EXPORT_S * 1000 - 2500,
    153: EXPORT_S * 1000 - 500, 10: 11, 14: 12, 16: 4_200_000_000, 17: 65551, 61: 1, 52: 47,
    53: 52,
}  # fmt: skip
ADDRESSES = [(8, 4), (12, 4)]
PAIR = {8: ip("10.0.0.1"), 12: ip("10.0.0.2")}


def with_template(fields: list[tuple[int, int]] | list, rows_: list, tid: int = 256) -> bytes:
    return ipfix_message([ipfix_template_set([(tid, fields)]), data_set(tid, fields, rows_)])


def test_every_column_of_an_ipv4_flow(ipfix: IpfixDecoder) -> None:
    result = clean(ipfix.decode(with_template(V4_FIELDS, [V4_ROW]), "192.0.2.50", 0))

    assert only_row(result) == {
        "start": EXPORT_US - 2_500_000,
        "end": EXPORT_US - 500_000,
        "exporter": "192.0.2.50",
        "observation_domain": 42,
        "ip_version": 4,
        "src_addr": mapped("198.51.100.7"),
        "dst_addr": mapped("203.0.113.9"),
        "src_port": 5353,
        "dst_port": 53,
        "protocol": 17,
        "tcp_flags": 0,
        "icmp_type": 0,
        "icmp_code": 0,
        "packets": 4_000_000,
        "bytes": 5_000_000_000,
        "sampling_rate": 1,
        "input_if": 11,
        "output_if": 12,
        "src_as": 4_200_000_000,
        "dst_as": 65551,
        "next_hop": mapped("198.51.100.1"),
        "direction": 1,
        "min_ttl": 47,
        "max_ttl": 52,
    }


def test_every_column_of_an_ipv6_icmp_flow(ipfix: IpfixDecoder) -> None:
    fields = [(27, 16), (28, 16), (62, 16), (4, 1), (139, 2), (1, 4), (2, 4), (6, 1), (61, 1)]
    row = {27: ip("2001:db8::a"), 28: ip("2001:db8::b"), 62: ip("2001:db8::1"), 4: 58,
           139: 1 << 8 | 4, 1: 1280, 2: 1, 6: 0, 61: 0}  # fmt: skip

    found = only_row(clean(ipfix.decode(with_template(fields, [row]), "e", 0)))

    assert found == found | {
        "start": EXPORT_US,  # no time fields: the export time
        "end": EXPORT_US,
        "ip_version": 6,
        "src_addr": ip("2001:db8::a"),
        "dst_addr": ip("2001:db8::b"),
        "next_hop": ip("2001:db8::1"),
        "icmp_type": 1,
        "icmp_code": 4,
        "bytes": 1280,
        "direction": 0,
    }


def test_next_hop_is_null_when_the_template_has_none(ipfix: IpfixDecoder) -> None:
    found = only_row(clean(ipfix.decode(with_template(ADDRESSES, [PAIR]), "e", 0)))

    assert found["next_hop"] is None
    assert found["direction"] == 255


def ntp(seconds: int, fraction: float) -> int:
    return (seconds + NTP_OFFSET) << 32 | round(fraction * 2**32)


@pytest.mark.parametrize(
    ("fields", "values", "start", "end"),
    [
        ([(150, 4), (151, 4)], {150: EXPORT_S - 9, 151: EXPORT_S - 1}, -9_000_000, -1_000_000),
        (
            [(154, 8), (155, 8)],
            {154: ntp(EXPORT_S - 2, 0.25), 155: ntp(EXPORT_S - 1, 0.5)},
            -1_750_000,
            -500_000,
        ),
        (
            [(156, 8), (157, 8)],
            {156: ntp(EXPORT_S - 3, 0.125), 157: ntp(EXPORT_S, 0)},
            -2_875_000,
            0,
        ),
        ([(158, 4), (159, 4)], {158: 7_000_000, 159: 3}, -7_000_000, -3),
        ([(152, 8), (161, 4)], {152: EXPORT_S * 1000 - 4000, 161: 1500}, -4_000_000, -2_500_000),
        ([(153, 8), (162, 4)], {153: EXPORT_S * 1000, 162: 250}, -250, 0),
        # sysUpTime with the exporter's boot time in the record (IE 160): boot 1000 s before export.
        (
            [(22, 4), (21, 4), (160, 8)],
            {22: 990_000, 21: 995_000, 160: (EXPORT_S - 1000) * 1000},
            -10_000_000,
            -5_000_000,
        ),
        # sysUpTime without a boot time: the latest end in the set is taken as the export time.
        ([(22, 4), (21, 4)], {22: 3_000, 21: 8_000}, -5_000_000, 0),
    ],
    ids=[
        "seconds",
        "ntp-micro",
        "ntp-nano",
        "delta",
        "duration-ms",
        "duration-us",
        "uptime",
        "uptime-guessed",
    ],
)
def test_time_forms(ipfix: IpfixDecoder, fields: list, values: dict, start: int, end: int) -> None:
    message = with_template(ADDRESSES + fields, [PAIR | values])

    found = only_row(clean(ipfix.decode(message, "e", 0)))

    assert (found["start"] - EXPORT_US, found["end"] - EXPORT_US) == (start, end)


def test_uptime_times_with_the_boot_time_from_options_data(ipfix: IpfixDecoder) -> None:
    scope, options = [(149, 4)], [(160, 8)]  # observationDomainId; systemInitTimeMilliseconds
    fields = [*ADDRESSES, (22, 4), (21, 4)]
    message = ipfix_message(
        [
            ipfix_options_template_set(300, scope, options),
            data_set(300, scope + options, [{149: 42, 160: (EXPORT_S - 100) * 1000}]),
            ipfix_template_set([(256, fields)]),
            data_set(256, fields, [PAIR | {22: 60_000, 21: 90_000}]),
        ]
    )

    found = only_row(clean(ipfix.decode(message, "e", 0)))

    assert (found["start"], found["end"]) == (EXPORT_US - 40_000_000, EXPORT_US - 10_000_000)


@pytest.mark.parametrize("length", range(1, 9))
def test_reduced_size_encoding(ipfix: IpfixDecoder, length: int) -> None:
    fields = [*ADDRESSES, (1, length), (2, length), (16, min(length, 4))]
    octets = 2 ** (8 * length) - 3
    row = PAIR | {1: octets, 2: 2, 16: 2 ** (8 * min(length, 4)) - 1}

    found = only_row(clean(ipfix.decode(with_template(fields, [row]), "e", 0)))

    assert (found["bytes"], found["packets"]) == (octets, 2)
    assert found["src_as"] == 2 ** (8 * min(length, 4)) - 1


def test_variable_length_fields(ipfix: IpfixDecoder) -> None:
    # interfaceName (82) and interfaceDescription (83) are strings of variable length.
    fields = [(8, 4), (82, VARIABLE), (12, 4), (83, VARIABLE), (4, 1), (7, 2)]
    names = [b"", b"ge-0/0/0", b"x" * 300, b"y" * 254, b"z" * 255]
    data = [PAIR | {82: name, 83: name[:3], 4: 6, 7: 1000 + i} for i, name in enumerate(names)]

    found = rows(clean(ipfix.decode(with_template(fields, data), "e", 0)))

    assert [row["src_port"] for row in found] == [1000, 1001, 1002, 1003, 1004]
    assert {(row["src_addr"], row["dst_addr"], row["protocol"]) for row in found} == {
        (mapped("10.0.0.1"), mapped("10.0.0.2"), 6)
    }


def test_a_variable_length_record_that_overruns_its_set(ipfix: IpfixDecoder) -> None:
    fields = [(8, 4), (82, VARIABLE), (12, 4)]
    good = bytes(4) + b"\x02ab" + bytes(4)
    bad = bytes(4) + b"\x30" + bytes(4)  # claims 48 bytes of name
    message = ipfix_message([ipfix_template_set([(256, fields)]), flowset(256, good + bad)])

    result = ipfix.decode(message, "e", 0)

    assert (result.flows, result.malformed) == (1, 1)
    assert result.errors == [
        "ipfix: set at offset 36 of template 256: record 1 at set offset 11 overruns"
    ]


def test_enterprise_fields_are_skipped(ipfix: IpfixDecoder) -> None:
    # Enterprise element 8 of PEN 9 is not sourceIPv4Address; PEN fields may be variable too.
    fields = [(8, 4, 9), (8, 4), (1, VARIABLE, 29305), (12, 4), (2, 3, 29305), (4, 1)]
    row = {-8: ip("1.1.1.1"), 8: ip("10.0.0.1"), -1: b"vendor", 12: ip("10.0.0.2"), 4: 17}

    found = only_row(clean(ipfix.decode(with_template(fields, [row]), "e", 0)))

    assert (found["src_addr"], found["dst_addr"]) == (mapped("10.0.0.1"), mapped("10.0.0.2"))
    assert (found["protocol"], found["bytes"]) == (17, 0)


def test_a_template_withdrawn_alone(ipfix: IpfixDecoder) -> None:
    short = [(8, 4), (12, 4), (4, 1)]
    ipfix.decode(ipfix_message([ipfix_template_set([(256, V4_FIELDS), (257, short)])]), "e", 0)

    withdrawn = ipfix.decode(ipfix_message([ipfix_withdrawal(256)]), "e", 0)
    after = ipfix.decode(
        ipfix_message([data_set(256, V4_FIELDS, [V4_ROW]), data_set(257, short, [PAIR])]), "e", 0
    )

    assert withdrawn.templates == 1
    assert after.flows == 1  # 257 still known; 256 data now waits for a template
    assert ipfix.collector.held.count("e") == 1


def test_all_templates_withdrawn_at_once(ipfix: IpfixDecoder) -> None:
    scope, options = [(149, 4)], [(34, 4)]
    ipfix.decode(
        ipfix_message(
            [
                ipfix_template_set([(256, V4_FIELDS), (257, ADDRESSES)]),
                ipfix_options_template_set(300, scope, options),
            ]
        ),
        "e",
        0,
    )
    templates = ipfix.collector.templates.of("e")

    ipfix.decode(ipfix_message([ipfix_withdrawal(2)]), "e", 0)
    assert set(templates) == {(42, 300)}  # options templates stay
    ipfix.decode(ipfix_message([ipfix_withdrawal(3, options=True)]), "e", 0)
    assert templates == {}


def test_a_refreshed_template_changes_the_layout(ipfix: IpfixDecoder) -> None:
    assert only_row(ipfix.decode(with_template(V4_FIELDS, [V4_ROW]), "e", 0))["protocol"] == 17

    other = [(4, 1), (12, 4), (8, 4)]
    row = {4: 6, 8: ip("10.1.1.1"), 12: ip("10.2.2.2")}
    found = only_row(clean(ipfix.decode(with_template(other, [row]), "e", 0)))

    assert (found["protocol"], found["src_addr"]) == (6, mapped("10.1.1.1"))
    assert found["next_hop"] is None


def test_data_before_its_template_in_the_same_message(ipfix: IpfixDecoder) -> None:
    message = ipfix_message(
        [data_set(256, V4_FIELDS, [V4_ROW]), ipfix_template_set([(256, V4_FIELDS)])]
    )

    assert clean(ipfix.decode(message, "e", 0)).flows == 1


def test_data_before_its_template_is_held_then_decoded(ipfix: IpfixDecoder) -> None:
    held = ipfix.decode(ipfix_message([data_set(256, V4_FIELDS, [V4_ROW] * 3)]), "e", 0)
    later = ipfix.decode(ipfix_message([ipfix_template_set([(256, V4_FIELDS)])]), "e", 5_000_000)

    assert (held.flows, held.unknown_template) == (0, 0)
    assert clean(later).flows == 3
    assert ipfix.collector.held.count("e") == 0


def test_held_sets_are_bounded_in_number(ipfix: IpfixDecoder) -> None:
    many = [data_set(256, ADDRESSES, [PAIR])] * 1001
    result = ipfix.decode_many([ipfix_message([s]) for s in many], "e", 0)

    assert result.unknown_template == 1  # the oldest made room for the 1001st
    assert ipfix.collector.held.count("e") == 1000


def test_a_template_flood_is_capped_per_exporter(ipfix: IpfixDecoder) -> None:
    templates = [(256 + i, ADDRESSES) for i in range(4100)]
    message = ipfix_message([ipfix_template_set(templates)])

    result = ipfix.decode(message, "e", 0)

    assert result.templates == 4096
    assert result.malformed == 4
    assert result.errors[0] == "ipfix: template 4352 refused: 4096 templates"
    # A known template may still be refreshed; another exporter has its own allowance.
    refresh = ipfix.decode(with_template([(12, 4), (8, 4)], [PAIR], tid=256), "e", 0)
    assert (refresh.malformed, refresh.flows) == (0, 1)
    assert clean(ipfix.decode(with_template(ADDRESSES, [PAIR], tid=9999), "f", 0)).flows == 1


def test_sampling_interval_for_the_whole_domain(ipfix: IpfixDecoder) -> None:
    scope, options = [(149, 4)], [(34, 4), (35, 1)]
    message = ipfix_message(
        [
            ipfix_options_template_set(300, scope, options),
            data_set(300, scope + options, [{149: 42, 34: 1000, 35: 1}]),
            ipfix_template_set([(256, V4_FIELDS)]),
            data_set(256, V4_FIELDS, [V4_ROW]),
        ]
    )

    found = only_row(clean(ipfix.decode(message, "e", 0)))

    assert found["sampling_rate"] == 1000
    assert (found["packets"], found["bytes"]) == (4_000_000_000, 5_000_000_000_000)


def test_psamp_selectors_give_each_flow_its_rate(ipfix: IpfixDecoder) -> None:
    # Selector 7: systematic count-based, 1 packet in every 1 + 99; selector 8: 10 out of 2000.
    sampling = [
        ipfix_options_template_set(300, [(302, 8)], [(305, 4), (306, 4)]),
        ipfix_options_template_set(301, [(302, 8)], [(309, 4), (310, 4)]),
        data_set(300, [(302, 8), (305, 4), (306, 4)], [{302: 7, 305: 1, 306: 99}]),
        data_set(301, [(302, 8), (309, 4), (310, 4)], [{302: 8, 309: 10, 310: 2000}]),
    ]
    fields = [*ADDRESSES, (2, 4), (302, 4)]
    flows = [PAIR | {2: 1, 302: 7}, PAIR | {2: 1, 302: 8}, PAIR | {2: 1, 302: 9}]
    message = ipfix_message(
        [*sampling, ipfix_template_set([(256, fields)]), data_set(256, fields, flows)]
    )

    found = rows(clean(ipfix.decode(message, "e", 0)))

    assert [row["sampling_rate"] for row in found] == [100, 200, 1]
    assert [row["packets"] for row in found] == [100, 200, 1]


def test_sampler_id_and_random_interval(ipfix: IpfixDecoder) -> None:
    options_fields = [(48, 1), (49, 1), (50, 4)]
    fields = [*ADDRESSES, (48, 1), (1, 4)]
    message = ipfix_message(
        [
            ipfix_options_template_set(300, [(48, 1)], [(49, 1), (50, 4)]),
            data_set(300, options_fields, [{48: 3, 49: 2, 50: 512}]),
            ipfix_template_set([(256, fields)]),
            data_set(256, fields, [PAIR | {48: 3, 1: 2}]),
        ]
    )

    assert only_row(clean(ipfix.decode(message, "e", 0)))["bytes"] == 1024


def test_mixed_families_in_one_template(ipfix: IpfixDecoder) -> None:
    fields = [(60, 1), (8, 4), (12, 4), (27, 16), (28, 16)]
    flows = [
        {60: 4, 8: ip("10.0.0.1"), 12: ip("10.0.0.2")},
        {60: 6, 27: ip("2001:db8::1"), 28: ip("2001:db8::2")},
    ]

    found = rows(clean(ipfix.decode(with_template(fields, flows), "e", 0)))

    assert [(r["ip_version"], r["src_addr"], r["dst_addr"]) for r in found] == [
        (4, mapped("10.0.0.1"), mapped("10.0.0.2")),
        (6, ip("2001:db8::1"), ip("2001:db8::2")),
    ]


def test_padding_at_the_end_of_data_and_template_sets(ipfix: IpfixDecoder) -> None:
    fields = [(8, 4), (12, 4), (4, 1)]
    template_body = struct.pack(">HHHHHHHH", 256, 3, 8, 4, 12, 4, 4, 1) + bytes(4)
    message = ipfix_message(
        [flowset(2, template_body), data_set(256, fields, [{4: 6}, {4: 17}], pad=True)]
    )

    result = clean(ipfix.decode(message, "e", 0))

    assert [r["protocol"] for r in rows(result)] == [6, 17]


def test_accepts_version_10_with_a_plausible_length(ipfix: IpfixDecoder) -> None:
    message = ipfix_message([])
    assert ipfix.accepts(message)
    assert not ipfix.accepts(message[:15])
    assert not ipfix.accepts(message[:2] + b"\x00\x0f" + message[4:])  # shorter than a header
    assert not ipfix.accepts(b"\x00\x09" + message[2:])


def test_records_of_several_templates_in_one_call(ipfix: IpfixDecoder) -> None:
    other = [(12, 4), (8, 4), (4, 1)]
    messages = [
        with_template(ADDRESSES, [PAIR], tid=256),
        with_template(other, [PAIR | {4: 6}] * 2, tid=257),
        ipfix_message([data_set(256, ADDRESSES, [PAIR])]),
    ]

    result = clean(ipfix.decode_many(messages, "e", 0))

    assert len(result.batches) == 1
    assert [row["protocol"] for row in rows(result)] == [0, 0, 6, 6]


def test_mixed_families_without_ip_version(ipfix: IpfixDecoder) -> None:
    fields = [(8, 4), (12, 4), (15, 4), (27, 16), (28, 16), (62, 16)]
    flows = [
        {8: ip("10.0.0.1"), 12: ip("10.0.0.2"), 15: ip("10.0.0.254")},
        {27: ip("2001:db8::1"), 28: ip("2001:db8::2"), 15: ip("10.0.0.254")},
        {27: ip("2001:db8::3"), 28: ip("2001:db8::4"), 62: ip("2001:db8::fe")},
    ]

    found = rows(clean(ipfix.decode(with_template(fields, flows), "e", 0)))

    assert [r["ip_version"] for r in found] == [4, 6, 6]
    assert [r["src_addr"] for r in found] == [
        mapped("10.0.0.1"),
        ip("2001:db8::1"),
        ip("2001:db8::3"),
    ]
    # A next hop takes whichever family is set (an IPv6 flow may leave by an IPv4 next hop).
    assert [r["next_hop"] for r in found] == [
        mapped("10.0.0.254"),
        mapped("10.0.0.254"),
        ip("2001:db8::fe"),
    ]


def test_icmp_type_and_code_elements(ipfix: IpfixDecoder) -> None:
    fields = [*ADDRESSES, (4, 1), (176, 1), (177, 1), (11, 2)]
    flows = [PAIR | {4: 1, 176: 3, 177: 13, 11: 3 << 8 | 13}, PAIR | {4: 6, 11: 443}]

    found = rows(clean(ipfix.decode(with_template(fields, flows), "e", 0)))

    assert [(r["icmp_type"], r["icmp_code"], r["dst_port"]) for r in found] == [
        (3, 13, 0),
        (0, 0, 443),
    ]


def test_icmp_type_and_code_from_the_destination_port(ipfix: IpfixDecoder) -> None:
    fields = [*ADDRESSES, (4, 1), (7, 2), (11, 2)]
    flows = [PAIR | {4: 1, 7: 0, 11: 8 << 8}, PAIR | {4: 17, 7: 53, 11: 53}]

    found = rows(clean(ipfix.decode(with_template(fields, flows), "e", 0)))

    assert [(r["icmp_type"], r["icmp_code"], r["src_port"], r["dst_port"]) for r in found] == [
        (8, 0, 0, 0),
        (0, 0, 53, 53),
    ]


def test_sampling_carried_by_each_record(ipfix: IpfixDecoder) -> None:
    by_interval = [*ADDRESSES, (2, 4), (34, 4)]
    by_packets = [*ADDRESSES, (2, 4), (305, 4), (306, 4)]
    messages = [
        with_template(by_interval, [PAIR | {2: 1, 34: 10}, PAIR | {2: 1, 34: 0}], tid=256),
        with_template(by_packets, [PAIR | {2: 1, 305: 2, 306: 6}], tid=257),
    ]

    found = rows(clean(ipfix.decode_many(messages, "e", 0)))

    assert [r["sampling_rate"] for r in found] == [10, 1, 4]
    assert [r["packets"] for r in found] == [10, 1, 4]


def test_a_resent_template_is_skipped(ipfix: IpfixDecoder) -> None:
    ipfix.decode(with_template(V4_FIELDS, [V4_ROW]), "e", 0)
    compiled = ipfix.collector.templates.of("e")[(42, 256)]

    again = clean(ipfix.decode(with_template(V4_FIELDS, [V4_ROW]), "e", 0))

    assert (again.templates, again.flows) == (1, 1)
    assert ipfix.collector.templates.of("e")[(42, 256)] is compiled


def test_withdrawing_a_reserved_template_id_is_refused(ipfix: IpfixDecoder) -> None:
    result = ipfix.decode(ipfix_message([ipfix_withdrawal(5)]), "e", 0)

    assert result.errors == ["ipfix: withdrawal of reserved template id 5"]


def test_an_enterprise_number_cut_off(ipfix: IpfixDecoder) -> None:
    body = struct.pack(">HHHHIHH", 256, 2, 0x8001, 4, 9, 0x8002, 4) + b"\x00\x00"
    result = ipfix.decode(ipfix_message([flowset(2, body, pad=False)]), "e", 0)

    assert result.errors == [
        "ipfix: template 256 at offset 20: enterprise number of field 1 of 2 is cut off"
    ]


def test_fields_ignored_for_their_length_are_noted(ipfix: IpfixDecoder) -> None:
    fields = [(8, 4), (12, 4), (27, 4)]  # an IPv6 address cannot be 4 bytes

    result = ipfix.decode(with_template(fields, [PAIR]), "e", 0)

    assert (result.flows, result.malformed) == (1, 0)
    assert result.errors == ["ipfix: template 256 field 2: sourceIPv6Address with length 4 ignored"]


def test_records_without_addresses_are_not_flows(ipfix: IpfixDecoder) -> None:
    fields = [(1, 8), (2, 8)]

    result = clean(ipfix.decode(with_template(fields, [{1: 5, 2: 1}]), "e", 0))

    assert (result.flows, result.templates) == (0, 1)


def test_options_without_sampling_change_nothing(ipfix: IpfixDecoder) -> None:
    scope, options = [(149, 4)], [(5, 1), (95, 4)]
    message = ipfix_message(
        [
            ipfix_options_template_set(300, scope, options),
            data_set(300, scope + options, [{149: 42}]),
            ipfix_template_set([(256, V4_FIELDS)]),
            data_set(256, V4_FIELDS, [V4_ROW]),
        ]
    )

    assert only_row(clean(ipfix.decode(message, "e", 0)))["sampling_rate"] == 1


def test_options_with_a_variable_length_sampler_name(ipfix: IpfixDecoder) -> None:
    scope, options = [(48, 1)], [(84, VARIABLE), (50, 4)]  # samplerName is a string
    fields = [*ADDRESSES, (48, 1), (2, 4)]
    message = ipfix_message(
        [
            ipfix_options_template_set(300, scope, options),
            data_set(300, scope + options, [{48: 1, 84: b"sampler-one", 50: 16}]),
            ipfix_template_set([(256, fields)]),
            data_set(256, fields, [PAIR | {48: 1, 2: 3}]),
        ]
    )

    assert only_row(clean(ipfix.decode(message, "e", 0)))["packets"] == 48


def test_a_wrong_version_given_to_decode_directly(ipfix: IpfixDecoder) -> None:
    result = ipfix.decode(b"\x00\x09" + ipfix_message([])[2:], "e", 0)

    assert result.errors == ["ipfix: version 9, expected 10"]


def test_an_uptime_start_with_an_absolute_end(ipfix: IpfixDecoder) -> None:
    fields = [*ADDRESSES, (22, 4), (153, 8)]
    row = PAIR | {22: 5_000, 153: EXPORT_S * 1000 - 700}

    found = only_row(clean(ipfix.decode(with_template(fields, [row]), "e", 0)))

    assert (found["start"], found["end"]) == (EXPORT_US, EXPORT_US - 700_000)
