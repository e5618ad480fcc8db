"""Detection accuracy: precision, recall and time to detect per attack type, on labelled traffic.

Two pcaps are written straight from numpy (scapy is far too slow for millions of packets): an
attack trace, where several instances of each attack type (varied rates, durations, victims and
source counts) take turns over benign background, and a benign-only trace of at least 30
minutes. Frames are captured to 54 bytes (Ethernet, IPv4 and a 20-byte transport header) with
their original length and IPv4 total length set to the full packet (RFC 791 section 3.1), as a
capture with a short snap length is: flow meters count IP bytes from the total length.

Each trace goes down two paths: (a) our pcap reader, which meters packets into flows, and (b)
Debian's softflowd reading the pcap and exporting IPFIX over loopback UDP, decoded by
FlowExportDecoder, as a real sensor's collector would see it. ``analyse`` runs on the flows with
the default thresholds; a detection matches a label when its kind is the label's, its target is
the victim (or the swept network) and it overlaps the attack in time (with ``SLACK_S`` after
the end, for flows that end late). Per attack type: instances, detected, recall, precision (a
detection of that kind that matches no label of that type is false; "on attack" also counts
those on another type's victim and time, e.g. a volumetric detection of a SYN flood), median
and worst time to detect (detection start minus attack start, in the traffic's own time: the
batch is analysed after the fact, so this says how well the start is dated, not the latency of
a live sensor) and false detections per day on the benign-only trace, per attack type and per
safe area (the protected network holds two, SAFE_AREAS). Besides attacks of varied size, each
flood type has two near-threshold instances, at 1.5 and 3 times its default threshold
(``Thresholds``), and fragment floods (UDP datagrams cut in two fragments) are among the types.
The detectors run as ``cyberpeace detect`` runs them, with the adaptive baselines.

A long benign run follows (``benign_traffic.py``): ``--benign-hours`` (48 by default) of a
site's day-and-night traffic with flash crowds, backups, a busy resolver, NTP, CDN bursts and
monitoring, analysed hour by hour with the baselines carried, as the live sensor does; it
prints the false detections per day per kind and safe area with their 95% upper bounds.

    python benchmarks/detection_eval.py [--seed 1] [--no-softflowd] [--keep DIR]
        [--benign-minutes 30] [--benign-hours 48] [--long-softflowd] [--no-attacks]
"""

from __future__ import annotations

import argparse
import ipaddress
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from benign_traffic import long_run
from cyberpeace.detect import Detection, Thresholds, analyse
from cyberpeace.detect.baselines import Baselines
from packet_trace import (
    ACK,
    ICMP,
    PSH,
    RST,
    SAFE_AREAS,
    SERVERS,
    SYN,
    TCP,
    UDP,
    Packets,
    exchanges,
    ip,
    packets,
    protected,
    public_addresses,
    sessions,
    via_reader,
    via_softflowd,
    write_pcap,
)

START = 1_764_000_000.0  # 2025-11-24 16:00 UTC
SLOT_S = 150.0  # each attack instance gets its own slot of the attack trace
SLACK_S = 60.0  # a detection may start this long after the attack ends and still match it
BENIGN_S = 1_800.0  # the benign-only trace: 30 simulated minutes
DEFAULTS = Thresholds()
NEAR = {"1.5x": 1.5, "3x": 3.0}  # near-threshold variants: this many times the default
AMPLIFIER_PORTS = {"dns": (53, 1_400), "ntp": (123, 468), "memcached": (11211, 1_400)}
AMPLIFIER_PORTS |= {"ssdp": (1900, 330), "cldap": (389, 1_400)}
KINDS = {
    "udp-reflection": "udp-reflection",
    "udp-flood": "volumetric-flood",
    "syn-flood": "syn-flood",
    "icmp-flood": "icmp-flood",
    "fragment-flood": "fragment-flood",
    "port-scan": "port-scan",
    "host-sweep": "host-sweep",
    "brute-force": "brute-force",
}


@dataclass(frozen=True)
class Label:
    kind: str  # an attack type, a key of KINDS
    variant: str
    target: str  # victim address, or the swept network
    start: float
    end: float


# --- benign traffic -------------------------------------------------------------------------


