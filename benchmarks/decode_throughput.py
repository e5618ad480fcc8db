"""Flow decoding throughput: cyberpeace's decoders against the `netflow` package, same packets.

Builds realistic export datagrams (NetFlow v5 with 30 records; NetFlow v9 and IPFIX with a
20-field template, about 1400 bytes each, the template resent every 20 datagrams as exporters
do), decodes them on one core with

- ``decode``: one datagram at a time, each into its own RecordBatch;
- ``decode_many``: bursts of datagrams from one exporter (as a collector reading with recvmmsg
  gets them) into one RecordBatch;
- ``netflow.parse_packet`` of the `netflow` package, with its templates dict;

and prints flows per second for each and our ratio to the package. Targets: at least 1 M flows/s
per core and 20x the package. sFlow v5 (8 flow samples a datagram, 128-byte sampled headers)
has no peer in the package: its line has our rates only.

Bursts much larger than 64 datagrams make temporaries larger than glibc's mmap threshold
(128 KiB at start), and every one of them then costs page faults: a collector that wants larger
bursts should run with, e.g., MALLOC_MMAP_THRESHOLD_=16777216 (v5 then reaches ~20 M flows/s
in bursts of 256).

    .venv/bin/python benchmarks/decode_throughput.py [--datagrams 20000] [--burst 64]
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable, Sequence

import netflow
import numpy as np

from cyberpeace.telemetry.ipfix import IpfixDecoder
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from cyberpeace.telemetry.netflow9 import NetflowV9Decoder
from cyberpeace.telemetry.sflow import SflowV5Decoder

EXPORT_SECS = 1_700_000_000
TEMPLATE_ID = 256
TEMPLATE_EVERY = 20
DATAGRAM_BUDGET = 1400

# (element, length): a typical router template, NetFlow v9 flavour (sysUpTime times).
V9_FIELDS = [
    (8, 4), (12, 4), (15, 4), (10, 4), (14, 4), (2, 4), (1, 4), (22, 4), (21, 4), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 4), (17, 4), (9, 1), (13, 1), (61, 1), (58, 2),
]  # fmt: skip
# IPFIX flavour: absolute millisecond times, 8-byte counters.
IPFIX_FIELDS = [
    (8, 4), (12, 4), (15, 4), (10, 4), (14, 4), (2, 8), (1, 8), (152, 8), (153, 8), (7, 2),
    (11, 2), (6, 1), (4, 1), (5, 1), (16, 4), (17, 4), (9, 1), (13, 1), (61, 1), (58, 2),
]  # fmt: skip


def random_records(rng: np.random.Generator, fields: Sequence[tuple[int, int]], n: int) -> bytes:
    """``n`` records of plausible values: private/documentation addresses, common ports."""
    columns = []
    for element, length in fields:
        if element in (8, 12, 15):
            values = rng.integers(0x0A000000, 0x0AFFFFFF, n)
        elif element in (7, 11):
            values = rng.choice([53, 80, 123, 443, 8080, 40000, 50000, 60000], n)
        elif element == 4:
            values = rng.choice([6, 17, 1], n, p=[0.7, 0.25, 0.05])
        elif element in (1, 2):
            values = rng.integers(1, 100_000, n)
        elif element in (21, 22):
            values = rng.integers(3_000_000, 3_600_000, n)
        elif element in (152, 153):
            values = rng.integers(EXPORT_SECS * 1000 - 60_000, EXPORT_SECS * 1000, n)
        elif element == 61:
            values = rng.integers(0, 2, n)
        else:
            values = rng.integers(0, 1 << min(8 * length, 31), n)
        columns.append(np.asarray(values, dtype=f">u{length}").view(np.uint8).reshape(n, length))
    return np.hstack(columns).tobytes()


def v5_datagrams(rng: np.random.Generator, count: int) -> list[bytes]:
    out = []
    for sequence in range(count):
        header = struct.pack(">HHIIIIBBH", 5, 30, 3_600_000, EXPORT_SECS, 0, sequence * 30, 0, 0, 0)
        records = np.zeros((30, 48), dtype=np.uint8)
        records[:, :46] = rng.integers(0, 256, (30, 46), dtype=np.uint8)
        records[:, 38] = rng.choice([6, 17], 30)  # protocol
        out.append(header + records.tobytes())
    return out


def set_bytes(set_id: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def template_datagrams(
    rng: np.random.Generator, count: int, version: int, fields: Sequence[tuple[int, int]]
) -> list[bytes]:
    """v9 or IPFIX datagrams of one exporter: a template set every TEMPLATE_EVERY datagrams."""
    header_size = 20 if version == 9 else 16
    specs = b"".join(struct.pack(">HH", element, length) for element, length in fields)
    template_record = struct.pack(">HH", TEMPLATE_ID, len(fields)) + specs
    template = set_bytes(0 if version == 9 else 2, template_record)
    record_length = sum(length for _, length in fields)
    out = []
    for sequence in range(count):
        sets = template if sequence % TEMPLATE_EVERY == 0 else b""
        n = (DATAGRAM_BUDGET - header_size - len(sets) - 4) // record_length
        sets += set_bytes(TEMPLATE_ID, random_records(rng, fields, n))
        if version == 9:
            header = struct.pack(">HHIIII", 9, n, 3_600_000, EXPORT_SECS, sequence, 1)
        else:
            header = struct.pack(">HHIII", 10, 16 + len(sets), EXPORT_SECS, sequence, 1)
        out.append(header + sets)
    return out


def sflow_datagrams(rng: np.random.Generator, count: int) -> list[bytes]:
    """sFlow v5 as a switch sends it: 8 flow samples a datagram, each a 128-byte sampled header
    (Ethernet, IPv4, TCP or UDP) with extended_switch and extended_router records."""
    out = []
    for sequence in range(count):
        samples = []
        for index in range(8):
            protocol = int(rng.choice([6, 17]))
            ip_length = int(rng.integers(40, 1500))
            src, dst = (int(a) for a in rng.integers(0x0A000000, 0x0AFFFFFF, 2))
            ip = struct.pack(">BBHHHBBHII", 0x45, 0, ip_length, 0, 0, 64, protocol, 0, src, dst)
            ports = struct.pack(">HH", *(int(p) for p in rng.choice([53, 443, 40000, 50000], 2)))
            l4 = (
                ports + bytes(16)
                if protocol == 6
                else ports + struct.pack(">HH", ip_length - 20, 0)
            )
            frame = (bytes(12) + b"\x08\x00" + ip + l4).ljust(min(128, 14 + ip_length), b"p")
            header = struct.pack(">IIII", 1, 14 + ip_length + 4, 4, len(frame)) + frame
            header += bytes(-len(header) % 4)
            records = struct.pack(">II", 1, len(header)) + header
            records += struct.pack(">II4I", 1001, 16, 10, 0, 10, 0)
            records += struct.pack(">IIII4sII", 1002, 20, 1, 0, b"\x0a\x00\x00\xfe", 24, 16)
            body = struct.pack(">8I", sequence * 8 + index, 3, 1000, 10**6, 0, 3, 4, 3) + records
            samples.append(struct.pack(">II", 1, len(body)) + body)
        head = struct.pack(">II4sIIII", 5, 1, b"\xc0\x00\x02\x01", 0, sequence, 60_000, 8)
        out.append(head + b"".join(samples))
    return out


def rate(run: Callable[[], int], seconds: float = 1.0) -> float:
    """Flows per second of ``run`` (which returns its flow count), repeated for ``seconds``."""
    flows, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        flows += run()
    return flows / elapsed


def ours(decoder_type: type, datagrams: list[bytes], burst: int) -> tuple[float, float]:
    decoder = decoder_type()

    def one_by_one() -> int:
        return sum(decoder.decode(d, "192.0.2.1", 0).flows for d in datagrams)

    def in_bursts() -> int:
        return sum(
            decoder.decode_many(datagrams[i : i + burst], "192.0.2.1", 0).flows
            for i in range(0, len(datagrams), burst)
        )

    assert one_by_one() == in_bursts() > 0
    return rate(one_by_one), rate(in_bursts)


def peer(datagrams: list[bytes]) -> float:
    """The netflow package (a bytearray skips its hex-string sniffing, to its advantage)."""
    packets = [bytearray(d) for d in datagrams]

    def run() -> int:
        templates: dict[str, dict[int, object]] = {"netflow": {}, "ipfix": {}}
        return sum(len(netflow.parse_packet(p, templates).flows) for p in packets)

    return rate(run, 2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=int, default=2000, help="datagrams per protocol")
    parser.add_argument("--burst", type=int, default=64, help="datagrams per decode_many call")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    n = args.datagrams
    cases = [
        ("NetFlow v5, 30 records", NetflowV5Decoder, v5_datagrams(rng, n)),
        ("NetFlow v9, 20 fields", NetflowV9Decoder, template_datagrams(rng, n, 9, V9_FIELDS)),
        ("IPFIX, 20 fields", IpfixDecoder, template_datagrams(rng, n, 10, IPFIX_FIELDS)),
        ("sFlow v5, 8 samples", SflowV5Decoder, sflow_datagrams(rng, n)),
    ]
    print(
        f"{'protocol':<24}{'decode':>12}{'decode_many':>14}{'netflow pkg':>14}"
        f"{'many/pkg':>10}{'one/pkg':>9}"
    )
    for label, decoder_type, datagrams in cases:
        single, burst = ours(decoder_type, datagrams, args.burst)
        if decoder_type is SflowV5Decoder:  # the netflow package has no sFlow
            print(f"{label:<24}{single / 1e6:>8.2f} M/s{burst / 1e6:>10.2f} M/s{'-':>14}")
            continue
        theirs = peer(datagrams[: max(200, args.datagrams // 10)])
        print(
            f"{label:<24}{single / 1e6:>8.2f} M/s{burst / 1e6:>10.2f} M/s"
            f"{theirs / 1e3:>10.1f} k/s{burst / theirs:>9.0f}x{single / theirs:>8.1f}x"
        )
    print(f"flows/s on one core; decode_many in bursts of {args.burst} datagrams of one exporter;")
    print("decode: each datagram on its own, into its own RecordBatch.")


if __name__ == "__main__":
    main()
