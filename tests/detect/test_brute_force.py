"""The brute-force detector: records in, detections out."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from cyberpeace.detect import Thresholds, detect
from cyberpeace.detect.remote_access import remote_access
from cyberpeace.mission import Borders
from cyberpeace.telemetry import ACK, FIN, PSH, SYN
from tests.detect.records import T0, join, records

ONLY = ["brute-force"]
GUESSER = "198.19.66.6"


def sessions(
    n: int,
    port: int = 22,
    over: float = 50.0,
    dst: str = "198.18.20.5",
    src: str = GUESSER,
    packets: int = 22,
    length: float = 2.0,
    flags: int = SYN | ACK | PSH | FIN,
    at: float = T0,
) -> pa.Table:
    """``n`` login attempts, each a TCP session of ``packets`` packets, evenly over ``over`` s."""
    when = at + np.linspace(0, over, n, endpoint=False)
    return records(
        n,
        start=when,
        end=when + length,
        src=src,
        dst=dst,
        sport=np.arange(n) + 45_000,
        dport=port,
        proto=6,
        tcp_flags=flags,
        packets=packets,
        bytes=packets * 120,
    )


@pytest.mark.parametrize(("n", "fires"), [(19, False), (20, True)])
def test_sessions_per_minute(n: int, fires: bool) -> None:
    assert len(detect(sessions(n), detectors=ONLY)) == int(fires)


@pytest.mark.parametrize("port", [21, 22, 23, 445, 3389, 5900])
def test_every_listed_service_counts(port: int) -> None:
    (found,) = detect(sessions(30, port=port), detectors=ONLY)
    assert found.explanation["details"]["services"] == {str(port): remote_access().name(port)}


def test_a_brute_force_on_a_safe_area(borders: Borders, criticality: dict[str, str]) -> None:
    flows = join(sessions(40, port=3389), sessions(30, port=3389, at=T0 + 60))
    (found,) = detect(flows, borders, criticality=criticality, detectors=ONLY)
    assert (found.kind, found.target, found.safe_area) == (
        "brute-force",
        "198.18.20.5",
        "arcadia-election-commission",
    )
    assert found.severity == "critical"
    assert [(s.address, s.party, s.share) for s in found.sources] == [(GUESSER, "borduria", 1.0)]
    assert found.magnitude["windows"] == 2
    assert found.explanation["details"]["sessions"] == 70
    assert found.explanation["summary"].endswith(
        "198.19.66.6 opened 70 short TCP sessions to port 3389 (RDP) of the host in 110 seconds "
        "(about 38 a minute)."
    )
    (rule,) = found.explanation["rules"]
    assert (rule["metric"], rule["threshold"], rule["peak"]) == ("sessions", 20, 40)
    assert found.explanation["window_s"] == 60


@pytest.mark.parametrize(
    "benign",
    [
        pytest.param(sessions(10), id="an admin's script: 10 sessions a minute"),
        pytest.param(sessions(40, port=443), id="a browser's connections to a web server"),
        pytest.param(sessions(40, flags=SYN, packets=1, length=0), id="unanswered SYNs"),
        pytest.param(sessions(40, packets=5_000, length=30), id="file copies over SSH"),
        pytest.param(sessions(40, length=300), id="long interactive sessions"),
        pytest.param(
            join(*(sessions(5, src=f"192.0.2.{i}") for i in range(1, 9))),
            id="eight users, five sessions each",
        ),
    ],
)
def test_benign_traffic_is_quiet(benign: pa.Table) -> None:
    assert detect(benign, detectors=ONLY) == []


def test_thresholds_are_overridable() -> None:
    lower = Thresholds(brute_sessions=5)
    assert len(detect(sessions(10), thresholds=lower, detectors=ONLY)) == 1


def test_an_ipv6_brute_force() -> None:
    flows = sessions(25, src="2001:db8:b000::66", dst="2001:db8:a000::22")
    (found,) = detect(flows, detectors=ONLY)
    assert (found.target, found.sources[0].address) == ("2001:db8:a000::22", "2001:db8:b000::66")
    assert found.explanation["summary"].startswith(
        "brute-force against 2001:db8:a000::22: 2001:db8:b000::66 opened 25 short TCP sessions"
    )
