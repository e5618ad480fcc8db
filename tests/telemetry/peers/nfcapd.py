"""Debian's nfcapd as a peer collector, and its flows read back through ``nfdump -o csv``.

``Nfcapd`` starts nfcapd on a free loopback port and, on ``stop``, waits until nfcapd has read
every datagram queued on its socket, ends it (SIGTERM: it closes its file) and prints what it
stored with ``nfdump -R DIR -o csv`` (TZ=UTC: our nfdump reader reads its times as UTC).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pyarrow as pa

from cyberpeace.telemetry.formats import read_flows

NFDUMP_MISSING = shutil.which("nfcapd") is None or shutil.which("nfdump") is None


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def udp_queue(port: int) -> int | None:
    """Bytes waiting on the IPv4 UDP socket bound to ``port`` (/proc/net/udp), None if none."""
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            return int(fields[4].split(":")[1], 16)  # tx_queue:rx_queue
    return None


class Nfcapd:
    """One nfcapd writing into ``folder``; ``port`` is where to send it datagrams."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_udp_port()
        self._process = subprocess.Popen(
            [
                "nfcapd",
                "-w",
                str(folder),
                "-p",
                str(self.port),
                "-b",
                "127.0.0.1",
                "-t",
                "86400",
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_bound()

    def _wait_bound(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while udp_queue(self.port) is None:
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"nfcapd did not listen on 127.0.0.1:{self.port}")
            time.sleep(0.02)

    def stop(self, csv: Path, timeout: float = 10.0) -> pa.Table:
        """End nfcapd once its socket is drained; the flows it stored, read from nfdump's CSV."""
        deadline = time.monotonic() + timeout
        while (udp_queue(self.port) or 0) > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # the last datagram read is still being stored
        self._process.send_signal(signal.SIGTERM)
        self._process.wait(timeout=30)
        with csv.open("w") as handle:
            subprocess.run(
                ["nfdump", "-R", str(self.folder), "-o", "csv"],
                stdout=handle,
                check=True,
                env=os.environ | {"TZ": "UTC"},
            )
        result = read_flows(csv)
        if result.malformed:
            raise AssertionError(f"our nfdump reader refused rows: {result.errors}")
        return result.flows

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
