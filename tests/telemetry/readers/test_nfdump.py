"""nfdump CSV, produced in the test by Debian's real nfcapd and nfdump from NetFlow v5 we send.

The same datagrams go through our own v5 decoder; per source/destination pair, our flow, packet
and byte totals must equal what nfdump reports. Skipped, with the reason, without nfdump.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.telemetry.formats import ReadError, detect_format, read_flows
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from tests.telemetry.peers.exporters import pair_totals
from tests.telemetry.peers.nfcapd import NFDUMP_MISSING, Nfcapd

pytestmark = pytest.mark.skipif(NFDUMP_MISSING, reason="Debian's nfdump package is not installed")

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


def _datagrams(count: int = 20) -> list[bytes]:
    rng = np.random.default_rng(5)
    out = []
    for sequence in range(count):
        records = np.zeros(30, dtype=RECORD)
        records["src"] = 0xC6120000 + rng.integers(1, 20, size=30)  # 198.18.0.x
        records["dst"] = 0xC6130000 + rng.integers(1, 5, size=30)  # 198.19.0.x
        records["packets"] = rng.integers(1, 50, size=30)
        records["octets"] = records["packets"] * rng.integers(40, 1500, size=30)
        records["first"] = 50_000 + rng.integers(0, 9_000, size=30)
        records["last"] = records["first"] + 500
        records["sport"], records["dport"] = 40000 + sequence, 443
        records["proto"], records["flags"] = 6, 0x1B
        records["input"], records["src_as"] = 3, 64500
        header = np.zeros(1, dtype=HEADER)
        header["version"], header["count"], header["uptime"] = 5, 30, 60_000
        header["secs"], header["sequence"] = 1_764_000_000, sequence * 30
        out.append(header.tobytes() + records.tobytes())
    return out


@pytest.fixture(scope="module")
def nfdump_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("capture")
    nfcapd = Nfcapd(folder / "nfcapd")
    out = folder / "flows.csv"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for datagram in _datagrams():
                sender.sendto(datagram, ("127.0.0.1", nfcapd.port))
                time.sleep(0.002)
        nfcapd.stop(out)
    finally:
        nfcapd.kill()
    return out


def test_our_totals_equal_nfdumps_per_pair(nfdump_csv: Path) -> None:
    assert detect_format(nfdump_csv) == "nfdump-csv"
    theirs = read_flows(nfdump_csv)
    assert theirs.malformed == 0
    assert theirs.flows.num_rows == 600
    decoded = NetflowV5Decoder().decode_many(_datagrams(), "127.0.0.1", 0)
    ours = pa.Table.from_batches(decoded.batches)
    assert pair_totals(ours) == pair_totals(theirs.flows)
    row = theirs.flows.to_pylist()[0]
    assert (row["protocol"], row["tcp_flags"], row["input_if"], row["src_as"]) == (
        6,
        0x1B,
        3,
        64500,
    )
    assert row["exporter"] == "127.0.0.1"


def test_damaged_nfdump_csv(nfdump_csv: Path, tmp_path: Path) -> None:
    lines = nfdump_csv.read_text().splitlines()
    damaged = tmp_path / "damaged.csv"
    damaged.write_text(
        "\n".join([lines[0], lines[1], "2025-11-24 15:14:41,oops", *lines[2:5]]) + "\n"
    )
    result = read_flows(damaged)
    assert result.flows.num_rows == 4
    assert result.malformed == 1
    assert result.errors[0].startswith("line 3:")
    wrong = tmp_path / "wrong.csv"
    fields = lines[1].split(",")
    fields[5] = "https"  # a source port that is not a number
    wrong.write_text(lines[0] + "\n" + ",".join(fields) + "\n")
    with pytest.raises(ReadError, match="not nfdump CSV"):
        read_flows(wrong)
