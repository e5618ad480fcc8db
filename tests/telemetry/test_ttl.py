"""TTL / hop limit in flows: IPFIX and NetFlow v9 minimumTTL/maximumTTL (IE 52, 53), a wrong
length refused, the pcap flow meter's min and max, sFlow sampled headers, and tables written
before the columns existed (archive, own Parquet files) reading as TTL not seen (0, 0)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from cyberpeace.telemetry.archive import FlowArchive
from cyberpeace.telemetry.formats import read_flows
from cyberpeace.telemetry.ipfix import IpfixDecoder
from cyberpeace.telemetry.netflow9 import NetflowV9Decoder
from cyberpeace.telemetry.pcap import read_pcap
from cyberpeace.telemetry.schema import FLOW_SCHEMA, TTL_COLUMNS, empty_columns, to_batch
from cyberpeace.telemetry.sflow import SflowV5Decoder

from .decoders import sflow_encoder as sf
from .decoders.encoder import (
    data_set,
    ip,
    ipfix_message,
    ipfix_template_set,
    v9_packet,
    v9_template_flowset,
)
from .decoders.support import clean, only_row

ADDRESSES = [(8, 4), (12, 4), (4, 1), (2, 4)]
ROW = {8: ip("192.0.2.1"), 12: ip("198.51.100.2"), 4: 17, 2: 3}
ETHER = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def ipfix_row(fields: list[tuple[int, int]], values: dict[int, int | bytes]) -> dict:
    message = ipfix_message([ipfix_template_set([(256, fields)]), data_set(256, fields, [values])])
    return only_row(clean(IpfixDecoder().decode(message, "e", 0)))


def test_netflow_v9_min_and_max_ttl() -> None:
    fields = [*ADDRESSES, (52, 1), (53, 1)]
    packet = v9_packet(
        [v9_template_flowset([(256, fields)]), data_set(256, fields, [ROW | {52: 118, 53: 121}])]
    )
    row = only_row(clean(NetflowV9Decoder().decode(packet, "e", 0)))
    assert (row["min_ttl"], row["max_ttl"]) == (118, 121)


def test_ipfix_one_bound_stands_for_both() -> None:
    row = ipfix_row([*ADDRESSES, (53, 1)], ROW | {53: 60})
    assert (row["min_ttl"], row["max_ttl"]) == (60, 60)
    row = ipfix_row([*ADDRESSES, (52, 1)], ROW | {52: 7})
    assert (row["min_ttl"], row["max_ttl"]) == (7, 7)


def test_ipfix_without_ttl_elements_is_not_seen() -> None:
    row = ipfix_row(ADDRESSES, ROW)
    assert (row["min_ttl"], row["max_ttl"]) == (0, 0)


def test_a_ttl_element_of_two_octets_is_ignored_with_a_message() -> None:
    """A TTL is one octet (RFC 791); a 2-octet IE 52 could smuggle 300 into a uint8 column."""
    fields = [*ADDRESSES, (52, 2), (53, 1)]
    message = ipfix_message(
        [ipfix_template_set([(256, fields)]), data_set(256, fields, [ROW | {52: 300, 53: 64}])]
    )
    decoder = IpfixDecoder()
    result = decoder.decode(message, "e", 0)
    assert any("minimumTTL with length 2 ignored" in e for e in result.errors), result.errors
    row = only_row(result)
    assert (row["min_ttl"], row["max_ttl"]) == (64, 64)  # the good bound only
    assert (row["protocol"], row["packets"]) == (17, 3)  # the rest of the record still reads


def test_pcap_flows_keep_the_lowest_and_highest_ttl(tmp_path: Path) -> None:
    ttls = [64, 61, 63, 200]
    packets = [
        ETHER / IP(src="192.0.2.1", dst="198.51.100.2", ttl=t) / UDP(sport=1000, dport=53)
        for t in ttls
    ]
    packets.append(
        ETHER / IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=17) / UDP(sport=5, dport=6)
    )
    for index, packet in enumerate(packets):
        packet.time = 1_700_000_000 + index * 0.1
    path = tmp_path / "ttl.pcap"
    wrpcap(str(path), packets)
    flows = read_pcap(path).flows.to_pylist()
    by_version = {row["ip_version"]: row for row in flows}
    assert (by_version[4]["min_ttl"], by_version[4]["max_ttl"]) == (min(ttls), max(ttls))
    assert (by_version[6]["min_ttl"], by_version[6]["max_ttl"]) == (17, 17)


def test_sflow_sampled_header_gives_the_packet_ttl() -> None:
    packet = ETHER / IP(src="192.0.2.1", dst="198.51.100.2", ttl=113) / UDP(sport=1, dport=2)
    sample = sf.flow_sample([sf.sampled_header(bytes(packet))], rate=1)
    decoded = SflowV5Decoder().decode_many([sf.datagram([sample])], "e", 1_700_000_000_000_000)
    row = only_row(clean(decoded))
    assert (row["min_ttl"], row["max_ttl"]) == (113, 113)


def _batch(ttl: int) -> pa.RecordBatch:
    columns = empty_columns(2)
    columns["start"][:] = columns["end"][:] = 1_764_000_000_000_000
    columns["ip_version"][:] = 4
    columns["min_ttl"][:] = columns["max_ttl"][:] = ttl
    return to_batch(columns, "e")


def test_an_archive_of_files_without_ttl_reads_as_not_seen(tmp_path: Path) -> None:
    archive = FlowArchive(tmp_path)
    archive.write(_batch(0))
    (old,) = archive.flush()
    table = pq.read_table(old)
    pq.write_table(table.drop_columns(list(TTL_COLUMNS)), old)  # as written before the columns
    scanned = archive.scan(FLOW_SCHEMA.names)
    assert scanned.num_rows == 2
    assert scanned.column("min_ttl").to_pylist() == [0, 0]
    assert scanned.cast(FLOW_SCHEMA).schema.equals(FLOW_SCHEMA)
    archive.write(_batch(55))  # a newer file next to the old one
    archive.flush()
    both = archive.scan(["max_ttl", "protocol"], start=datetime(2025, 1, 1, tzinfo=UTC))
    assert sorted(both.column("max_ttl").to_pylist()) == [0, 0, 55, 55]


def test_our_parquet_without_ttl_columns_still_reads(tmp_path: Path) -> None:
    table = pa.Table.from_batches([_batch(0)]).drop_columns(list(TTL_COLUMNS))
    path = tmp_path / "old.parquet"
    pq.write_table(table, path)
    result = read_flows(path)
    assert result.flows.schema.equals(FLOW_SCHEMA)
    assert result.flows.column("max_ttl").to_pylist() == [0, 0]
