"""NetFlow version 5 into the Flow schema.

The format is Cisco's published one ("NetFlow Export Datagram Format", NetFlow Collection
Engine documentation, Version 5): a 24-byte header (version, count, SysUptime, unix_secs,
unix_nsecs, flow_sequence, engine_type, engine_id, sampling_interval) followed by ``count``
48-byte flow records (1 to 30 in Cisco's exporters). All records of all datagrams given at once
are read with one ``np.frombuffer`` of the ``RECORD`` dtype.

- Times: a record's First and Last are SysUptime milliseconds; with the header's SysUptime and
  unix_secs/unix_nsecs (the export time) they become absolute, modulo 2^32 so that the 49.7-day
  uptime counter may wrap between a flow's start and its export.
- Sampling: the header's last two bytes, the top 2 bits the mode and the low 14 bits the
  interval; an interval N > 0 means one packet in N, and counts are multiplied by N.
- ICMP: v5 has no ICMP fields; exporters put type * 256 + code in the destination port. They go
  to icmp_type and icmp_code and the ports are 0.
- observation_domain: engine_type * 256 + engine_id, which tell apart the flow caches of one
  exporter. Direction is unknown (v5 has none); the next hop is always present.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from cyberpeace.telemetry.collecting import refuse
from cyberpeace.telemetry.data_sets import flow_batch, v4_mapped_raw
from cyberpeace.telemetry.decoding import DecodeResult, register_decoder
from cyberpeace.telemetry.schema import DIRECTION_UNKNOWN

VERSION = 5
SIGNATURE = b"\x00\x05"  # the version field of a v5 datagram
HEADER = np.dtype(
    [
        ("version", ">u2"),
        ("count", ">u2"),
        ("sys_uptime", ">u4"),
        ("unix_secs", ">u4"),
        ("unix_nsecs", ">u4"),
        ("flow_sequence", ">u4"),
        ("engine_type", "u1"),
        ("engine_id", "u1"),
        ("sampling_interval", ">u2"),
    ]
)
RECORD = np.dtype(
    [
        ("srcaddr", "<u4"),  # addresses as sent, copied unconverted (see v4_mapped_raw)
        ("dstaddr", "<u4"),
        ("nexthop", "<u4"),
        ("input", ">u2"),
        ("output", ">u2"),
        ("dPkts", ">u4"),
        ("dOctets", ">u4"),
        ("first", ">u4"),
        ("last", ">u4"),
        ("srcport", ">u2"),
        ("dstport", ">u2"),
        ("pad1", "u1"),
        ("tcp_flags", "u1"),
        ("prot", "u1"),
        ("tos", "u1"),
        ("src_as", ">u2"),
        ("dst_as", ">u2"),
        ("src_mask", "u1"),
        ("dst_mask", "u1"),
        ("pad2", ">u2"),
    ]
)
HEADER_SIZE, RECORD_SIZE = HEADER.itemsize, RECORD.itemsize  # 24 and 48
INTERVAL_MASK = 0x3FFF  # the low 14 bits of sampling_interval
ICMP = 1


@register_decoder("netflow-v5")
class NetflowV5Decoder:
    """NetFlow v5 datagrams; stateless, so one instance serves every exporter."""

    name = "netflow-v5"

    def accepts(self, datagram: bytes) -> bool:
        """Version 5 and room for the header."""
        return len(datagram) >= HEADER_SIZE and datagram[:2] == SIGNATURE

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        return self.decode_many((datagram,), exporter, received_us)

    def decode_many(
        self, datagrams: Iterable[bytes], exporter: str, received_us: int
    ) -> DecodeResult:
        """Several datagrams of one exporter as one batch (much less overhead per datagram).

        Per datagram only the version and count are looked at, to find its records; headers
        and records are then read for all datagrams at once.
        """
        result = DecodeResult()
        headers: list[bytes] = []
        bodies: list[bytes] = []
        counts: list[int] = []
        for datagram in datagrams:
            count = datagram[2] << 8 | datagram[3] if len(datagram) >= 4 else -1
            if datagram[:2] == SIGNATURE and len(datagram) == HEADER_SIZE + count * RECORD_SIZE:
                headers.append(datagram[:HEADER_SIZE])
                bodies.append(datagram[HEADER_SIZE:])
                counts.append(count)
            else:
                count = _records_of_irregular(datagram, result)
                if count:
                    headers.append(datagram[:HEADER_SIZE])
                    bodies.append(datagram[HEADER_SIZE : HEADER_SIZE + count * RECORD_SIZE])
                    counts.append(count)
        if any(counts):
            try:
                records = np.frombuffer(b"".join(bodies), dtype=RECORD)
                header = np.frombuffer(b"".join(headers), dtype=HEADER)
                columns = _columns(records, header, np.asarray(counts))
                result.batches.append(flow_batch(columns, exporter, has_next_hop=True))
            except Exception as error:  # a bug must not stop the collector; say what it was
                refuse(result, f"netflow-v5: internal error building flows: {error!r}")
        return result


def _records_of_irregular(datagram: bytes, result: DecodeResult) -> int:
    """How many records of a datagram whose size does not match its count can be read."""
    size = len(datagram)
    if size < HEADER_SIZE:
        refuse(result, f"netflow-v5: datagram of {size} bytes is shorter than the 24-byte header")
        return 0
    version, count = int.from_bytes(datagram[:2], "big"), int.from_bytes(datagram[2:4], "big")
    if version != VERSION:
        refuse(result, f"netflow-v5: version {version}, expected {VERSION}")
        return 0
    fit = (size - HEADER_SIZE) // RECORD_SIZE
    if count > fit:
        refuse(result, f"netflow-v5: header claims {count} records, only {fit} fit in {size} bytes")
        return fit
    refuse(result, f"netflow-v5: {count} records in {size} bytes leave bytes over")
    return count


def _columns(
    records: NDArray[np.void], header: NDArray[np.void], counts: NDArray[np.intp]
) -> dict[str, NDArray[np.generic]]:
    n = len(records)
    columns = _times(records, header, counts)
    domain = header["engine_type"].astype(np.uint32) << 8 | header["engine_id"]
    columns["observation_domain"] = np.repeat(domain, counts)
    columns["ip_version"] = np.full(n, 4, dtype=np.uint8)
    for name, field in (("src_addr", "srcaddr"), ("dst_addr", "dstaddr"), ("next_hop", "nexthop")):
        columns[name] = v4_mapped_raw(records[field])
    columns["protocol"] = records["prot"].copy()
    columns["tcp_flags"] = records["tcp_flags"].copy()
    packets = records["dPkts"].astype(np.uint64)
    octets = records["dOctets"].astype(np.uint64)
    interval = header["sampling_interval"] & INTERVAL_MASK
    if interval.any():
        rates = np.repeat(np.maximum(interval, 1).astype(np.uint32), counts)
        packets *= rates
        octets *= rates
        columns["sampling_rate"] = rates
    else:
        columns["sampling_rate"] = np.ones(n, dtype=np.uint32)
    columns["packets"], columns["bytes"] = packets, octets
    for name, field in (("input_if", "input"), ("output_if", "output")):
        columns[name] = records[field].astype(np.uint32)
    for name in ("src_as", "dst_as"):
        columns[name] = records[name].astype(np.uint32)
    columns["direction"] = np.full(n, DIRECTION_UNKNOWN, dtype=np.uint8)
    _ports_and_icmp(columns, records)
    return columns


def _times(
    records: NDArray[np.void], header: NDArray[np.void], counts: NDArray[np.intp]
) -> dict[str, NDArray[np.generic]]:
    """Start and end: export time + (First or Last - SysUptime), the difference modulo 2^32 as
    a signed number, so that it is right across a wrap of the uptime counter."""
    export_us = header["unix_secs"].astype(np.int64) * 1_000_000 + header["unix_nsecs"] // 1000
    base_us = np.repeat(export_us - (1 << 31) * 1000, counts)
    uptime = np.repeat(header["sys_uptime"].astype(np.int64) - (1 << 31), counts)
    times: dict[str, NDArray[np.generic]] = {}
    for name, field in (("start", "first"), ("end", "last")):
        value = records[field].astype(np.int64)
        value -= uptime
        value &= 0xFFFFFFFF
        value *= 1000
        value += base_us
        times[name] = value
    return times


def _ports_and_icmp(columns: dict[str, NDArray[np.generic]], records: NDArray[np.void]) -> None:
    src_port = records["srcport"].astype(np.uint16)
    dst_port = records["dstport"].astype(np.uint16)
    icmp = records["prot"] == ICMP
    if icmp.any():
        columns["icmp_type"] = np.where(icmp, dst_port >> 8, 0).astype(np.uint8)
        columns["icmp_code"] = np.where(icmp, dst_port & 0xFF, 0).astype(np.uint8)
        src_port[icmp] = 0
        dst_port[icmp] = 0
    else:
        columns["icmp_type"] = columns["icmp_code"] = np.zeros(len(records), dtype=np.uint8)
    columns["src_port"], columns["dst_port"] = src_port, dst_port
