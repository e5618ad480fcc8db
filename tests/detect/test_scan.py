"""The scan detectors: records in, detections out."""

from __future__ import annotations

import numpy as np
import pytest

from cyberpeace.detect import detect
from cyberpeace.mission import Borders
from cyberpeace.telemetry import ACK, FIN, PSH, RST, SYN
from tests.detect.records import T0, hosts, join, records

SCANNER = "198.19.66.6"


def probes(ports, dst="198.18.20.5", flags=SYN, packets=1, at=T0, over=40.0, src=SCANNER):
    """One probe per port from the scanner, evenly over ``over`` seconds from ``at``."""
    ports = np.asarray(ports)
    when = at + np.linspace(0, over, len(ports), endpoint=False)
    return records(
        len(ports),
        start=when,
        end=when,
        src=src,
        dst=dst,
        sport=41_337,
        dport=ports,
        proto=6,
        tcp_flags=flags,
        packets=packets,
        bytes=44 * packets,
    )


@pytest.mark.parametrize(("ports", "fires"), [(99, False), (100, True)])
def test_vertical_at_the_threshold(ports: int, fires: bool) -> None:
    found = detect(probes(np.arange(1, ports + 1)), detectors=["vertical-scan"])
    assert len(found) == int(fires)


def test_vertical_detection(borders: Borders, criticality: dict[str, str]) -> None:
    flows = probes(np.arange(1, 301), over=50)
    (found,) = detect(flows, borders, criticality=criticality, detectors=["vertical-scan"])
    assert (found.kind, found.target, found.safe_area) == (
        "port-scan",
        "198.18.20.5",
        "arcadia-election-commission",
    )
    assert found.severity == "high"
    assert [(s.address, s.party, s.port, s.packets) for s in found.sources] == [
        (SCANNER, "borduria", 41_337, 300)
    ]
    assert found.explanation["details"] == {"ports_probed": 300, "port_range": [1, 300]}
    assert found.start.timestamp() == pytest.approx(T0)
    assert found.end.timestamp() == pytest.approx(T0 + 50 * 299 / 300)


@pytest.mark.parametrize(
    ("flags", "packets", "counted"),
    [
        (SYN, 1, True),  # SYN scan
        (SYN | RST, 2, True),  # SYN scan, answered and reset by the scanner
        (FIN, 1, True),  # FIN scan
        (0, 1, True),  # NULL scan
        (FIN | PSH | 0x20, 1, True),  # Xmas scan
        (SYN | ACK | RST, 3, True),  # connect() scan torn down without data
        (SYN, 4, False),  # more packets than a probe
        (SYN | ACK | PSH | FIN, 3, False),  # a short real conversation
        (RST | ACK, 1, False),  # a host's answers
        (SYN | ACK, 1, False),
    ],
)
def test_what_counts_as_a_probe(flags: int, packets: int, counted: bool) -> None:
    found = detect(probes(np.arange(1, 201), flags=flags, packets=packets))
    assert len(found) == int(counted)


def test_a_hosts_answers_do_not_make_it_a_scanner() -> None:
    """A scanner that varies its source port gets RST-ACKs on 200 of its ports."""
    answers = probes(np.arange(1, 201), flags=RST | ACK, src="198.18.20.5", dst=SCANNER)
    assert detect(answers) == []


def test_probes_of_the_next_window_belong_to_the_episode() -> None:
    """120 ports in the first minute, 20 more in the next: one scan, start to end."""
    flows = join(
        probes(np.arange(1, 121), over=50), probes(np.arange(121, 141), at=T0 + 61, over=10)
    )
    (found,) = detect(flows, detectors=["vertical-scan"])
    assert found.magnitude["ports"] == 140
    assert found.magnitude["windows"] == 1
    assert found.end.timestamp() == pytest.approx(T0 + 61 + 10 * 19 / 20)


@pytest.mark.parametrize(("count", "fires"), [(49, False), (50, True)])
def test_horizontal_at_the_threshold(count: int, fires: bool) -> None:
    flows = probes(np.full(count, 3389), dst=hosts("198.18.20.0/24", count))
    assert len(detect(flows, detectors=["horizontal-scan"])) == int(fires)


def test_horizontal_detection(borders: Borders) -> None:
    flows = join(
        probes(np.full(254, 22), dst=hosts("198.19.30.0/24", 254)),
        probes(np.full(254, 443), dst=hosts("198.19.30.0/24", 254), at=T0 + 0.1),
    )
    (found,) = detect(flows, borders, detectors=["horizontal-scan"])
    assert (found.kind, found.target, found.party) == ("host-sweep", "198.19.30.0/24", "borduria")
    assert found.safe_area == "borduria-power-utility"
    assert found.severity == "medium"  # a precursor: one below an unrated safe area (high)
    assert found.explanation["details"] == {"hosts_probed": 254, "ports": [22, 443]}
    assert found.magnitude["hosts"] == 254
    assert found.magnitude["windows"] == 1  # two ports, one window
    assert found.sources[0].party == "borduria"


def test_a_sweep_counts_hosts_per_network_and_port() -> None:
    """30 hosts in each of two /24s, and 30 hosts on each of two ports: no sweep."""
    flows = join(
        probes(np.full(30, 22), dst=hosts("198.18.20.0/24", 30)),
        probes(np.full(30, 22), dst=hosts("198.18.21.0/24", 30)),
        probes(np.full(30, 23), dst=hosts("198.18.20.0/24", 30)),
    )
    assert detect(flows, detectors=["horizontal-scan"]) == []


def test_scan_of_an_ordinary_host_is_low(borders: Borders) -> None:
    (found,) = detect(probes(np.arange(1, 201), dst="198.18.1.10"), borders)
    assert (found.party, found.safe_area, found.severity) == ("arcadia", None, "low")


def test_an_ipv6_port_scan(borders: Borders) -> None:
    flows = probes(np.arange(1, 201), dst="2001:db8:b030::10", src="2001:db8:a000::66")
    (found,) = detect(flows, borders, detectors=["vertical-scan"])
    assert (found.target, found.party, found.safe_area) == (
        "2001:db8:b030::10",
        "borduria",
        "borduria-power-utility",
    )
    assert [(s.address, s.party) for s in found.sources] == [("2001:db8:a000::66", "arcadia")]
    assert found.explanation["summary"].startswith(
        "port-scan against 2001:db8:b030::10 (safe area borduria-power-utility): "
        "2001:db8:a000::66 probed 200 TCP ports"
    )


def test_an_ipv6_sweep_counts_hosts_of_one_64() -> None:
    inside = [f"2001:db8:b030:1::{i:x}" for i in range(1, 61)]
    other = [f"2001:db8:b030:2::{i:x}" for i in range(1, 40)]
    flows = join(
        probes(np.full(60, 22), dst=inside),
        probes(np.full(39, 22), dst=other),
        probes(np.full(30, 22), dst=hosts("198.18.20.0/24", 30)),
    )
    (found,) = detect(flows, detectors=["horizontal-scan"])
    assert found.target == "2001:db8:b030:1::/64"
    assert found.magnitude["hosts"] == 60
