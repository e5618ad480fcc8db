"""Response accuracy and speed: labelled attacks mixed with legitimate traffic, replayed as real
packets through the nftables path in network namespaces this script builds.

Topology: an "internet" namespace (sends for every source, their addresses spoofed, so one
sender can play thousands of hosts), a router namespace (the safe area's edge, where the
enforcer installs its nftables sets) and the victim (198.18.10.5, the demo mandate's hospital),
which counts what arrives per (source, source port) with a UDP socket.

Two scenarios, each: a detection of the attack is stored; ``respond`` plans and judges the
actions, ``reconcile`` applies the automatic ones; the time from the detection being handed to
``respond`` to the nft element being listable in the kernel is "detection to rule in force".
Then the labelled packets are replayed in random order (scapy, explicit Ether) and counted:

* flood: ATTACKERS sources (Borduria), of which SEEN_SHARE were in the detection, drop by
  source set; LEGIT flows from Calvinia and Arcadia;
* reflection: reflectors answering from UDP 53 and 123, dropped by the port rule; legitimate
  UDP from other ports, and TCP.

Printed: share of attack packets dropped (sources seen, and unseen ones), share of legitimate
flows blocked (a flow is blocked when none of its packets arrives), packets lost, and time to
rule in force. Needs root, nft and scapy.

    sudo python benchmarks/response_eval.py [--seed 1] [--attackers 400] [--legit 1500]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from cyberpeace.detect.detection import Detection, Source
from cyberpeace.mission import load_mandate
from cyberpeace.respond import NftablesEnforcer, NotifyEnforcer, PlanContext, reconcile, respond
from cyberpeace.respond.attack import Attack
from cyberpeace.respond.legitimate import packed
from cyberpeace.store import add_detection, open_store, sync_mandate

VICTIM, VICTIM_GW, OUT_GW = "198.18.10.5", "198.18.10.254", "100.64.0.254"
DEMO = Path(__file__).parent.parent / "src" / "cyberpeace" / "mission" / "examples" / "demo.yaml"
PACKETS_ATTACK, PACKETS_LEGIT, PORT = 12, 4, 9999

SENDER = """
import json, sys
from scapy.all import Ether, IP, UDP, TCP, Raw, sendp, conf
conf.verb = 0
spec = json.load(open(sys.argv[1]))
frames = []
for src, sport, proto in spec["packets"]:
    if proto == "udp":
        l4 = UDP(sport=sport, dport=spec["port"])
    else:
        l4 = TCP(sport=sport, dport=spec["port"], flags="A")
    ip = IP(src=src, dst=spec["victim"])
    frames.append(Ether(src=spec["mac"], dst=spec["gw_mac"]) / ip / l4 / Raw(b"x" * 32))
sendp(frames, iface=spec["iface"], inter=0.00005)
"""

RECEIVER = """
import json, socket, sys, collections
counts = collections.Counter()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
u.bind(("0.0.0.0", int(sys.argv[1])))
t = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
t.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
import select, struct, time
print("ready", flush=True)
idle = time.time() + float(sys.argv[2])
while time.time() < idle:
    r, _, _ = select.select([u, t], [], [], 0.2)
    for s in r:
        if s is u:
            _, (addr, port) = u.recvfrom(2048)
            counts[f"udp {addr} {port}"] += 1
        else:
            data = t.recv(2048)
            if data[9] == 6:
                ihl = (data[0] & 15) * 4
                src = socket.inet_ntoa(data[12:16])
                counts[f"tcp {src} {struct.unpack('!H', data[ihl:ihl + 2])[0]}"] += 1
        idle = time.time() + 1.5
