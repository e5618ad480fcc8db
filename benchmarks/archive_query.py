"""Flow archive: write rate, and a top-talkers query against nfdump on the same flows.

The flows are made once as NetFlow v5 datagrams. The same datagrams are sent over loopback UDP to
Debian's ``nfcapd`` (paced, and its flow count checked afterwards) and decoded by our own v5
decoder into the archive. Then the top 10 source addresses by bytes are asked of both:
``nfdump -R DIR -s srcip/bytes -n 10`` and ``FlowArchive.top_talkers``; the answers must agree.

    python benchmarks/archive_query.py [--flows 10000000] [--rate 15000]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from cyberpeace.telemetry.archive import FlowArchive
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder

RECORDS = 30
HEADER = np.dtype(
    [
        ("version", ">u2"),
        ("count", ">u2"),
        ("uptime", ">u4"),
        ("secs", ">u4"),
        ("nsecs", ">u4"),
        ("sequence", ">u4"),
        ("engine", ">u2"),
        ("sampling", ">u2"),
    ]
)
RECORD = np.dtype(
    [
        ("src", ">u4"),
        ("dst", ">u4"),
        ("nexthop", ">u4"),
        ("input", ">u2"),
        ("output", ">u2"),
        ("packets", ">u4"),
        ("octets", ">u4"),
        ("first", ">u4"),
        ("last", ">u4"),
        ("sport", ">u2"),
        ("dport", ">u2"),
        ("pad", "u1"),
        ("flags", "u1"),
        ("proto", "u1"),
        ("tos", "u1"),
        ("src_as", ">u2"),
        ("dst_as", ">u2"),
        ("masks", ">u2"),
        ("pad2", ">u2"),
    ]
)


def make_datagrams(flows: int, seed: int = 11) -> list[bytes]:
    """NetFlow v5 datagrams of 30 records: heavy-tailed talkers, realistic sizes, one hour."""
    rng = np.random.default_rng(seed)
    datagrams = -(-flows // RECORDS)
    records = np.zeros(datagrams * RECORDS, dtype=RECORD)
    talkers = rng.integers(0x0B000000, 0xDF000000, size=200_000, dtype=np.uint32)
    records["src"] = talkers[np.minimum(rng.zipf(1.3, size=len(records)) - 1, len(talkers) - 1)]
    records["dst"] = rng.integers(0x0B000000, 0xDF000000, size=len(records), dtype=np.uint32)
    records["packets"] = rng.integers(1, 200, size=len(records))
    records["octets"] = records["packets"] * rng.integers(40, 1500, size=len(records))
    base_ms = 1_000_000
    records["first"] = base_ms + rng.integers(0, 3_000_000, size=len(records))
    records["last"] = records["first"] + rng.integers(0, 60_000, size=len(records))
    records["sport"] = rng.integers(1024, 65535, size=len(records))
    records["dport"] = rng.choice([53, 80, 443, 123, 22], size=len(records))
    records["proto"] = np.where(records["dport"] == 53, 17, 6)
    records = records[:flows] if flows % RECORDS == 0 else records
    header = np.zeros(1, dtype=HEADER)
    header["version"], header["uptime"], header["secs"] = 5, base_ms + 3_100_000, 1_764_000_000
    out = []
    for i in range(0, len(records), RECORDS):
        chunk = records[i : i + RECORDS]
        header["count"], header["sequence"] = len(chunk), i
        out.append(header.tobytes() + chunk.tobytes())
    return out


def send_to_nfcapd(datagrams: list[bytes], folder: Path, rate: int) -> float:
    """Replay to nfcapd on loopback at ``rate`` datagrams/s; return the seconds it took."""
    port = _free_port()
    nfcapd = subprocess.Popen(
        [
            "nfcapd",
            "-w",
            str(folder),
            "-p",
            str(port),
            "-b",
            "127.0.0.1",
            "-B",
            "33554432",
            "-t",
            "86400",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    began = time.perf_counter()
    for i, datagram in enumerate(datagrams):
        sender.sendto(datagram, ("127.0.0.1", port))
        if i % 100 == 99:
            ahead = (i + 1) / rate - (time.perf_counter() - began)
            if ahead > 0:
                time.sleep(ahead)
    took = time.perf_counter() - began
    time.sleep(1.0)
    nfcapd.send_signal(signal.SIGTERM)
    nfcapd.wait(timeout=60)
    return took


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nfdump_top(folder: Path) -> tuple[float, list[tuple[str, int]], int]:
    began = time.perf_counter()
    done = subprocess.run(
        ["nfdump", "-R", str(folder), "-s", "srcip/bytes", "-n", "10", "-o", "csv", "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    took = time.perf_counter() - began
    rows = [line.split(",") for line in done.stdout.splitlines() if line and line[0].isdigit()]
    top = [(r[4], int(float(r[9]))) for r in rows if len(r) > 9]
    total = subprocess.run(
        ["nfdump", "-R", str(folder), "-I"], capture_output=True, text=True, check=True
    ).stdout
    flows = next(int(line.split()[-1]) for line in total.splitlines() if line.startswith("Flows:"))
    return took, top, flows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=10_000_000)
    parser.add_argument("--rate", type=int, default=15_000, help="datagrams/s towards nfcapd")
    args = parser.parse_args()
    datagrams = make_datagrams(args.flows)
    flows = sum((len(d) - 24) // 48 for d in datagrams)
    work = Path(tempfile.mkdtemp(prefix="cyberpeace-bench-"))
    try:
        decoder = NetflowV5Decoder()
        batches: list[pa.RecordBatch] = []
        for i in range(0, len(datagrams), 256):
            batches += decoder.decode_many(datagrams[i : i + 256], "127.0.0.1", 0).batches
        table = pa.Table.from_batches(batches)
        archive = FlowArchive(work / "archive", buffer_rows=4_000_000)
        began = time.perf_counter()
        archive.write(table)
        archive.flush()
        write_s = time.perf_counter() - began
        began = time.perf_counter()
        ours = archive.top_talkers(by="src", metric="bytes", limit=10)
        ours_s = time.perf_counter() - began

        if shutil.which("nfcapd") is None:
            print("nfcapd/nfdump not installed: only our figures")
            nf_s, nf_top, nf_flows = float("nan"), [], 0
        else:
            (work / "nfcapd").mkdir()
            sent_s = send_to_nfcapd(datagrams, work / "nfcapd", args.rate)
            nf_s, nf_top, nf_flows = nfdump_top(work / "nfcapd")
            print(f"nfcapd received {nf_flows:,} of {flows:,} flows ({sent_s:.0f} s paced send)")
        rate = flows / write_s / 1e6
        print(f"archive write: {flows:,} flows in {write_s:.2f} s = {rate:.2f} M flows/s")
        print(f"top 10 sources by bytes, cyberpeace (DuckDB over Parquet): {ours_s:.3f} s")
        if nf_top:
            same = [t.address for t in ours] == [a for a, _ in nf_top]
            print(f"top 10 sources by bytes, nfdump -s srcip/bytes:           {nf_s:.3f} s")
            print(f"ratio (nfdump time / ours): {nf_s / ours_s:.1f}x; same top 10: {same}")
            if nf_flows != flows:
                print("note: nfcapd lost flows, so its totals differ; lower --rate")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
