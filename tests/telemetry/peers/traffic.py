"""The traffic the peer tests feed to real exporters: a pcap built with scapy, and its truth.

Several hundred host pairs, IPv4 and IPv6: TCP sessions (handshake, data both ways, FIN both
ways), UDP requests and answers, ICMP and ICMPv6 echo. ``Capture.pair_totals`` counts what the
pcap holds per (source, destination): packets, and bytes from the IP header on, as NetFlow and
IPFIX count octets (RFC 3954 section 8 IN_BYTES; RFC 7012 section 5.10.1 octetDeltaCount).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

START = 1_764_000_000.0  # 2025-11-24 16:00 UTC; conversations begin in the SPAN after it
SPAN = 20.0  # seconds the capture covers: shorter than every exporter's flow timeout
ETHERNET = 14  # the link header the pcap puts before each IP packet

Layer = Callable[..., Packet]
Pair = tuple[str, str]


@dataclass(frozen=True)
class Capture:
    path: Path
    sources: list[str]  # per packet, address text
    destinations: list[str]
    ip_bytes: list[int]
    times: list[float]  # UNIX seconds

    @property
    def packets(self) -> int:
        return len(self.ip_bytes)

    @property
    def ipv6_packets(self) -> int:
        return sum(":" in source for source in self.sources)

    def conversation_times(self) -> dict[Pair, tuple[float, float]]:
        """First and last packet per conversation: the two hosts, sorted, either direction."""
        out: dict[Pair, tuple[float, float]] = {}
        for a, b, when in zip(self.sources, self.destinations, self.times, strict=True):
            key = (min(a, b), max(a, b))
            first, last = out.get(key, (when, when))
            out[key] = (min(first, when), max(last, when))
        return out

    def pair_totals(self) -> dict[Pair, tuple[int, int]]:
        """(packets, bytes) per (source, destination)."""
        totals: dict[Pair, tuple[int, int]] = {}
        for pair in zip(self.sources, self.destinations, strict=True):
            totals.setdefault(pair, (0, 0))
        keys = list(totals)
        index = {pair: i for i, pair in enumerate(keys)}
        rows = np.array([index[p] for p in zip(self.sources, self.destinations, strict=True)])
        packets = np.bincount(rows, minlength=len(keys))
        octets = np.bincount(rows, weights=self.ip_bytes, minlength=len(keys))
        return {pair: (int(packets[i]), int(octets[i])) for i, pair in enumerate(keys)}


def build_capture(path: Path, *, v4_hosts: int = 200, v6_hosts: int = 40, seed: int = 7) -> Capture:
    """Write the pcap: each client talks to one server (TCP always, UDP and echo for some)."""
    rng = np.random.default_rng(seed)
    timed: list[tuple[float, int, Packet]] = []
    hosts = [
        (f"10.1.{i // 250}.{i % 250 + 1}", f"192.0.2.{i % 50 + 1}", IP) for i in range(v4_hosts)
    ]
    hosts += [
        (f"2001:db8:1::{i + 1:x}", f"2001:db8:2::{i % 10 + 1:x}", IPv6) for i in range(v6_hosts)
    ]
    for number, (client, server, ip) in enumerate(hosts):
        conversation = _tcp_session(client, server, 20000 + number, ip, rng)
        if number % 2 == 0:
            conversation += _udp_exchange(client, server, 30000 + number, ip, rng)
        if number % 3 == 0:
            conversation += _echo(client, server, number, v6=ip is IPv6)
        begin = float(rng.uniform(0.0, SPAN - 1.0))
        for step, packet in enumerate(conversation):
            timed.append((begin + step * 0.003, len(timed), packet))
    timed.sort(key=lambda entry: (entry[0], entry[1]))
    link = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x0800))
    frames = []
    for _, _, packet in timed:  # building the packets is the test's own set-up, not a hot path
        ethertype = b"\x86\xdd" if isinstance(packet, IPv6) else b"\x08\x00"
        frames.append(link[:12] + ethertype + bytes(packet))
    _write_pcap(path, [START + offset for offset, _, _ in timed], frames)
    layers = [p for _, _, p in timed]
    return Capture(
        path,
        sources=[_text(p.src) for p in layers],
        destinations=[_text(p.dst) for p in layers],
        ip_bytes=[len(frame) - ETHERNET for frame in frames],
        times=[START + offset for offset, _, _ in timed],
    )


def _write_pcap(path: Path, times: list[float], frames: list[bytes]) -> None:
    """The classic libpcap file format: global header, then a record header per frame."""
    micros = np.round(np.asarray(times) * 1e6).astype(np.int64)
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # 1: Ethernet
        for stamp, frame in zip(micros.tolist(), frames, strict=True):
            seconds, fraction = divmod(stamp, 1_000_000)
            out.write(struct.pack("<IIII", seconds, fraction, len(frame), len(frame)) + frame)


def _text(address: str) -> str:
    return str(ipaddress.ip_address(address))


def _tcp_session(a: str, b: str, port: int, ip: Layer, rng: np.random.Generator) -> list[Packet]:
    def out(flags: str, size: int = 0) -> Packet:
        return ip(src=a, dst=b) / TCP(sport=port, dport=443, flags=flags) / Raw(b"q" * size)

    def back(flags: str, size: int = 0) -> Packet:
        return ip(src=b, dst=a) / TCP(sport=443, dport=port, flags=flags) / Raw(b"r" * size)

    session = [out("S"), back("SA"), out("A")]
    for _ in range(int(rng.integers(1, 5))):
        session += [out("PA", int(rng.integers(20, 1200))), back("PA", int(rng.integers(20, 1200)))]
    return [*session, out("FA"), back("FA"), out("A")]


def _udp_exchange(a: str, b: str, port: int, ip: Layer, rng: np.random.Generator) -> list[Packet]:
    exchange = []
    for _ in range(int(rng.integers(1, 4))):
        ask = Raw(b"d" * int(rng.integers(10, 200)))
        answer = Raw(b"a" * int(rng.integers(10, 500)))
        exchange.append(ip(src=a, dst=b) / UDP(sport=port, dport=53) / ask)
        exchange.append(ip(src=b, dst=a) / UDP(sport=53, dport=port) / answer)
    return exchange


def _echo(a: str, b: str, ident: int, *, v6: bool) -> list[Packet]:
    data = Raw(b"p" * 56)
    if v6:
        return [
            IPv6(src=a, dst=b) / ICMPv6EchoRequest(id=ident, seq=1) / data,
            IPv6(src=b, dst=a) / ICMPv6EchoReply(id=ident, seq=1) / data,
        ]
    return [
        IP(src=a, dst=b) / ICMP(type=8, id=ident, seq=1) / data,
        IP(src=b, dst=a) / ICMP(type=0, id=ident, seq=1) / data,
    ]
