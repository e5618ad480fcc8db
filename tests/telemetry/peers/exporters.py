"""Real exporters reading a pcap, a tee that gives their datagrams to nfcapd, and our side.

``softflowd`` and ``pmacctd`` run an exporter against a pcap; ``run_export`` has it send to a
``Tee`` on loopback, which keeps every datagram and forwards it, unchanged and in order, to
nfcapd. The kept datagrams then go to ``collect``, our side: both collectors see the same input.

``collect`` sends the datagrams over loopback UDP to our live Collector (collector.py) when it is
there, else to a plain socket whose datagrams FlowExportDecoder decodes: both paths decode with
the exporter named by the datagrams' source address, as a collector sees it.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cyberpeace.telemetry.archive import address_text
from cyberpeace.telemetry.dispatch import FlowExportDecoder
from cyberpeace.telemetry.schema import FLOW_SCHEMA

from .nfcapd import Nfcapd

SO_RCVBUFFORCE = 33  # Linux: a buffer beyond rmem_max (we run as root in CI); else SO_RCVBUF
BUFFER = 64 * 2**20
SOFTFLOWD_MISSING = shutil.which("softflowd") is None
PMACCTD_MISSING = shutil.which("pmacctd") is None
Totals = dict[tuple[str, str], tuple[int, int, int]]  # (src, dst) -> flows, packets, bytes


def _receiving_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUFFER)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
    sock.bind(("127.0.0.1", 0))
    return sock


class Tee:
    """Receives an exporter's datagrams, keeps them, forwards each to ``forward_port``."""

    def __init__(self, forward_port: int) -> None:
        self.datagrams: list[bytes] = []
        self._in = _receiving_socket()
        self._in.settimeout(0.05)
        self._out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._forward = ("127.0.0.1", forward_port)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tee", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._in.getsockname()[1])

    def _run(self) -> None:
        while True:
            try:
                datagram = self._in.recv(65535)
            except TimeoutError:
                if self._stop.is_set():
                    return  # asked to stop and nothing more queued
                continue
            self.datagrams.append(datagram)
            self._out.sendto(datagram, self._forward)

    def close(self) -> list[bytes]:
        """Forward what is still queued, stop; every datagram received."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._in.close()
        self._out.close()
        return self.datagrams


def softflowd(pcap: Path, port: int, version: int, *options: str) -> str:
    """``softflowd -r`` exports every flow of the pcap at its end (EOF expires them all).

    ``-c none``: softflowd 1.1.0 reading a file does not poll, yet tests its control socket's
    poll result (left uninitialised) and can block in accept() for ever; no socket, no hang.
    """
    command = ["softflowd", "-r", str(pcap), "-n", f"127.0.0.1:{port}", "-v", str(version)]
    command += ["-d", "-c", "none", "-p", str(pcap.with_name(f"softflowd-{port}.pid")), *options]
    return _run(command)


def pmacctd(pcap: Path, port: int, version: int, **keys: str) -> str:
    """``pmacctd`` with its nfprobe plugin reading the pcap (CONFIG-KEYS: pcap_savefile,
    nfprobe_receiver, nfprobe_version); it exits when the file is done, exporting every flow."""
    config = {
        "daemonize": "false",
        "pcap_savefile": str(pcap),
        "plugins": "nfprobe",
        "nfprobe_receiver": f"127.0.0.1:{port}",
        "nfprobe_version": str(version),
        "pidfile": str(pcap.with_name(f"pmacctd-{port}.pid")),
        **keys,
    }
    path = pcap.with_name(f"pmacctd-{port}.conf")  # one per run: runs may overlap
    path.write_text("".join(f"{key}: {value}\n" for key, value in config.items()))
    return _run(["pmacctd", "-f", str(path)])


def _run(command: list[str]) -> str:
    """Run an exporter to its end; its output, or an error that shows it."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with {done.returncode}:\n{output[-2000:]}")
    return output


def collector_available() -> bool:
    return importlib.util.find_spec("cyberpeace.telemetry.collector") is not None


def collect(datagrams: Sequence[bytes]) -> pa.Table:
    """Our side: the datagrams over loopback UDP to our collector; the flows it decoded."""
    if collector_available():
        return _collect_live(datagrams)
    return _collect_decoded(datagrams)


