"""sFlow version 5 into the Flow schema.

"sFlow Version 5" (sFlow.org, July 2004): section 3.1 "Packet Flow Sampling" says what a flow
sample is (one packet in ``sampling_rate``, picked at random), section 5 "sFlow Datagram Format"
how it is sent. sflow_samples.py walks the datagrams; this module makes flows of what it found.

Each flow sample becomes one flow:

- packets = sampling_rate: the sampled packet stands for ``sampling_rate`` packets (section 3.1,
  the estimate a collector is meant to make); sampling_rate is also the column of that name.
- bytes = the sampled packet's IP length (IP header and payload) times sampling_rate. Not the
  sampled_header's frame_length: that is the layer-2 frame with its FCS and any VLAN tag, 18 to
  22 bytes more a packet over Ethernet, while NetFlow and IPFIX count layer-3 bytes
  (octetDeltaCount, RFC 7012 section 5.10.1); flows from every source must add up alike. The IP
  length is the IPv4 Total Length or 40 + the IPv6 Payload Length of the sampled header, or the
  ``length`` of sampled_ipv4/sampled_ipv6, which is the same.
- start = end = the time the datagram was received: samples carry no time of their own (the
  datagram's ``uptime`` is the agent's, with no wall-clock time beside it).
- addresses, ports, protocol, TCP flags, ICMP type and code: from the sampled header, decoded
  for all samples of a burst at once by packets.parse_headers (header_protocol 1 Ethernet, 11
  IPv4, 12 IPv6); where there is none or it does not decode, from sampled_ipv4/ipv6, whose
  src_port and dst_port hold the ICMP type and code for ICMP ("or equivalent", as agents fill
  them). A sample with neither is not a flow. (The type of service has no column.)
- input_if, output_if: the ifIndex of the interface; 0 where it is unknown, where the packet
  was discarded (format 1) or sent to several interfaces (format 2): those name no interface.
- src_as, dst_as: from extended_gateway; next_hop: from extended_router, null without one.
- observation_domain: the index of the sample's source id (sFlowDataSource, its low 24 bits in
  the compact form): the interface, VLAN or entity whose sampler took it, which is what tells
  the samplers of one agent apart. The source class and the sub-agent id are not kept.
- exporter: the address the datagram came from, as for the other decoders (the agent address in
  the header is checked, not used). Direction is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.telemetry.collecting import refuse
from cyberpeace.telemetry.data_sets import flow_batch
from cyberpeace.telemetry.decoding import DecodeResult, register_decoder
from cyberpeace.telemetry.packets import parse_headers
from cyberpeace.telemetry.schema import ADDRESS, DIRECTION_UNKNOWN, FLOW_SCHEMA
from cyberpeace.telemetry.sflow_samples import (
    HEADER_BYTES,
    SIGNATURE,
    Samples,
    read_datagram,
)

Columns = dict[str, NDArray[np.generic]]

ICMP, ICMP6 = 1, 58
PACKET_FIELDS: dict[str, np.dtype[Any]] = {  # what the packet itself says, by column
    name: np.dtype(code)
    for name, code in (
        ("ip_version", "u1"),
        ("src_addr", "S16"),
        ("dst_addr", "S16"),
        ("src_port", "u2"),
        ("dst_port", "u2"),
        ("protocol", "u1"),
        ("tcp_flags", "u1"),
        ("icmp_type", "u1"),
        ("icmp_code", "u1"),
        ("ip_bytes", "u8"),
    )
}
IP_RECORD = np.dtype(
    [
        ("ip_version", "u1"),
        ("ip_bytes", "u4"),
        ("protocol", "u1"),
        ("src_addr", "S16"),
        ("dst_addr", "S16"),
        ("src_port", "u4"),
        ("dst_port", "u4"),
        ("tcp_flags", "u4"),
    ]
)
NEXT_HOP_COLUMN = FLOW_SCHEMA.get_field_index("next_hop")


@register_decoder("sflow-v5")
class SflowV5Decoder:
    """sFlow version 5 datagrams; stateless, so one instance serves every exporter."""

    name = "sflow-v5"

    def accepts(self, datagram: bytes) -> bool:
        """The 32-bit version field is 5 (NetFlow and IPFIX have a 16-bit one, never 0)."""
        return datagram[:4] == SIGNATURE

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        return self.decode_many((datagram,), exporter, received_us)

    def decode_many(
        self, datagrams: Iterable[bytes], exporter: str, received_us: int
    ) -> DecodeResult:
        """Several datagrams of one exporter into one batch: the walk is per datagram and per
        sample (sflow_samples.py), the decoding of headers and the columns for all at once."""
        result = DecodeResult()
        samples = Samples()
        for datagram in datagrams:
            try:
                read_datagram(bytes(datagram), samples, result)
            except Exception as error:  # a bug must not stop the collector; say what it was
                refuse(result, f"sflow: internal error: {error!r}")
        if len(samples):
            try:
                batch = _batch(samples, exporter, received_us, result)
                if batch.num_rows:
                    result.batches.append(batch)
            except Exception as error:
                refuse(result, f"sflow: internal error building flows: {error!r}")
        return result


def _batch(
    samples: Samples, exporter: str, received_us: int, result: DecodeResult
) -> pa.RecordBatch:
    fixed = np.array(samples.fixed, dtype=np.int64).reshape(-1, 9)
    packet, described = _packet_fields(samples, fixed[:, 6], fixed[:, 7], result)
    kept = fixed[described]
    n = len(kept)
    rate = kept[:, 0].astype(np.uint64)
    columns: Columns = {name: packet[name][described] for name in PACKET_FIELDS}
    columns["bytes"] = columns.pop("ip_bytes").astype(np.uint64) * rate
    columns["packets"] = rate
    columns["min_ttl"] = columns["max_ttl"] = packet["ttl"][described]  # one packet: both bounds
    columns["sampling_rate"] = rate.astype(np.uint32)
    for index, name in enumerate(("observation_domain", "input_if", "output_if", "src_as"), 1):
        columns[name] = kept[:, index].astype(np.uint32)
    columns["dst_as"] = kept[:, 5].astype(np.uint32)
    columns["start"] = columns["end"] = np.full(n, received_us, dtype=np.int64)
    columns["direction"] = np.full(n, DIRECTION_UNKNOWN, dtype=np.uint8)
    hop_row = kept[:, 8]
    has_hop = hop_row >= 0
    columns["next_hop"] = np.zeros(n, dtype="S16")
    if has_hop.any():
        hops = np.frombuffer(b"".join(samples.next_hops), dtype="S16")
        columns["next_hop"][has_hop] = hops[hop_row[has_hop]]
    batch = flow_batch(columns, exporter, has_next_hop=bool(has_hop.all()))
    if has_hop.any() and not has_hop.all():
        batch = batch.set_column(
            NEXT_HOP_COLUMN, "next_hop", _nullable(columns["next_hop"], has_hop)
        )
    return batch


def _packet_fields(
    samples: Samples, header_row: NDArray[np.int64], ip_row: NDArray[np.int64], result: DecodeResult
) -> tuple[Columns, NDArray[np.bool_]]:
    """The packet's columns for every sample, and which samples have them: from the sampled
    header where it decodes, else from sampled_ipv4/ipv6 (which carry no TTL: "ttl" stays 0)."""
    n = len(header_row)
    out: Columns = {name: np.zeros(n, dtype=dtype) for name, dtype in PACKET_FIELDS.items()}
    out["ttl"] = np.zeros(n, dtype=np.uint8)  # only a sampled header has it: else 0, not seen
    described = np.zeros(n, dtype=np.bool_)
    has_ip = ip_row >= 0
    if has_ip.any():
        records = _ip_records(samples)
        for name in PACKET_FIELDS:
            out[name][has_ip] = records[name][ip_row[has_ip]]
        described |= has_ip
    has_header = header_row >= 0
    if has_header.any():
        meta = np.array(samples.header_meta, dtype=np.int64).reshape(-1, 4)
        frames = np.frombuffer(b"".join(samples.headers), dtype=np.uint8)
        parsed = parse_headers(frames.reshape(-1, HEADER_BYTES), meta[:, 0], meta[:, 1])
        target = np.flatnonzero(has_header)
        rows = header_row[target]
        good = parsed.valid[rows]
        for name in PACKET_FIELDS:
            out[name][target[good]] = parsed.columns[name][rows[good]]
        out["ttl"][target[good]] = parsed.columns["ttl"][rows[good]]
        described[target[good]] = True
        _refuse_headers(result, parsed.problems, int((~described[target]).sum()))
    return out, described


def _ip_records(samples: Samples) -> Columns:
    """sampled_ipv4/ipv6 records as columns; their ports hold ICMP type and code for ICMP."""
    records = np.array(samples.ip_records, dtype=IP_RECORD)
    columns: Columns = {name: records[name] for name in IP_RECORD.names or ()}
    src_port, dst_port = records["src_port"], records["dst_port"]
    icmp = (records["protocol"] == ICMP) | (records["protocol"] == ICMP6)
    columns["icmp_type"] = np.where(icmp, src_port, 0).astype(np.uint8)
    columns["icmp_code"] = np.where(icmp, dst_port, 0).astype(np.uint8)
    columns["src_port"] = np.where(icmp, 0, src_port).astype(np.uint16)
    columns["dst_port"] = np.where(icmp, 0, dst_port).astype(np.uint16)
    columns["tcp_flags"] = records["tcp_flags"].astype(np.uint8)
    return columns


def _refuse_headers(result: DecodeResult, problems: dict[str, int], lost: int) -> None:
    """Samples whose header did not decode and that had no sampled_ipv4/ipv6 to fall back on."""
    if not lost:
        return
    reasons = ", ".join(f"{count} {problem}" for problem, count in problems.items() if count)
    refuse(result, f"sflow: {lost} sampled headers are not IP packets that decode ({reasons})")
    result.malformed += lost - 1


def _nullable(addresses: NDArray[np.generic], present: NDArray[np.bool_]) -> pa.Array:
    """A binary(16) column with nulls where ``present`` is False."""
    validity = np.packbits(present, bitorder="little")
    data = np.ascontiguousarray(addresses, dtype="S16")
    buffers = [pa.py_buffer(validity), pa.py_buffer(data)]
    return pa.Array.from_buffers(ADDRESS, len(data), buffers)
