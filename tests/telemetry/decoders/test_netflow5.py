"""NetFlow v5: every schema column, sampling, ICMP, uptime wrap, batches, bad lengths."""

from __future__ import annotations

from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from cyberpeace.telemetry.schema import DIRECTION_UNKNOWN

from .encoder import V5Record, mapped, v5_datagram
from .support import clean, only_row, rows

EXPORT_US = 1_700_000_000 * 1_000_000 + 500_000  # the encoder's unix_secs and unix_nsecs


def test_every_column_of_a_tcp_record(v5: NetflowV5Decoder) -> None:
    result = clean(v5.decode(v5_datagram([V5Record()]), "192.0.2.200", 123))

    assert only_row(result) == {
        # First/Last 1000 and 2000 ms of uptime, exported at uptime 10000 ms.
        "start": EXPORT_US - 9_000_000,
        "end": EXPORT_US - 8_000_000,
        "exporter": "192.0.2.200",
        "observation_domain": 1 << 8 | 2,  # engine_type 1, engine_id 2
        "ip_version": 4,
        "src_addr": mapped("192.0.2.1"),
        "dst_addr": mapped("198.51.100.2"),
        "src_port": 40000,
        "dst_port": 443,
        "protocol": 6,
        "tcp_flags": 0x12,
        "icmp_type": 0,
        "icmp_code": 0,
        "packets": 10,
        "bytes": 1500,
        "sampling_rate": 1,
        "input_if": 3,
        "output_if": 4,
        "src_as": 64500,
        "dst_as": 64501,
        "next_hop": mapped("203.0.113.254"),
        "direction": DIRECTION_UNKNOWN,
        "min_ttl": 0,  # NetFlow v5 carries no TTL: not seen
        "max_ttl": 0,
    }


def test_thirty_records_keep_their_order(v5: NetflowV5Decoder) -> None:
    records = [V5Record(src=f"10.0.0.{i}", packets=i + 1, octets=100 * i) for i in range(30)]

    found = rows(clean(v5.decode(v5_datagram(records), "e", 0)))

    assert [row["src_addr"] for row in found] == [mapped(f"10.0.0.{i}") for i in range(30)]
    assert [row["packets"] for row in found] == list(range(1, 31))
    assert [row["bytes"] for row in found] == [100 * i for i in range(30)]


def test_icmp_type_and_code_come_from_the_destination_port(v5: NetflowV5Decoder) -> None:
    record = V5Record(protocol=1, src_port=0, dst_port=3 << 8 | 4)  # port unreachable? 3/4

    row = only_row(clean(v5.decode(v5_datagram([record]), "e", 0)))

    assert (row["icmp_type"], row["icmp_code"]) == (3, 4)
    assert (row["src_port"], row["dst_port"]) == (0, 0)


def test_sampling_interval_multiplies_counts() -> None:
    decoder = NetflowV5Decoder()
    for mode in (0b00, 0b01, 0b10):
        datagram = v5_datagram([V5Record(packets=3, octets=300)], sampling=mode << 14 | 100)
        row = only_row(clean(decoder.decode(datagram, "e", 0)))
        assert (row["packets"], row["bytes"], row["sampling_rate"]) == (300, 30000, 100)


def test_times_are_right_across_an_uptime_wrap(v5: NetflowV5Decoder) -> None:
    # The flow started 5 s before the 32-bit millisecond counter wrapped; exported 2 s after.
    record = V5Record(first=2**32 - 5_000, last=1_000)
    datagram = v5_datagram([record], uptime=2_000, nsecs=0)

    row = only_row(clean(v5.decode(datagram, "e", 0)))

    export_us = 1_700_000_000 * 1_000_000
    assert row["start"] == export_us - 7_000_000
    assert row["end"] == export_us - 1_000_000


def test_decode_many_equals_one_by_one(v5: NetflowV5Decoder) -> None:
    datagrams = [
        v5_datagram([V5Record(packets=i)] * (i + 1), uptime=10_000 + i, engine_id=i, sampling=i)
        for i in range(5)
    ]

    together = rows(clean(v5.decode_many(datagrams, "e", 0)))
    apart = [row for d in datagrams for row in rows(clean(v5.decode(d, "e", 0)))]

    assert together == apart
    assert len(together) == 15


def test_a_count_beyond_the_datagram_keeps_the_records_that_fit(v5: NetflowV5Decoder) -> None:
    datagram = v5_datagram([V5Record(), V5Record()], count=30)

    result = v5.decode(datagram, "e", 0)

    assert result.flows == 2
    assert result.malformed == 1
    assert result.errors == ["netflow-v5: header claims 30 records, only 2 fit in 120 bytes"]


def test_bytes_beyond_the_count_are_reported(v5: NetflowV5Decoder) -> None:
    result = v5.decode(v5_datagram([V5Record()]) + b"\0" * 5, "e", 0)

    assert (result.flows, result.malformed) == (1, 1)
    assert "leave bytes over" in result.errors[0]


def test_bad_datagrams_are_refused_and_good_ones_kept(v5: NetflowV5Decoder) -> None:
    good = v5_datagram([V5Record()])
    wrong_version = b"\x00\x07" + good[2:]

    result = v5.decode_many([good[:10], wrong_version, good, b""], "e", 0)

    assert result.flows == 1
    assert result.malformed == 3
    assert result.errors[1] == "netflow-v5: version 7, expected 5"


def test_accepts_only_version_5_with_a_header(v5: NetflowV5Decoder) -> None:
    good = v5_datagram([V5Record()])
    assert v5.accepts(good)
    assert v5.accepts(good[:24])
    assert not v5.accepts(good[:23])
    assert not v5.accepts(b"\x00\x09" + good[2:])
    assert not v5.accepts(b"\x00\x00\x00\x05" + good[4:])  # sFlow's version 5 is 32 bits