print(json.dumps(counts))
"""


def sh(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Net:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:5]
        self.router, self.inet, self.victim = f"cpb{tag}r", f"cpb{tag}i", f"cpb{tag}v"
        self.links = [
            (self.inet, f"vb{tag}i", OUT_GW, "100.64.0.1/24"),
            (self.victim, f"vb{tag}v", VICTIM_GW, f"{VICTIM}/24"),
        ]

    def build(self) -> None:
        for ns in (self.router, self.inet, self.victim):
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for ns, name, gateway, address in self.links:
            sh("ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b")
            sh("ip", "link", "set", name + "a", "netns", ns)
            sh("ip", "link", "set", name + "b", "netns", self.router)
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", address, "dev", name + "a")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", name + "a", "up")
            sh("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", gateway)
            sh(
                "ip",
                "netns",
                "exec",
                self.router,
                "ip",
                "addr",
                "add",
                f"{gateway}/24",
                "dev",
                name + "b",
            )
            sh("ip", "netns", "exec", self.router, "ip", "link", "set", name + "b", "up")
        for ns in (self.router, self.victim):  # spoofed sources must not be dropped as martians
            for key in ("all", "default"):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0")
        for _, link, _, _ in self.links:
            for name, ns in ((link + "a", self.victim), (link + "b", self.router)):
                if ns == self.victim and link != self.links[1][1]:
                    continue
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.conf.{name}.rp_filter=0")

    def mac(self, ns: str, iface: str) -> str:
        return json.loads(sh("ip", "netns", "exec", ns, "ip", "-j", "link", "show", iface))[0][
            "address"
        ]

    def destroy(self) -> None:
        for ns in (self.router, self.inet, self.victim):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)

    def replay(self, packets: list[tuple[str, int, str]], work: Path) -> dict[str, int]:
        iface = self.links[0][1]
        spec = {
            "packets": packets,
            "port": PORT,
            "victim": VICTIM,
            "iface": iface + "a",
            "mac": self.mac(self.inet, iface + "a"),
            "gw_mac": self.mac(self.router, iface + "b"),
        }
        (work / "spec.json").write_text(json.dumps(spec))
        (work / "send.py").write_text(SENDER)
        (work / "recv.py").write_text(RECEIVER)
        receiver = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.victim,
                sys.executable,
                str(work / "recv.py"),
                str(PORT),
                "90",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert receiver.stdout is not None
        receiver.stdout.readline()
        sh(
            "ip",
            "netns",
            "exec",
            self.inet,
            sys.executable,
            str(work / "send.py"),
            str(work / "spec.json"),
        )
        out, _ = receiver.communicate(timeout=120)
        return {k: int(v) for k, v in json.loads(out.strip().splitlines()[-1]).items()}


def _detection(kind: str, sources: list[tuple[str, int]], details: dict[str, object]) -> Detection:
    now = datetime.now(UTC)
    return Detection(
        detector=kind,
        kind=kind,
        target=VICTIM,
        party="arcadia",
        safe_area="arcadia-central-hospital",
        start=now,
        end=now,
        severity="critical",
        confidence=0.9,
        magnitude={"peak_pps": 1e5, "peak_bps": 2e9, "packets": 1e6, "bytes": 6e8},
        sources=[
            Source(
                address=a,
                share=1 / len(sources),
                packets=10,
                bytes=600,
                party="borduria",
                port=p or None,
            )
            for a, p in sources
        ],
        explanation={
            "rules": [{"metric": "pps", "threshold": 1e4, "peak": 1e5}],
            "details": details,
        },
    )


def scenario(name: str, net: Net, args: argparse.Namespace, rng: random.Random, work: Path) -> None:
    attackers = sorted(
        {f"198.19.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(args.attackers)}
    )
    seen = set(rng.sample(attackers, int(len(attackers) * args.seen_share)))
    legit_pool = [f"203.0.113.{i}" for i in range(1, 255)] + [f"192.0.2.{i}" for i in range(1, 255)]
    legit_pool += [f"198.18.{rng.randrange(30, 250)}.{rng.randrange(1, 255)}" for _ in range(600)]
    flows = {
        (rng.choice(legit_pool), rng.randrange(1024, 65535), rng.choice(["udp", "tcp"]))
        for _ in range(args.legit)
    }
    if name == "flood":
        attack = [(a, 4444, "udp") for a in attackers for _ in range(PACKETS_ATTACK)]
        detection = _detection("volumetric-flood", [(a, 0) for a in sorted(seen)], {})
    else:
        ports = {a: rng.choice([53, 123]) for a in attackers}
        attack = [(a, ports[a], "udp") for a in attackers for _ in range(PACKETS_ATTACK)]
        mix = {"53": {"share": 0.6}, "123": {"share": 0.4}}
        detection = _detection(
            "udp-reflection", [(a, ports[a]) for a in sorted(seen)][:50], {"amplifiers": mix}
        )
        seen = set(attackers)  # a port rule catches every reflector, seen or not
    legit = [(s, p, proto) for s, p, proto in flows for _ in range(PACKETS_LEGIT)]
    packets = attack + legit
    rng.shuffle(packets)

    store = open_store(f"sqlite:///{work / (name + '.db')}")
    mandate = load_mandate(DEMO)
    with store.session() as session:
        sync_mandate(session, mandate)
    edge = NftablesEnforcer(netns=net.router, table=f"cp{name}")
    enforcers = {"nftables": edge, "notify": NotifyEnforcer(store)}
    before = _baseline(flows)
    started = time.perf_counter()
    with store.session() as session:
        row = add_detection(session, detection)
        context = PlanContext.of(mandate, datetime.now(UTC))
        respond(session, [Attack.from_detection(row)], context, baseline=before)
    done = reconcile(store, enforcers, datetime.now(UTC))
    set_name = "src_dst4" if name == "flood" else "reflect4"
    elements = edge.elements(set_name)
    in_force = time.perf_counter() - started
    if not (done.applied and elements):
        raise RuntimeError(f"{name}: nothing applied ({done})")
    received = net.replay(packets, work)
    for table in (f"cp{name}",):
        subprocess.run(
            ["ip", "netns", "exec", net.router, "nft", "delete", "table", "inet", table],
            capture_output=True,
            check=False,
        )
    store.close()
    _report(name, attackers, seen, attack, flows, received, in_force, len(elements))


def _baseline(flows: set[tuple[str, int, str]]) -> pa.Table:
    """The legitimate flows as the hour before the attack would have shown them."""
    rows = sorted(flows)
    return pa.table(
        {
            "dst_addr": pa.array([packed(VICTIM)] * len(rows), pa.binary(16)),
            "src_addr": pa.array([packed(s) for s, _, _ in rows], pa.binary(16)),
            "protocol": pa.array([17 if p == "udp" else 6 for _, _, p in rows], pa.uint8()),
            "src_port": pa.array([port for _, port, _ in rows], pa.uint16()),
            "bytes": pa.array([PACKETS_LEGIT * 74] * len(rows), pa.uint64()),
            "packets": pa.array([PACKETS_LEGIT] * len(rows), pa.uint64()),
        }
    )


def _report(
    name: str,
    attackers: list[str],
    seen: set[str],
    attack: list[tuple[str, int, str]],
    flows: set[tuple[str, int, str]],
    received: dict[str, int],
    in_force: float,
    elements: int,
) -> None:
    got_from: dict[str, int] = {}
    for key, count in received.items():
        proto, src, _ = key.split()
        if proto == "udp" and src.startswith("198.19."):
            got_from[src] = got_from.get(src, 0) + count
    seen_sent = sum(1 for a, _, _ in attack if a in seen)
    unseen_sent = len(attack) - seen_sent
    seen_got = sum(v for a, v in got_from.items() if a in seen)
    unseen_got = sum(v for a, v in got_from.items() if a not in seen)
    blocked = sum(1 for s, p, proto in flows if received.get(f"{proto} {s} {p}", 0) == 0)
    lost = sum(
        PACKETS_LEGIT - min(PACKETS_LEGIT, received.get(f"{proto} {s} {p}", 0))
        for s, p, proto in flows
    )
    print(
        f"== {name}: {len(attackers)} attack sources ({len(seen)} seen), "
        f"{len(flows)} legitimate flows"
    )
    print(
        f"   attack packets dropped, sources seen:   {1 - seen_got / max(1, seen_sent):.2%} "
        f"of {seen_sent} (target >= 99%)"
    )
    if unseen_sent:
        print(
            f"   attack packets dropped, sources unseen: {1 - unseen_got / unseen_sent:.2%} "
            f"of {unseen_sent} (not in the detection: they pass, by design)"
        )
    print(
        f"   legitimate flows blocked:               {blocked / len(flows):.3%} "
        f"({blocked} of {len(flows)}; target < 0.1%)"
    )
    print(f"   legitimate packets lost:                {lost / (len(flows) * PACKETS_LEGIT):.3%}")
    print(
        f"   detection to rule in force:             {in_force * 1000:.0f} ms "
        f"({elements} set elements)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--attackers", type=int, default=400)
    parser.add_argument("--legit", type=int, default=1500)
    parser.add_argument("--seen-share", type=float, default=0.9)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    net = Net()
    try:
        net.build()
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("flood", "reflection"):
                scenario(name, net, args, rng, Path(tmp))
    finally:
        net.destroy()


if __name__ == "__main__":
    main()
