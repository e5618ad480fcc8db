"""Ordinary traffic for the throughput benchmark: a busy network's ten minutes, one attack in it.

The demo scenario is four fifths attack, so it weighs the work done per detection; a national
network's day is mostly clients and servers going about their business. This mix draws
``n`` records over ten minutes (10 million: about 16,700 a second) with numpy from one seed:

* 50,000 servers in the demo parties' territory (a sensor at the member states' border),
  their popularity falling off as 1/(rank + 10)^0.9, so that the busiest
  takes under 1% of the requests (a few hundred packets a second: no flood);
* 2 million clients from public-looking space, each request answered in a record of its own
  (flow records are one direction), so the answers' destinations are many and mostly quiet;
* TCP sessions (85%, flags ACK|PSH with SYN and FIN for whole sessions), UDP (12%: DNS,
  QUIC, NTP) and ICMP (3%); packets heavy-tailed, 60 to 1,400 bytes each, most records
  within a second or two, a few up to a minute;
* one UDP reflection, 600 records a second (1% of 10 million): 2,000 DNS reflectors answering
  towards one host for three minutes, 12,000 packets and 134 Mbit/s a second together, so one
  detection is expected.

Addresses stand for no one; no test reads this module, it feeds the benchmark only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cyberpeace.telemetry.protocols import ACK, FIN, ICMP, PSH, SYN, TCP, UDP
from cyberpeace.telemetry.schema import to_batch, v4_mapped

SPAN_S = 600
SHORT_SHARE = 0.97  # of the records: within a second or two; the rest up to a minute
SERVERS = 50_000
CLIENTS = 2_000_000
ATTACK_RECORDS_PER_S = 600
VICTIM = (198 << 24) | (18 << 16) | (10 << 8) | 10  # 198.18.10.10, the demo hospital's portal


def _public(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.choice(np.array([23, 45, 62, 77, 81, 91, 103, 141, 151, 185, 212]), n)
    return (first.astype(np.uint32) << np.uint32(24)) | rng.integers(1, 1 << 24, n, np.uint32)


def _territory(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct hosts of the demo parties' territory (198.18.0.0/15), as a border sensor sees
    the member states' servers."""
    return ((198 << 24) | (18 << 16)) + rng.choice(1 << 17, n, replace=False).astype(np.uint32)


def ordinary_mix(n: int, start_s: float, seed: int = 11) -> pa.Table:
    """``n`` records from ``start_s`` (seconds since the epoch), sorted by start."""
    rng = np.random.default_rng(seed)
    attack = min(ATTACK_RECORDS_PER_S * 180, n // 10)
    pairs = (n - attack) // 2
    servers = _territory(rng, SERVERS)
    clients = _public(rng, CLIENTS)
    weight = 1.0 / (np.arange(SERVERS) + 10.0) ** 0.9
    server = servers[rng.choice(SERVERS, pairs, p=weight / weight.sum())]
    client = clients[rng.integers(0, CLIENTS, pairs)]
    kind = rng.choice(3, pairs, p=[0.85, 0.12, 0.03])  # TCP, UDP, ICMP
    protocol = np.array([TCP, UDP, ICMP], dtype=np.uint8)[kind]
    service = np.where(
        kind == 0,
        rng.choice(np.array([443, 80, 25, 993, 8080]), pairs, p=[0.7, 0.15, 0.05, 0.05, 0.05]),
        np.where(kind == 1, rng.choice(np.array([53, 443, 123]), pairs, p=[0.6, 0.3, 0.1]), 0),
    ).astype(np.uint16)
    ephemeral = np.where(kind == 2, 0, rng.integers(32_768, 61_000, pairs)).astype(np.uint16)
    whole = rng.random(pairs) < 0.6
    flags = np.where(kind == 0, np.where(whole, SYN | ACK | PSH | FIN, ACK | PSH), 0).astype(
        np.uint8
    )
    packets = np.minimum(1 + rng.lognormal(1.2, 1.3, pairs), 50_000).astype(np.uint64)
    answer_packets = np.maximum(packets + rng.integers(-1, 3, pairs), 1).astype(np.uint64)
    size = rng.uniform(60, 1_400, pairs)
    begin = start_s + rng.random(pairs) * SPAN_S
    short = rng.random(pairs) < SHORT_SHARE
    length = np.where(short, rng.exponential(0.6, pairs), rng.random(pairs) * 60)
    length = np.minimum(length, start_s + SPAN_S - begin)

    reflector = _public(rng, 2_000)[rng.integers(0, 2_000, attack)]
    a_begin = start_s + 180 + rng.random(attack) * 180
    a_packets = np.full(attack, 20, dtype=np.uint64)

    def joined(*parts: np.ndarray) -> np.ndarray:
        return np.concatenate(parts)

    columns = {
        "start": joined(begin, begin + 0.01, a_begin),
        "end": joined(begin + length, begin + 0.01 + length, a_begin + rng.random(attack) * 0.9),
        "src": joined(client, server, reflector),
        "dst": joined(server, client, np.full(attack, VICTIM, dtype=np.uint32)),
        "src_port": joined(ephemeral, service, np.full(attack, 53, dtype=np.uint16)),
        "dst_port": joined(service, ephemeral, rng.integers(1_024, 65_535, attack, np.uint16)),
        "protocol": joined(protocol, protocol, np.full(attack, UDP, dtype=np.uint8)),
        "tcp_flags": joined(flags, flags, np.zeros(attack, dtype=np.uint8)),
        "packets": joined(packets, answer_packets, a_packets),
        "bytes": joined(
            (packets * size * 0.3 + 40 * packets).astype(np.uint64),
            (answer_packets * size).astype(np.uint64),
            a_packets * 1_400,
        ),
    }
    order = np.argsort(columns["start"], kind="stable")
    out = {name: values[order] for name, values in columns.items()}
    batch = to_batch(
        {
            "start": np.round(out["start"] * 1e6).astype(np.int64),
            "end": np.round(out["end"] * 1e6).astype(np.int64),
            "ip_version": np.full(len(order), 4, dtype=np.uint8),
            "src_addr": v4_mapped(out["src"].astype(np.uint32)),
            "dst_addr": v4_mapped(out["dst"].astype(np.uint32)),
            "src_port": out["src_port"].astype(np.uint16),
            "dst_port": out["dst_port"].astype(np.uint16),
            "protocol": out["protocol"].astype(np.uint8),
            "tcp_flags": out["tcp_flags"].astype(np.uint8),
            "packets": out["packets"].astype(np.uint64),
            "bytes": out["bytes"].astype(np.uint64),
        },
        "ordinary-mix",
    )
    return pa.Table.from_batches([batch])