def benign(rng: np.random.Generator, t0: float, span: float) -> Packets:
    """Web clients and servers, a busy server, DNS and NTP, pings, and bursts of downloads."""
    servers = np.array([ip(s) for s in SERVERS], np.uint32)
    clients = public_addresses(rng, 3_000)
    inside = np.array([ip(f"198.51.100.{i}") for i in range(100, 200)], np.uint32)
    parts = []
    # web: about 40 sessions/s over the servers, and one busy server with 150 more/s
    n = int(40 * span)
    parts.append(
        sessions(
            rng,
            t0 + rng.uniform(0, span, n),
            rng.choice(clients, n),
            rng.choice(servers, n),
            443,
            int(rng.integers(1, 4)),
        )
    )
    n = int(150 * span)
    parts.append(
        sessions(rng, t0 + rng.uniform(0, span, n), rng.choice(clients, n), servers[0], 443, 1)
    )
    # inside hosts browsing out: many sessions, answers from the world
    n = int(20 * span)
    parts.append(
        sessions(
            rng,
            t0 + rng.uniform(0, span, n),
            rng.choice(inside, n),
            rng.choice(clients, n),
            443,
            2,
        )
    )
    # inside admins on SSH: a few long sessions now and then
    n = int(span / 60)
    parts.append(
        sessions(rng, t0 + rng.uniform(0, span, n), rng.choice(clients, n), servers[3], 22, 30, 200)
    )
    # DNS: inside hosts ask the resolver; the resolver asks 400 authoritative servers
    resolver = servers[1]
    n = int(60 * span)
    parts.append(
        exchanges(rng, t0 + rng.uniform(0, span, n), rng.choice(inside, n), resolver, 53, 60, 120)
    )
    authorities = public_addresses(rng, 400)
    n = int(80 * span)
    parts.append(
        exchanges(
            rng, t0 + rng.uniform(0, span, n), resolver, rng.choice(authorities, n), 53, 70, 400
        )
    )
    # NTP: every inside host polls one of four public servers every 64 s
    n = int(len(inside) * span / 64)
    ntp = public_addresses(rng, 4)
    parts.append(
        exchanges(
            rng,
            t0 + rng.uniform(0, span, n),
            rng.choice(inside, n),
            rng.choice(ntp, n),
            123,
            76,
            76,
        )
    )
    # monitoring pings: ten probers, once a second each, to the servers
    n = int(10 * span)
    probers = public_addresses(rng, 10)
    when = t0 + rng.uniform(0, span, n)
    src, dst = rng.choice(probers, n), rng.choice(servers, n)
    parts.append(packets(when, src, dst, ICMP, 0, 8 << 8, 0, 84))
    parts.append(packets(when + 0.01, dst, src, ICMP, 0, 0, 0, 84))
    # bursts of large downloads: 2,000-6,000 packets/s of 1,500 bytes to one inside host
    for _ in range(max(1, int(span / 300))):
        at, length = t0 + rng.uniform(0, span - 30), rng.uniform(5, 25)
        rate = rng.uniform(2_000, 6_000)
        n = int(rate * length)
        when = np.sort(at + rng.uniform(0, length, n))
        host, cdn = rng.choice(inside), rng.choice(clients)
        parts.append(packets(when, cdn, host, TCP, 443, 50_000, ACK | PSH, 1_500))
        parts.append(packets(when[::2] + 0.001, host, cdn, TCP, 50_000, 443, ACK, 40))
    return Packets.join(parts)


# --- attacks --------------------------------------------------------------------------------


def steady(rng: np.random.Generator, t0: float, length: float, rate: float) -> NDArray[np.float64]:
    n = int(rate * length)
    return np.sort(t0 + rng.uniform(0, length, n))


