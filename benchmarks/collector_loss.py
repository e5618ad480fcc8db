"""Collector loss over loopback UDP: real softflowd datagrams replayed at paced rates.

A pcap of many distinct flows is built with numpy; Debian's ``softflowd -r`` turns it into
IPFIX (``-v 10``) or NetFlow v9 and sends it to a socket here, which records the datagrams.
A sender process then replays the recording in a loop at each rate (flows/s) for a few seconds,
first to our Collector (in this process, a counting sink) and then to Debian's ``nfcapd`` (its
flows counted with ``nfdump -I``). Per rate: offered flows/s, flows decoded, loss.

    python benchmarks/collector_loss.py [--flows 200000] [--seconds 5] [--version 10]
        [--rates 100000,200000,400000,800000,0]     (0: as fast as the sender can)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from cyberpeace.telemetry.collector import Collector
from cyberpeace.telemetry.dispatch import FlowExportDecoder

PACKET = np.dtype(  # pcap record header, Ethernet II, IPv4, UDP, 18 octets of payload
    [
        ("ts_sec", "<u4"),
        ("ts_usec", "<u4"),
        ("caplen", "<u4"),
        ("len", "<u4"),
        ("eth_dst", "V6"),
        ("eth_src", "V6"),
        ("ethertype", ">u2"),
        ("version_ihl", "u1"),
        ("tos", "u1"),
        ("ip_len", ">u2"),
        ("ident", ">u2"),
        ("frag", ">u2"),
        ("ttl", "u1"),
        ("proto", "u1"),
        ("checksum", ">u2"),
        ("src", ">u4"),
        ("dst", ">u4"),
        ("sport", ">u2"),
        ("dport", ">u2"),
        ("udp_len", ">u2"),
        ("udp_sum", ">u2"),
        ("payload", "V18"),
    ]
)
FRAME = PACKET.itemsize - 16


def make_pcap(path: Path, flows: int, seed: int = 5) -> None:
    """One UDP packet per flow, every 5-tuple distinct, spread over 30 seconds (pcap format)."""
    rng = np.random.default_rng(seed)
    packets = np.zeros(flows, dtype=PACKET)
    stamps = np.sort(rng.integers(0, 30_000_000, size=flows)) + 1_764_000_000_000_000
    packets["ts_sec"], packets["ts_usec"] = stamps // 1_000_000, stamps % 1_000_000
    packets["caplen"] = packets["len"] = FRAME
    packets["ethertype"] = 0x0800
    packets["version_ihl"], packets["ttl"], packets["proto"] = 0x45, 64, 17
    packets["ip_len"], packets["udp_len"] = FRAME - 14, FRAME - 34
    packets["src"] = 0x0A000000 + np.arange(flows, dtype=np.uint32)  # distinct sources
    packets["dst"] = rng.integers(0xC6336400, 0xC6336500, size=flows, dtype=np.uint32)
    packets["sport"] = rng.integers(1024, 65535, size=flows)
    packets["dport"] = rng.choice([53, 123, 443, 5060], size=flows)
    header = np.array([0xA1B2C3D4, 0x00040002, 0, 0, 65535, 1], dtype="<u4").tobytes()
    path.write_bytes(header + packets.tobytes())


def record_softflowd(pcap: Path, version: int) -> list[bytes]:
    """The datagrams ``softflowd -r`` sends for the capture.

    softflowd 1.1.0 here often blocks in accept() on its control socket before reading the
    capture, so it is poked with empty control connections until it has sent everything; the
    recording ends when the datagrams stop for two seconds.
    """
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, 33, 256 * 2**20)  # SO_RCVBUFFORCE: keep every datagram
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(10.0)
    port = sink.getsockname()[1]
    control = Path(f"/tmp/cpb{os.getpid()}.ctl")
    command = ["softflowd", "-r", str(pcap), "-n", f"127.0.0.1:{port}", "-v", str(version)]
    command += ["-d", "-m", "4000000", "-p", str(control.with_suffix(".pid")), "-c", str(control)]
    softflowd = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    recorded: list[bytes] = []
    poking = threading.Event()
    poker = threading.Thread(target=_poke, args=(control, softflowd, poking), daemon=True)
    poker.start()
    try:
        while True:
            try:
                recorded.append(sink.recv(65535))
            except TimeoutError:
                break
            sink.settimeout(2.0)
    finally:
        poking.set()
        softflowd.terminate()
        softflowd.wait(timeout=10)
        sink.close()
        control.unlink(missing_ok=True)
        control.with_suffix(".pid").unlink(missing_ok=True)
    return recorded


def _poke(control: Path, softflowd: subprocess.Popen[bytes], done: threading.Event) -> None:
    while not done.wait(0.05) and softflowd.poll() is None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as poke:
                poke.connect(str(control))
        except OSError:
            pass


def flows_per_datagram(datagrams: list[bytes]) -> np.ndarray:
    """How many flows each recorded datagram carries (decoded in order, templates first)."""
    decoder = FlowExportDecoder()
    return np.array([decoder.decode(d, "127.0.0.1", 0).flows for d in datagrams])


def replay(
    datagrams: list[bytes],
    flows: np.ndarray,
    port: int,
    rate: int,
    seconds: float,
    out: multiprocessing.SimpleQueue[tuple[int, int, float]],
) -> None:
    """In the sender process: loop over the recording at ``rate`` flows/s (0: flat out)."""
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 2**20)
    per_datagram = float(flows.mean())
    interval = per_datagram / rate if rate else 0.0
    count, total = len(datagrams), len(datagrams) * int(seconds * 100_000)
    sent = offered = 0
    began = time.perf_counter()
    while sent < total:
        try:
            sender.sendto(datagrams[sent % count], ("127.0.0.1", port))
        except OSError:  # ENOBUFS on an overfull loopback: the datagram is not offered
            time.sleep(0.0001)
            continue
        offered += int(flows[sent % count])
        sent += 1
        if sent % 16 == 0:
            elapsed = time.perf_counter() - began
            if elapsed >= seconds:
                break
            ahead = sent * interval - elapsed
            if ahead > 0:
                time.sleep(ahead)
    out.put((sent, offered, time.perf_counter() - began))


@dataclass
class Run:
    offered: int
    seconds: float
    received: int
    note: str = ""

    @property
    def loss(self) -> float:
        return 100.0 * (1 - self.received / self.offered) if self.offered else 0.0


def send_from_process(
    datagrams: list[bytes], flows: np.ndarray, port: int, rate: int, seconds: float
) -> tuple[int, float]:
    results: multiprocessing.SimpleQueue[tuple[int, int, float]] = multiprocessing.SimpleQueue()
    sender = multiprocessing.get_context("fork").Process(
        target=replay, args=(datagrams, flows, port, rate, seconds, results)
    )
    sender.start()
    sender.join()
    _, offered, took = results.get()
    return offered, took


def run_ours(datagrams: list[bytes], flows: np.ndarray, rate: int, seconds: float) -> Run:
    received = [0]

    def count(table: pa.Table) -> None:
        received[0] += table.num_rows

    with Collector(["udp://127.0.0.1:0"], [count]) as collector:
        offered, took = send_from_process(
            datagrams, flows, collector.addresses[0][1], rate, seconds
        )
        collector.flush(timeout=120)
        totals = collector.totals()
    note = f"kernel drops {totals.kernel_drops:,}, bursts dropped {totals.dropped_bursts:,}"
    return Run(offered, took, received[0], note)


def run_nfcapd(
    datagrams: list[bytes], flows: np.ndarray, rate: int, seconds: float, folder: Path
) -> Run:
    folder.mkdir()
    port = free_port()
    command = ["nfcapd", "-w", str(folder), "-p", str(port), "-b", "127.0.0.1"]
    command += ["-B", "33554432", "-t", "86400"]
    nfcapd = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    offered, took = send_from_process(datagrams, flows, port, rate, seconds)
    time.sleep(1.0)
    nfcapd.send_signal(signal.SIGTERM)
    nfcapd.wait(timeout=120)
    done = subprocess.run(
        ["nfdump", "-R", str(folder), "-I"], capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    received = next(int(line.split()[-1]) for line in lines if line.startswith("Flows:"))
    return Run(offered, took, received)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200_000, help="distinct flows in the pcap")
    parser.add_argument("--seconds", type=float, default=5.0, help="per rate")
    parser.add_argument("--version", type=int, default=10, choices=[9, 10])
    parser.add_argument("--rates", default="100000,200000,400000,800000,0")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    work = Path(tempfile.mkdtemp(prefix="cyberpeace-bench-"))
    try:
        pcap = Path(f"/tmp/cpb{os.getpid()}.pcap")
        try:
            make_pcap(pcap, args.flows)
            datagrams = record_softflowd(pcap, args.version)
        finally:
            pcap.unlink(missing_ok=True)
        flows = flows_per_datagram(datagrams)
        print(
            f"softflowd -v {args.version}: {len(datagrams):,} datagrams, {int(flows.sum()):,} "
            f"of {args.flows:,} flows, {flows.mean():.1f} flows per datagram"
        )
        peer = shutil.which("nfcapd") is not None
        print(
            f"{'rate (flows/s)':>14} {'offered/s':>11} {'ours/s':>11} {'loss':>7}"
            + (f" {'nfcapd/s':>11} {'loss':>7} {'ratio':>6}" if peer else "")
        )
        for number, rate in enumerate(rates):
            ours = run_ours(datagrams, flows, rate, args.seconds)
            line = (
                f"{rate or 'flat out':>14} {ours.offered / ours.seconds:>11,.0f} "
                f"{ours.received / ours.seconds:>11,.0f} {ours.loss:>6.2f}%"
            )
            if peer:
                theirs = run_nfcapd(datagrams, flows, rate, args.seconds, work / f"nf{number}")
                ratio = ours.received / ours.seconds / max(theirs.received / theirs.seconds, 1)
                line += (
                    f" {theirs.received / theirs.seconds:>11,.0f} {theirs.loss:>6.2f}% "
                    f"{ratio:>5.2f}x"
                )
            print(f"{line}   ({ours.note})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
