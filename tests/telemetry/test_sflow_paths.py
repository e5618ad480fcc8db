"""sFlow v5 along the two other ways in: the live collector and flow exports inside captures.

The decoder itself is tested in decoders/test_sflow.py; here the same datagrams, built by the
test-side agent, reach it through a real loopback socket and through a pcap file.
"""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from cyberpeace.telemetry.collector import Collector
from cyberpeace.telemetry.formats import read_flows

from .collector.support import Gather, send
from .decoders import sflow_encoder as agent

RATE = 256


def sflow_datagram(sequence: int, samples: int = 8) -> bytes:
    """``samples`` raw-header flow samples of TCP from 198.51.100.S to 192.0.2.10:443."""
    out = []
    for index in range(samples):
        frame = bytes(
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP(src=f"198.51.100.{index + 1}", dst="192.0.2.10")
            / TCP(sport=40000 + index, dport=443, flags="A")
            / (b"x" * 100)
        )
        record = agent.sampled_header(frame)
        out.append(agent.flow_sample([record], rate=RATE, sequence=sequence * 100 + index))
    return agent.datagram(out, sequence=sequence)


def test_the_collector_decodes_sflow_from_a_socket() -> None:
    gather = Gather()
    with Collector(["udp://127.0.0.1:0"], [gather]) as collector:
        send([sflow_datagram(n) for n in range(20)], collector.addresses[0], source="127.0.0.1")
        collector.flush()
        counters = collector.counters()["127.0.0.1"]
    assert gather.flows == 20 * 8
    assert gather.total("packets") == 20 * 8 * RATE
    assert gather.total("bytes") == 20 * 8 * RATE * 140  # IP length: 20 + 20 + 100
    assert (counters.datagrams, counters.flows, counters.malformed) == (20, 160, 0)


def test_a_truncated_sflow_datagram_is_counted_and_the_next_decoded() -> None:
    gather = Gather()
    whole = sflow_datagram(1)
    with Collector(["udp://127.0.0.1:0"], [gather]) as collector:
        send([whole[:-30], sflow_datagram(2)], collector.addresses[0], source="127.0.0.1")
        collector.flush()
        counters = collector.counters()["127.0.0.1"]
    assert counters.malformed >= 1
    assert gather.flows == 7 + 8  # the cut datagram keeps its whole samples


def test_sflow_exports_inside_a_capture_yield_their_samples(tmp_path: Path) -> None:
    packets = []
    for n in range(5):
        packet = (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP(src="203.0.113.7", dst="192.0.2.1")
            / UDP(sport=5000, dport=9999)
        )
        packet = packet / sflow_datagram(n)
        packet.time = 1_700_000_000 + n
        packets.append(packet)
    path = tmp_path / "sflow.pcap"
    wrpcap(str(path), packets)

    result = read_flows(path)

    flows = result.flows
    assert flows.num_rows == 5 * 8
    assert set(flows.column("exporter").to_pylist()) == {"203.0.113.7"}
    assert set(flows.column("sampling_rate").to_pylist()) == {RATE}
    assert set(flows.column("dst_port").to_pylist()) == {443}
    assert result.malformed == 0
