"""Time from ``ExaBgpEnforcer.announce`` to the route being in a real gobgpd's RIB, and back.

Starts gobgpd (Debian) and ExaBGP (pip) on loopback as the tests do, announces N FlowSpec
discard rules one after another, and for each polls ``gobgp global rib -a ipv4-flowspec -j``
until it is there; then withdraws each and polls until it is gone. Prints the median and 95th
percentile. There is no peer implementation to compare with here: this measures our path
(enforcer -> bridge socket -> ExaBGP -> BGP UPDATE -> gobgpd), and the polling interval of
20 ms (plus the gobgp CLI's own start-up) bounds the resolution.

    PYTHONPATH=src python benchmarks/bgp_latency.py --routes 20
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.respond.gobgp_peer import (
    GoBgpPeer,
    bgp_lab,
    flow_components,
    wait_for,
)

from cyberpeace.respond.bgp_routes import FlowSpecRoute, PortRange
from cyberpeace.respond.enforcers.exabgp import ExaBgpEnforcer


def in_rib(peer: GoBgpPeer, destination: str) -> bool:
    return any(
        flow_components(path)[1]["prefix"] == destination
        for paths in peer.rib("ipv4-flowspec").values()
        for path in paths
    )


def route(index: int) -> FlowSpecRoute:
    victim = ipaddress.ip_network(f"198.18.{index // 250}.{index % 250 + 1}/32")
    return FlowSpecRoute(destination=victim, protocol=17, source_ports=(PortRange(53, 53),))


def report(what: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{what}: n={len(ms)} median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bgp_lab(Path(tmp)) as (peer, speaker):
        enforcer = ExaBgpEnforcer(speaker.config.socket_path)
        wait_for(lambda: any(s.established for s in enforcer.sessions()))
        routes = [route(i) for i in range(args.routes)]
        command, announce, withdraw = [], [], []
        for item in routes:
            started = time.perf_counter()
            enforcer.announce(item)
            command.append(time.perf_counter() - started)
            wait_for(lambda item=item: in_rib(peer, str(item.destination)))
            announce.append(time.perf_counter() - started)
        for item in routes:
            started = time.perf_counter()
            enforcer.withdraw(item)
            wait_for(lambda item=item: not in_rib(peer, str(item.destination)))
            withdraw.append(time.perf_counter() - started)
    report("announce() call (session check + ExaBGP ack)", command)
    report("announce -> in gobgpd RIB", announce)
    report("withdraw -> gone from gobgpd RIB", withdraw)


if __name__ == "__main__":
    main()
