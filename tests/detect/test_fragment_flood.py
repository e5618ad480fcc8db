"""The fragment flood detector on scapy-built captures of fragmented UDP (the pcap reader)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import RawPcapWriter
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.detect import detect
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.telemetry.pcap import read_pcap

TARGET = "198.18.10.10"
T0 = 1_788_000_000


def flood(path: Path, per_second: int, seconds: int = 4, sources: int = 40) -> Path:
    """``per_second`` UDP datagrams of 2,900 bytes a second towards TARGET, each cut by scapy
    into a first fragment (with the UDP header) and a later one, from ``sources`` senders."""
    frames = []
    for i in range(sources):
        datagram = IP(src=f"203.0.113.{i + 1}", dst=TARGET, id=i) / UDP(sport=40_000 + i, dport=9)
        pieces = fragment(datagram / Raw(b"\xa5" * 2_900), fragsize=1_480)
        assert len(pieces) == 2
        frames.append([bytes(Ether() / piece) for piece in pieces])
    with RawPcapWriter(str(path), linktype=1) as writer:
        writer.write_header(None)
        for n in range(per_second * seconds):
            at = T0 + n / per_second
            for frame in frames[n % sources]:
                writer.write_packet(frame, sec=int(at), usec=round((at % 1) * 1e6))
    return path


@pytest.mark.parametrize(("per_second", "fires"), [(1_500, False), (2_500, True)])
def test_a_fragment_flood_is_found_above_the_threshold(
    tmp_path: Path, per_second: int, fires: bool
) -> None:
    flows = read_pcap(flood(tmp_path / "flood.pcap", per_second)).flows
    found = detect(flows, now=T0 + 3_600.0)
    kinds = {d.kind for d in found}
    assert ("fragment-flood" in kinds) is fires
    assert "volumetric-flood" not in kinds  # 5,000 packets/s is no volumetric flood
    if fires:
        (frag,) = [d for d in found if d.kind == "fragment-flood"]
        assert frag.target == TARGET
        assert frag.magnitude["peak_pps"] == pytest.approx(per_second, rel=0.05)
        assert frag.magnitude["sources"] == 40
        assert frag.explanation["details"]["protocols"] == {"UDP": 1.0}
        assert frag.explanation["rules"][0]["threshold"] == Thresholds().fragment_pps
        assert "fragments after the first" in frag.explanation["summary"]
        course = frag.explanation["timeline"]  # start, peak and end of the attack
        assert course["start"] <= course["peak"] <= course["end"]
        assert course["start"] == frag.start.isoformat()


def test_first_fragments_and_whole_datagrams_do_not_count(tmp_path: Path) -> None:
    """The same flood unfragmented (3,000 whole datagrams/s) is no fragment flood."""
    path = tmp_path / "whole.pcap"
    frames = [
        bytes(Ether() / IP(src=f"203.0.113.{i + 1}", dst=TARGET) / UDP(dport=9) / Raw(b"x" * 1400))
        for i in range(40)
    ]
    with RawPcapWriter(str(path), linktype=1) as writer:
        writer.write_header(None)
        for n in range(3_000 * 3):
            at = T0 + n / 3_000
            writer.write_packet(frames[n % 40], sec=int(at), usec=round((at % 1) * 1e6))
    found = detect(read_pcap(path).flows, now=T0 + 3_600.0, detectors=["fragment-flood"])
    assert found == []


def test_the_command_reports_it(tmp_path: Path) -> None:
    path = flood(tmp_path / "flood.pcap", 3_000, seconds=3)
    result = CliRunner().invoke(app, ["detect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(d["detector"], d["target"]) for d in lines] == [("fragment-flood", TARGET)]
