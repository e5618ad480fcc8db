"""Packet traces for the detection benchmarks: the protected network, packets as numpy columns,
benign sessions and exchanges, the pcap writer and the two paths from a pcap to flow records.

Shared by ``detection_eval.py`` (the labelled attack trace) and ``benign_traffic.py`` (the long
benign run). Frames are captured to 54 bytes (Ethernet, IPv4 and a 20-byte transport header)
with their original length and IPv4 total length set to the full packet (RFC 791 section 3.1),
as a capture with a short snap length is: flow meters count IP bytes from the total length.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.mission import Borders
from cyberpeace.telemetry.dispatch import FlowExportDecoder
from cyberpeace.telemetry.formats import read_flows
from cyberpeace.telemetry.schema import FLOW_SCHEMA

SNAP = 54  # captured bytes per frame: Ethernet 14 + IPv4 20 + transport 20
TCP, UDP, ICMP = 6, 17, 1
SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
SERVERS = [f"198.51.100.{i}" for i in range(10, 40)]  # the protected networks' hosts
# The protected party's two safe areas: the servers, and the offices whose hosts browse out.
SAFE_AREAS = {"servers": ["198.51.100.0/26"], "offices": ["198.51.100.64/26", "198.51.100.128/25"]}


@dataclass
class Packets:
    """Columns of packets, one entry per packet (addresses as IPv4 integers)."""

    time: NDArray[np.float64]
    src: NDArray[np.uint32]
    dst: NDArray[np.uint32]
    proto: NDArray[np.uint8]
    sport: NDArray[np.uint16]
    dport: NDArray[np.uint16]
    flags: NDArray[np.uint8]
    length: NDArray[np.uint16]  # IPv4 total length
    frag: NDArray[np.uint8]  # 0 whole (DF), 1 first fragment (MF), 2 a later fragment

    @staticmethod
    def join(parts: list[Packets]) -> Packets:
        merged = Packets(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))
        order = np.argsort(merged.time, kind="stable")
        return Packets(*(getattr(merged, f)[order] for f in FIELDS))


FIELDS = ["time", "src", "dst", "proto", "sport", "dport", "flags", "length", "frag"]


def ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def packets(
    time: NDArray[np.float64],
    src: NDArray[np.integer] | int,
    dst: NDArray[np.integer] | int,
    proto: int,
    sport: NDArray[np.integer] | int,
    dport: NDArray[np.integer] | int,
    flags: NDArray[np.integer] | int,
    length: NDArray[np.integer] | int,
    frag: NDArray[np.integer] | int = 0,
) -> Packets:
    n = len(time)

    def column(value: NDArray[np.integer] | int, dtype: type) -> NDArray[np.generic]:
        return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()

    return Packets(
        time.astype(np.float64),
        column(src, np.uint32),
        column(dst, np.uint32),
        column(proto, np.uint8),
        column(sport, np.uint16),
        column(dport, np.uint16),
        column(flags, np.uint8),
        np.clip(column(length, np.int64), 40, 1_500).astype(np.uint16),
        column(frag, np.uint8),
    )


def public_addresses(rng: np.random.Generator, n: int) -> NDArray[np.uint32]:
    """Random addresses in 1.0.0.0 to 223.255.255.255, off 10/8 and 127/8 (the first octet)."""
    first = rng.choice([o for o in range(1, 224) if o not in (10, 127)], n)
    return (first.astype(np.uint32) << 24) | rng.integers(0, 1 << 24, n, dtype=np.uint32)


def sessions(
    rng: np.random.Generator,
    begin: NDArray[np.float64],
    client: NDArray[np.uint32],
    server: NDArray[np.uint32],
    port: int,
    data: int,
    down_size: int = 1_200,
) -> Packets:
    """TCP sessions: handshake, ``data`` request/answer pairs, FIN both ways (RFC 9293 3.5)."""
    n = len(begin)
    cport = rng.integers(32_768, 61_000, n)
    steps = 3 + 2 * data + 3
    out = np.zeros(steps, bool)  # which steps go client to server
    out[[0, 2, steps - 3, steps - 1]] = True
    out[3 : 3 + 2 * data : 2] = True
    flags = np.full(steps, ACK | PSH)
    flags[:3] = [SYN, SYN | ACK, ACK]
    flags[-3:] = [FIN | ACK, FIN | ACK, ACK]
    size = np.where(out, 40, down_size)
    size[3 : 3 + 2 * data : 2] = 300
    size[:3], size[-3:] = 40, 40
    t = begin[:, None] + np.arange(steps)[None, :] * rng.uniform(0.005, 0.06, n)[:, None]
    o = np.broadcast_to(out, (n, steps))
    c = np.broadcast_to(np.asarray(client, np.uint32), (n,))[:, None]
    s = np.broadcast_to(np.asarray(server, np.uint32), (n,))[:, None]
    sizes = size[None, :] * rng.uniform(0.7, 1.1, (n, steps))
    return packets(
        t.ravel(),
        np.where(o, c, s).ravel(),
        np.where(o, s, c).ravel(),
        TCP,
        np.where(o, cport[:, None], port).ravel(),
        np.where(o, port, cport[:, None]).ravel(),
        np.broadcast_to(flags, (n, steps)).ravel(),
        sizes.astype(np.int64).ravel(),
    )


def exchanges(
    rng: np.random.Generator,
    begin: NDArray[np.float64],
    client: NDArray[np.uint32],
    server: NDArray[np.uint32],
    port: int,
    ask: int,
    answer: int,
) -> Packets:
    """UDP request and answer pairs (DNS lookups, NTP polls)."""
    n = len(begin)
    cport = rng.integers(1_024, 65_535, n)
    back = begin + rng.uniform(0.001, 0.05, n)
    return Packets.join(
        [
            packets(begin, client, server, UDP, cport, port, 0, ask + rng.integers(0, 40, n)),
            packets(back, server, client, UDP, port, cport, 0, answer + rng.integers(0, 200, n)),
        ]
    )


# --- the pcap and the two paths -------------------------------------------------------------


def write_pcap(path: Path, p: Packets) -> None:
    """Classic libpcap format: global header, then a 16-byte record header and SNAP bytes per
    frame, all frames written as one numpy array (no loop per packet)."""
    n = len(p.time)
    rec = np.zeros((n, 16 + SNAP), np.uint8)
    micros = np.round(p.time * 1e6).astype(np.int64)
    head = np.zeros((n, 4), "<u4")
    head[:, 0], head[:, 1] = micros // 1_000_000, micros % 1_000_000
    head[:, 2], head[:, 3] = SNAP, p.length.astype(np.uint32) + 14
    rec[:, :16] = head.view(np.uint8).reshape(n, 16)
    f = rec[:, 16:]
    f[:, 0:6] = [2, 0, 0, 0, 0, 2]
    f[:, 6:12] = [2, 0, 0, 0, 0, 1]
    f[:, 12:14] = [8, 0]
    iph = f[:, 14:34]
    iph[:, 0] = 0x45
    big = lambda v: v.astype(">u2").view(np.uint8).reshape(n, 2)  # noqa: E731
    big4 = lambda v: v.astype(">u4").view(np.uint8).reshape(n, 4)  # noqa: E731
    iph[:, 2:4] = big(p.length)
    iph[:, 4:6] = big(np.arange(n) & 0xFFFF)
    iph[:, 6] = 0x40  # don't fragment
    # Fragments (RFC 791 section 3.1): the first has MF and offset 0, a later one an offset
    # (in 8-byte units; 185 = 1,480 bytes, after a 1,500-byte first fragment) and no MF.
    iph[p.frag == 1, 6] = 0x20
    iph[p.frag == 2, 6:8] = [0x00, 185]
    iph[:, 8] = 64
    iph[:, 9] = p.proto
    iph[:, 12:16] = big4(p.src)
    iph[:, 16:20] = big4(p.dst)
    words = iph.reshape(n, 10, 2).astype(np.uint32)
    total = (words[:, :, 0] << 8 | words[:, :, 1]).sum(axis=1)
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    iph[:, 10:12] = big(~total & 0xFFFF)  # RFC 791 header checksum
    l4 = f[:, 34:54]
    tcp, udp, icmp = p.proto == TCP, p.proto == UDP, p.proto == ICMP
    l4[:, 0:2] = big(p.sport)
    l4[:, 2:4] = big(p.dport)
    l4[tcp, 12] = 0x50  # data offset 5 words
    l4[tcp, 13] = p.flags[tcp]
    l4[tcp, 14:16] = [0xFF, 0xFF]
    udp_len = big(p.length - 20)
    l4[udp, 4:6] = udp_len[udp]
    # ICMP: type and code are the first two bytes; dport carries type << 8 | code
    l4[icmp, 0:2] = big(p.dport)[icmp]
    l4[icmp, 2:4] = 0
    with path.open("wb") as out:
        out.write(np.array([0xA1B2C3D4], "<u4").tobytes())
        out.write(np.array([2, 4], "<u2").tobytes() + np.array([0, 0, 65535, 1], "<u4").tobytes())
        out.write(rec.tobytes())


def via_reader(path: Path) -> pa.Table:
    return read_flows(path).flows


def via_softflowd(path: Path) -> pa.Table:
    """softflowd reads the pcap and exports IPFIX to a loopback socket; FlowExportDecoder
    decodes the datagrams. ``-c none`` keeps softflowd 1.1.0 off its control socket (it can
    hang there reading a file); ``-a`` takes flow times from the pcap."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.setsockopt(socket.SOL_SOCKET, 33, 256 * 2**20)  # SO_RCVBUFFORCE, as root
    except PermissionError:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 2**20)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.2)
    port = receiver.getsockname()[1]
    datagrams: list[bytes] = []
    done = threading.Event()

    def receive() -> None:  # one loop per datagram: they arrive one by one
        while True:
            try:
                datagrams.append(receiver.recv(65_535))
            except TimeoutError:
                if done.is_set():
                    return

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    command = ["softflowd", "-r", str(path), "-n", f"127.0.0.1:{port}", "-v", "10", "-c", "none"]
    command += ["-a", "-d", "-p", str(path.with_suffix(".pid"))]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    done.set()
    thread.join()
    receiver.close()
    if ran.returncode != 0:
        raise RuntimeError(f"softflowd exited {ran.returncode}: {ran.stderr[-1000:]}")
    result = FlowExportDecoder().decode_many(datagrams, "127.0.0.1", 0)
    if result.malformed or result.unknown_template:
        print(f"  softflowd export: {result.malformed} malformed, {result.errors[:3]}")
    return pa.Table.from_batches(result.batches, schema=FLOW_SCHEMA)


def protected() -> Borders:
    """The protected party (198.51.100.0/24) and its two safe areas (SAFE_AREAS)."""
    areas = [
        (ipaddress.ip_network(prefix), i)
        for i, prefixes in enumerate(SAFE_AREAS.values())
        for prefix in prefixes
    ]
    territory = [(ipaddress.ip_network("198.51.100.0/24"), 0)]
    return Borders(["protected"], territory, list(SAFE_AREAS), areas)
