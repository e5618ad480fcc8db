"""Feeding a collector over real loopback UDP, and sinks that keep what they are given."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from tests.telemetry.decoders.encoder import V5Record, v5_datagram


@dataclass
class Sent:
    """Datagrams made for a test and the totals of the flows in them."""

    datagrams: list[bytes] = field(default_factory=list)
    flows: int = 0
    packets: int = 0
    octets: int = 0


def v5_traffic(datagrams: int, records: int = 30, seed: int = 1) -> Sent:
    """NetFlow v5 datagrams of random records, with the totals they carry."""
    rng = random.Random(seed)
    sent = Sent()
    for sequence in range(datagrams):
        batch = [
            V5Record(
                src=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                packets=rng.randrange(1, 1000),
                octets=rng.randrange(40, 1_500_000),
                src_port=rng.randrange(1024, 65536),
            )
            for _ in range(records)
        ]
        sent.datagrams.append(v5_datagram(batch, sequence=sequence))
        sent.flows += records
        sent.packets += sum(r.packets for r in batch)
        sent.octets += sum(r.octets for r in batch)
    return sent


def send(
    datagrams: Iterable[bytes],
    to: tuple[str, int],
    source: str | None = None,
    pause: float = 0.0,
) -> None:
    """Send from ``source`` (an address of this host: 127.0.0.0/8, ::1) or from any address."""
    family = socket.AF_INET6 if ":" in to[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sender:
        if source is not None:
            sender.bind((source, 0))
        for datagram in datagrams:
            sender.sendto(datagram, to)
            if pause:
                time.sleep(pause)


class Gather:
    """A sink that keeps every table (thread-safe: its worker thread calls it)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.tables: list[pa.Table] = []
        self._lock = threading.Lock()

    def __call__(self, table: pa.Table) -> None:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.tables.append(table)

    @property
    def flows(self) -> int:
        return sum(t.num_rows for t in self.tables)

    def total(self, column: str) -> int:
        return sum(int(pc.sum(t.column(column)).as_py() or 0) for t in self.tables)

    def by_exporter(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in self.tables:
            for name, count in zip(*_value_counts(table.column("exporter")), strict=True):
                out[name] = out.get(name, 0) + count
        return out


def _value_counts(column: pa.ChunkedArray) -> tuple[Sequence[str], Sequence[int]]:
    counts = pc.value_counts(column)
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()