def reflection(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    near = NEAR.get(variant)
    port, size = AMPLIFIER_PORTS["ntp" if near else variant]
    length = rng.uniform(8, 30)
    # above one of the two thresholds; near-threshold NTP: its 468-byte answers reach the
    # packet rate threshold first
    least = min(DEFAULTS.reflection_pps, DEFAULTS.reflection_bps / (size * 8))
    rate = (near or rng.uniform(1.3, 4)) * least
    when = steady(rng, t0, length, rate)
    reflectors = public_addresses(rng, int(rng.integers(30, 3_000)))
    src = rng.choice(reflectors, len(when))
    dport = rng.integers(1_024, 65_535, len(when))
    return packets(
        when, src, victim, UDP, port, dport, 0, size - rng.integers(0, 30, len(when))
    ), length


def udp_flood(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    length = rng.uniform(8, 25)
    near = NEAR.get(variant)
    rate = near * DEFAULTS.volumetric_pps if near else rng.uniform(25_000, 50_000)
    when = steady(rng, t0, length, rate)
    n = len(when)
    bots = public_addresses(rng, 1 if variant == "one-source" else int(rng.integers(20, 500)))
    random_ports = variant == "random-ports"
    sport = rng.integers(1_024, 65_535, n) if random_ports else 40_000
    dport = rng.integers(1, 65_535, n) if random_ports else 80
    size = 60 if random_ports or near else rng.integers(400, 1_400)
    return packets(when, rng.choice(bots, n), victim, UDP, sport, dport, 0, size), length


def syn_flood(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    length = rng.uniform(8, 30)
    near = NEAR.get(variant)
    rate = near * DEFAULTS.syn_flood_pps if near else rng.uniform(3_000, 12_000)
    when = steady(rng, t0, length, rate)
    n = len(when)
    src = public_addresses(rng, n)  # spoofed: a fresh source per packet
    port = 443 if variant == "tls" else 80
    return packets(when, src, victim, TCP, rng.integers(1_024, 65_535, n), port, SYN, 40), length


def icmp_flood(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    length = rng.uniform(8, 30)
    near = NEAR.get(variant)
    rate = near * DEFAULTS.icmp_flood_pps if near else rng.uniform(3_000, 10_000)
    when = steady(rng, t0, length, rate)
    n = len(when)
    bots = public_addresses(rng, int(rng.integers(1, 200)))
    size = 1_000 if variant == "large" else 84
    return packets(when, rng.choice(bots, n), victim, ICMP, 0, 8 << 8, 0, size), length


def fragment_flood(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    """UDP datagrams of 2,900 bytes, each in a 1,500-byte first fragment and a later one."""
    length = rng.uniform(8, 30)
    near = NEAR.get(variant)
    rate = near * DEFAULTS.fragment_pps if near else rng.uniform(3_000, 8_000)
    when = steady(rng, t0, length, rate)
    n = len(when)
    src = rng.choice(public_addresses(rng, int(rng.integers(1, 300))), n)
    sport, dport = rng.integers(1_024, 65_535, n), rng.integers(1, 65_535, n)
    first = packets(when, src, victim, UDP, sport, dport, 0, 1_500, 1)
    later = packets(when + 0.0001, src, victim, UDP, 0, 0, 0, 1_440, 2)
    return Packets.join([first, later]), length


def probes(
    rng: np.random.Generator,
    when: NDArray[np.float64],
    src: int,
    dst: NDArray[np.integer] | int,
    port: NDArray[np.integer] | int,
) -> Packets:
    """A SYN each, answered by a RST (closed port) from the target."""
    n = len(when)
    sport = rng.integers(40_000, 60_000, n)
    return Packets.join(
        [
            packets(when, src, dst, TCP, sport, port, SYN, 44),
            packets(when + 0.0005, dst, src, TCP, port, sport, RST | ACK, 40),
        ]
    )


def port_scan(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    ports = {"fast": 1_000, "slow": 300, "full": 5_000}[variant]
    length = {"fast": 10.0, "slow": 120.0, "full": 40.0}[variant]
    when = np.sort(t0 + rng.uniform(0, length, ports))
    port = rng.permutation(np.arange(1, 65_536))[:ports]
    return probes(rng, when, int(public_addresses(rng, 1)[0]), victim, port), length


def host_sweep(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    port = {"ssh": 22, "smb": 445, "rdp": 3389}[variant]
    hosts = int(rng.integers(120, 254))
    length = float(rng.uniform(5, 90))
    when = np.sort(t0 + rng.uniform(0, length, hosts))
    dst = (victim & 0xFFFFFF00) + 1 + rng.permutation(254)[:hosts]
    return probes(rng, when, int(public_addresses(rng, 1)[0]), dst, port), length


def brute_force(
    rng: np.random.Generator, t0: float, victim: int, variant: str
) -> tuple[Packets, float]:
    port = {"ssh": 22, "rdp": 3389}[variant]
    per_minute = rng.uniform(30, 120)
    length = float(rng.uniform(90, 140))
    n = int(per_minute * length / 60)
    begin = np.sort(t0 + rng.uniform(0, length, n))
    attacker = public_addresses(rng, 1)
    found = sessions(
        rng, begin, np.repeat(attacker, n), np.full(n, victim, np.uint32), port, 4, 200
    )
    return found, length


ATTACKS: dict[str, tuple[Callable[..., tuple[Packets, float]], list[str]]] = {
    "udp-reflection": (reflection, [*AMPLIFIER_PORTS, *NEAR]),
    "udp-flood": (udp_flood, ["one-source", "botnet", "random-ports", *NEAR]),
    "syn-flood": (syn_flood, ["web", "tls", "web", *NEAR]),
    "icmp-flood": (icmp_flood, ["small", "large", "small", *NEAR]),
    "fragment-flood": (fragment_flood, ["udp", "udp", *NEAR]),
    "port-scan": (port_scan, ["fast", "slow", "full"]),
    "host-sweep": (host_sweep, ["ssh", "smb", "rdp"]),
    "brute-force": (brute_force, ["ssh", "rdp", "ssh"]),
}


def attack_trace(rng: np.random.Generator) -> tuple[Packets, list[Label], float]:
    """Every instance in its own slot, in shuffled order, over benign background."""
    plan = [(kind, variant) for kind, (_, variants) in ATTACKS.items() for variant in variants]
    order = rng.permutation(len(plan))
    parts, labels = [], []
    victims = rng.choice(SERVERS[4:], len(plan))  # the busy server and resolver stay benign
    for slot, index in enumerate(order):
        kind, variant = plan[index]
        t0 = START + 30 + slot * SLOT_S + rng.uniform(0, 20)
        victim = ip(str(victims[slot]))
        made, length = ATTACKS[kind][0](rng, t0, victim, variant)
        parts.append(made)
        target = str(victims[slot])
        if kind == "host-sweep":
            target = str(ipaddress.ip_network(f"{target}/24", strict=False))
        labels.append(Label(kind, variant, target, t0, t0 + length))
    span = 30 + len(plan) * SLOT_S
    parts.append(benign(rng, START, span))
    return Packets.join(parts), labels, span


# --- scoring --------------------------------------------------------------------------------


def seconds(moment: datetime) -> float:
    return moment.timestamp()


def matches(d: Detection, label: Label) -> bool:
    if d.kind != KINDS[label.kind]:
        return False
    if d.target != label.target and not _inside(d.target, label.target):
        return False
    return seconds(d.start) <= label.end + SLACK_S and seconds(d.end) >= label.start


def _on(d: Detection, label: Label) -> bool:
    """The detection names this attack's victim (or the safe area holding it) and time,
    whatever kind it says."""
    same = d.target == label.target or _inside(d.target, label.target)
    if d.safe_area is not None and d.target == d.safe_area:
        same = any(_inside(p, label.target) for p in SAFE_AREAS.get(d.safe_area, []))
    return same and seconds(d.start) <= label.end + SLACK_S and seconds(d.end) >= label.start


def _inside(target: str, label_target: str) -> bool:
    try:
        return ipaddress.ip_network(target, strict=False).overlaps(
            ipaddress.ip_network(label_target, strict=False)
        )
    except ValueError:
        return False


def score(
    found: list[Detection],
    labels: list[Label],
    benign_found: list[Detection],
    benign_s: float = BENIGN_S,
) -> None:
    header = f"{'attack type':<15}{'inst':>5}{'det':>5}{'recall':>8}{'precision':>10}"
    header += f"{'on attack':>10}{'TTD med s':>10}{'TTD max s':>10}{'FP/day benign':>15}"
    print(header)
    for kind, detector_kind in KINDS.items():
        mine = [lab for lab in labels if lab.kind == kind]
        ttd, missed = [], []
        for lab in mine:
            hits = [d for d in found if matches(d, lab)]
            if hits:
                ttd.append(min(seconds(d.start) for d in hits) - lab.start)
            else:
                missed.append(lab.variant)
        of_kind = [d for d in found if d.kind == detector_kind]
        true = [d for d in of_kind if any(matches(d, lab) for lab in mine)]
        precision = f"{len(true) / len(of_kind):.2f}" if of_kind else "-"
        real = [d for d in of_kind if any(_on(d, lab) for lab in labels)]
        loose = f"{len(real) / len(of_kind):.2f}" if of_kind else "-"
        fp = sum(d.kind == detector_kind for d in benign_found) * 86_400 / benign_s
        med = f"{statistics.median(ttd):.1f}" if ttd else "-"
        worst = f"{max(ttd):.1f}" if ttd else "-"
        line = f"{kind:<15}{len(mine):>5}{len(ttd):>5}{len(ttd) / len(mine):>8.2f}{precision:>10}"
        print(
            line
            + f"{loose:>10}{med:>10}{worst:>10}{fp:>15.1f}"
            + (f"  missed: {missed}" if missed else "")
        )
    other = [d for d in found if d.kind not in KINDS.values()]
    total_fp = len(benign_found) * 86_400 / benign_s
    targets = len({d.target for d in benign_found})
    print(f"other kinds in the attack trace: {_count(other)}")
    print(
        f"benign-only trace: {len(benign_found)} detections in {benign_s / 60:.0f} min "
        f"= {total_fp:.1f}/day over {targets} targets {_count(benign_found)}"
    )
    days = benign_s / 86_400
    per_area = dict.fromkeys(SAFE_AREAS, 0)
    outside = 0
    for d in benign_found:
        if d.safe_area in per_area:
            per_area[d.safe_area] += 1
        else:
            outside += 1
    shown = ", ".join(f"{area} {n / days:.1f}" for area, n in per_area.items())
    bound = 3 / days  # "rule of three": 95% upper bound of a rate never seen in the trace
    print(
        f"false detections per safe area per day on benign traffic (target < 1): {shown}; "
        f"outside the safe areas {outside / days:.1f}/day (none seen in {benign_s / 60:.0f} min "
        f"bounds the rate below {bound:.0f}/day at 95%)"
    )
    cross = [(d, lab) for d in found for lab in labels if _on(d, lab) and not matches(d, lab)]
    print(
        f"detections of another type's attack: {_count([d for d, _ in cross])} on "
        f"{_types([lab for _, lab in cross])}"
    )
    for d, lab in cross[:12]:
        if d.kind != "rate-anomaly":
            print(f"  on {lab.kind} ({lab.variant}): {d.kind} {d.target} {d.start:%H:%M:%S}")
    false = [d for d in found if not any(_on(d, lab) for lab in labels)]
    for d in false[:8]:
        print(f"  on no attack: {d.kind} {d.target} {d.start:%H:%M:%S}-{d.end:%H:%M:%S}")


def _types(labels: list[Label]) -> dict[str, int]:
    out: dict[str, int] = {}
    for lab in labels:
        out[lab.kind] = out.get(lab.kind, 0) + 1
    return out


def _count(ds: list[Detection]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in ds:
        out[d.kind] = out.get(d.kind, 0) + 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-softflowd", action="store_true")
    parser.add_argument("--keep", type=Path, help="Write the pcaps here and keep them.")
    parser.add_argument("--benign-minutes", type=float, default=BENIGN_S / 60)
    parser.add_argument(
        "--benign-hours",
        type=int,
        default=48,
        help="Hours of the long benign run (benign_traffic.py), in hourly chunks; 0: none.",
    )
    parser.add_argument(
        "--long-softflowd",
        action="store_true",
        help="Take the long benign run through softflowd as well as through our pcap reader.",
    )
    parser.add_argument(
        "--no-attacks", action="store_true", help="Only the long benign run, no attack trace."
    )
    args = parser.parse_args()
    began = time.perf_counter()
    if not args.no_attacks:
        attack_part(args)
    if args.benign_hours > 0:
        routes = ("reader", "softflowd") if args.long_softflowd else ("reader",)
        long_run(args.seed, args.benign_hours, routes)
    print(f"\nbenchmark runtime {time.perf_counter() - began:.0f} s")


def attack_part(args: argparse.Namespace) -> None:
    """The labelled attack trace and the short benign-only trace, down both paths."""
    rng = np.random.default_rng(args.seed)
    began = time.perf_counter()
    attacks, labels, span = attack_trace(rng)
    benign_s = args.benign_minutes * 60
    quiet = benign(rng, START, benign_s)
    print(
        f"attack trace: {len(attacks.time):,} packets, {span / 60:.0f} min, {len(labels)} "
        f"attacks; benign trace: {len(quiet.time):,} packets, {benign_s / 60:.0f} min "
        f"({time.perf_counter() - began:.1f} s to build)"
    )
    folder = args.keep or Path(tempfile.mkdtemp(prefix="detection-eval-"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"attack": folder / "attack.pcap", "benign": folder / "benign.pcap"}
    write_pcap(paths["attack"], attacks)
    write_pcap(paths["benign"], quiet)
    routes: list[tuple[str, Callable[[Path], pa.Table]]] = [("pcap reader (metered)", via_reader)]
    if not args.no_softflowd and shutil.which("softflowd"):
        routes.append(("softflowd IPFIX export", via_softflowd))
    try:
        for name, route in routes:
            began = time.perf_counter()
            tables = {key: route(path) for key, path in paths.items()}
            now = START + span + 3_600
            # As `cyberpeace detect` runs: the default thresholds and a fresh baseline each.
            borders = protected()
            found = analyse(tables["attack"], borders, now=now, baselines=Baselines()).detections
            quiet_found = analyse(
                tables["benign"], borders, now=now, baselines=Baselines()
            ).detections
            print(
                f"\n== {name}: {tables['attack'].num_rows:,} + {tables['benign'].num_rows:,} "
                f"flows ({time.perf_counter() - began:.1f} s)"
            )
            score(found, labels, quiet_found, benign_s)
    finally:
        if args.keep is None:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
