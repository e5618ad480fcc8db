"""A live attack trace as an IPFIX exporter would send it, second by second, over real UDP.

The exporter reports every second's traffic at the end of that second (an active timeout of one
second), in IPFIX messages (RFC 7011) of at most 1,400 bytes with the template set (section 3.4.1)
at the head of each second's first message. Records are built as one big-endian numpy record
array per message, following the template, so a trace of thousands of records stays fast.

The traffic, towards the demo mandate's hospital portal 198.18.10.10 (Arcadia Central Hospital):

* benign: clients fetching pages over HTTPS (both directions, complete handshakes), and a few DNS
  and NTP servers answering the portal: amplifier source ports, but from three sources at a few
  dozen packets a second, far below the reflection thresholds;
* the attack, in the seconds asked for: a DNS reflection flood, ``reflectors`` open resolvers
  each answering spoofed queries at ``pps_each`` packets/s of 1,100-byte responses (US-CERT
  TA14-017A's DNS vector). The defaults, 200 x 75 = 15,000 packets/s and 132 Mbit/s, cross the
  reflection thresholds (10,000 packets/s or 100 Mbit/s from ten sources) and stay below the
  volumetric ones (20,000 packets/s, 1 Gbit/s), so one detector fires.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tests.telemetry.decoders.encoder import ipfix_template_set

TARGET = "198.18.10.10"
TEMPLATE_ID = 256
# (information element, length): RFC 7012 / IANA IPFIX registry numbers.
FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8), (152, 8), (153, 8)]
RECORD = np.dtype(
    [
        ("src", ">u4"),  # sourceIPv4Address
        ("dst", ">u4"),  # destinationIPv4Address
        ("sport", ">u2"),  # sourceTransportPort
        ("dport", ">u2"),  # destinationTransportPort
        ("proto", "u1"),  # protocolIdentifier
        ("flags", "u1"),  # tcpControlBits
        ("packets", ">u8"),  # packetDeltaCount
        ("bytes", ">u8"),  # octetDeltaCount
        ("start_ms", ">u8"),  # flowStartMilliseconds
        ("end_ms", ">u8"),  # flowEndMilliseconds
    ]
)
MAX_DATAGRAM = 1_400
PER_MESSAGE = (MAX_DATAGRAM - 16 - 4 - 60) // RECORD.itemsize  # room for the template set too
TCP, UDP = 6, 17
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


@dataclass
class Export:
    """The messages that report one second of traffic."""

    second: int  # the second (since the epoch) the records cover
    datagrams: list[bytes]
    attack_packets: int  # packets of the attack in this second (0: benign only)


@dataclass
class Trace:
    exports: list[Export]

    @property
    def first_attack(self) -> int:
        """The index of the first export with attack records."""
        return next(i for i, e in enumerate(self.exports) if e.attack_packets)


def build_trace(
    start: int,
    seconds: int,
    attack: Sequence[int] = (),
    *,
    reflectors: int = 200,
    pps_each: int = 75,
    clients: int = 150,
    seed: int = 7,
) -> Trace:
    """``seconds`` seconds of traffic from ``start`` (seconds since the epoch); ``attack`` lists
    the offsets of the seconds the reflection flood runs in."""
    rng = np.random.default_rng(seed)
    resolvers = _public(rng, reflectors)
    client_ips = _public(rng, clients)
    exports, sequence = [], 0
    for offset in range(seconds):
        second = start + offset
        parts = [_benign(rng, second, client_ips)]
        flood = offset in attack
        if flood:
            parts.append(_reflection(rng, second, resolvers, pps_each))
        records = np.concatenate(parts)
        records = records[rng.permutation(len(records))]
        datagrams = _messages(records, second + 1, sequence)
        sequence += len(records)
        exports.append(Export(second, datagrams, reflectors * pps_each if flood else 0))
    return Trace(exports)


def _public(rng: np.random.Generator, n: int) -> np.ndarray:
    """Addresses from public-looking /8s outside every demo party: they stand for no one."""
    first = rng.choice(np.array([45, 62, 81, 103, 141, 177, 185, 212]), n)
    rest = rng.integers(1, 1 << 24, n)
    return np.unique((first.astype(np.uint64) << 24) | rest.astype(np.uint64))[:n]


def _rows(n: int, second: int, rng: np.random.Generator) -> np.ndarray:
    rows = np.zeros(n, dtype=RECORD)
    rows["start_ms"] = second * 1000 + rng.integers(0, 100, n)
    rows["end_ms"] = second * 1000 + rng.integers(900, 999, n)
    return rows


def _benign(rng: np.random.Generator, second: int, clients: np.ndarray) -> np.ndarray:
    target = int(ipaddress.IPv4Address(TARGET))
    active = rng.choice(clients, len(clients) // 2, replace=False)
    n = len(active)
    ephemeral = rng.integers(32_768, 61_000, n)
    requests = _rows(n, second, rng)
    requests["src"], requests["dst"] = active, target
    requests["sport"], requests["dport"] = ephemeral, 443
    requests["proto"], requests["flags"] = TCP, SYN | ACK | PSH | FIN
    requests["packets"] = rng.integers(8, 30, n)
    requests["bytes"] = requests["packets"] * rng.integers(80, 400, n)
    answers = requests.copy()
    answers["src"], answers["dst"] = target, active
    answers["sport"], answers["dport"] = 443, ephemeral
    answers["packets"] = requests["packets"] + rng.integers(0, 20, n)
    answers["bytes"] = answers["packets"] * rng.integers(600, 1_400, n)
    servers = _rows(3, second, rng)  # the portal's resolvers and time server answering it
    servers["src"] = [int(ipaddress.IPv4Address(a)) for a in ("198.18.0.53", "9.9.9.9", "1.1.1.1")]
    servers["dst"], servers["sport"], servers["dport"] = target, [53, 53, 123], 40_000
    servers["proto"], servers["packets"] = UDP, rng.integers(10, 40, 3)
    servers["bytes"] = servers["packets"] * 180
    return np.concatenate([requests, answers, servers])


def _reflection(
    rng: np.random.Generator, second: int, resolvers: np.ndarray, pps_each: int
) -> np.ndarray:
    n = len(resolvers)
    flood = _rows(n, second, rng)
    flood["src"], flood["dst"] = resolvers, int(ipaddress.IPv4Address(TARGET))
    flood["sport"], flood["dport"] = 53, rng.integers(1_024, 65_536, n)
    flood["proto"], flood["packets"] = UDP, pps_each
    flood["bytes"] = pps_each * 1_100
    return flood


def _messages(records: np.ndarray, export_time: int, sequence: int) -> list[bytes]:
    """IPFIX messages of at most PER_MESSAGE records; the template set heads the first."""
    template = ipfix_template_set([(TEMPLATE_ID, FIELDS)])
    records = records.astype(RECORD)  # numpy joins and permutes in native byte order
    out = []
    for first in range(0, len(records), PER_MESSAGE):
        chunk = records[first : first + PER_MESSAGE].tobytes()
        sets = (template if first == 0 else b"") + struct.pack(">HH", TEMPLATE_ID, 4 + len(chunk))
        body = sets + chunk
        header = struct.pack(">HHIII", 10, 16 + len(body), export_time, sequence + first, 1)
        out.append(header + body)
    return out


@dataclass
class Exporter:
    """Sends a trace's exports over UDP, one every ``pace`` seconds, in a thread of its own,
    noting when the last datagram of each export left (time.monotonic())."""

    trace: Trace
    to: tuple[str, int]
    pace: float = 1.0
    sent_at: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="exporter", daemon=True)

    def start(self) -> Exporter:
        self._thread.start()
        return self

    def join(self, timeout: float = 30.0) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        begin = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for i, export in enumerate(self.trace.exports):
                # The exporter's own schedule: it reports each second when that second is over.
                if self.stop.wait(max(0.0, begin + i * self.pace - time.monotonic())):
                    return
                for datagram in export.datagrams:
                    sender.sendto(datagram, self.to)
                self.sent_at.append(time.monotonic())