def _collect_live(datagrams: Sequence[bytes]) -> pa.Table:
    """Through the live Collector (collector.py): receive thread, decode thread, a sink."""
    from cyberpeace.telemetry.collector import Collector  # not on every branch yet

    tables: list[pa.Table] = []
    collector = Collector(["udp://127.0.0.1:0"], sinks=[tables.append])
    collector.start()
    try:
        _send(datagrams, collector.addresses[0])
        collector.flush(timeout=10.0)
    finally:
        collector.stop()
    counters = collector.counters()["127.0.0.1"]
    if counters.malformed or counters.unknown_template or counters.datagrams != len(datagrams):
        raise AssertionError(f"our collector lost or refused parts of the export: {counters}")
    return pa.concat_tables([FLOW_SCHEMA.empty_table(), *tables])


def _collect_decoded(datagrams: Sequence[bytes]) -> pa.Table:
    """Without the Collector: a socket receives them all, FlowExportDecoder decodes them."""
    with _receiving_socket() as receiver:
        receiver.settimeout(5.0)
        _send(datagrams, receiver.getsockname())
        received = [receiver.recvfrom(65535) for _ in datagrams]
    exporter = received[0][1][0] if received else "127.0.0.1"
    result = FlowExportDecoder().decode_many([d for d, _ in received], exporter, 0)
    if result.malformed or result.unknown_template:
        raise AssertionError(f"our decoders refused parts of the export: {result.errors}")
    return pa.Table.from_batches(result.batches, schema=FLOW_SCHEMA)


def _send(datagrams: Sequence[bytes], to: tuple[str, int]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.bind(("127.0.0.1", 0))
        for number, datagram in enumerate(datagrams):
            sender.sendto(datagram, to)
            if number % 64 == 63:
                time.sleep(0.001)  # a breath for the receiver, as an exporter's pacing would


def pair_totals(flows: pa.Table) -> Totals:
    """(flows, packets, bytes) per (source, destination) address text."""
    grouped = flows.group_by(["src_addr", "dst_addr"]).aggregate(
        [("packets", "count"), ("packets", "sum"), ("bytes", "sum")]
    )
    out: Totals = {}
    for row in grouped.to_pylist():  # one per pair, for the comparison
        pair = (address_text(row["src_addr"]), address_text(row["dst_addr"]))
        out[pair] = (row["packets_count"], row["packets_sum"], row["bytes_sum"])
    return out


def pair_times(flows: pa.Table) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (source, destination): the earliest start and latest end in whole UNIX seconds
    (floored: nfdump's CSV prints times to the second)."""
    return _pair_extremes(flows, 1_000_000)


def conversation_times(flows: pa.Table) -> dict[tuple[str, str], tuple[float, float]]:
    """Earliest start and latest end (UNIX seconds) per conversation: the two hosts, sorted.
    Exporters that track both directions as one flow may give both records its start."""
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for (a, b), (start, end) in _pair_extremes(flows, 1).items():
        key = (min(a, b), max(a, b))
        first, last = out.get(key, (start / 1e6, end / 1e6))
        out[key] = (min(first, start / 1e6), max(last, end / 1e6))
    return out


def _pair_extremes(flows: pa.Table, unit_us: int) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (source, destination): min start and max end, in units of ``unit_us`` (floored)."""
    times = flows.select(["src_addr", "dst_addr"])
    for name in ("start", "end"):
        micros = flows.column(name).cast(pa.int64())
        times = times.append_column(name, pc.divide(micros, unit_us) if unit_us > 1 else micros)
    grouped = times.group_by(["src_addr", "dst_addr"]).aggregate([("start", "min"), ("end", "max")])
    return {
        (address_text(row["src_addr"]), address_text(row["dst_addr"])): (
            row["start_min"],
            row["end_max"],
        )
        for row in grouped.to_pylist()
    }


@dataclass
class Run:
    """One export: what the exporter printed, the datagrams, our flows and nfdump's."""

    output: str
    datagrams: list[bytes]
    ours: pa.Table
    theirs: pa.Table


def run_export(
    exporter: Callable[[int], str], folder: Path, nfcapd_options: Sequence[str] = ()
) -> Run:
    """``exporter(port)`` sends to a Tee at ``port``; the tee feeds nfcapd, then us."""
    nfcapd = Nfcapd(folder / "nfcapd", *nfcapd_options)
    try:
        tee = Tee(nfcapd.port)
        try:
            output = exporter(tee.port)
        finally:
            datagrams = tee.close()
        theirs = nfcapd.stop(folder / "flows.csv")
    finally:
        nfcapd.kill()
    return Run(output, datagrams, collect(datagrams), theirs)
