"""A small network the tests build in Linux network namespaces: an attacker, a legitimate
client and a victim, each joined by a veth pair to a router namespace, the safe area's edge."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass

import pytest

ATTACKER, ATTACKER_2, LEGIT, VICTIM = "198.19.77.1", "198.19.77.2", "203.0.113.10", "198.18.10.5"
LINKS = {  # namespace role -> (its address, the router's address on that link, prefix length)
    "attacker": (ATTACKER, "198.19.77.254", 24),
    "legit": (LEGIT, "203.0.113.254", 24),
    "victim": (VICTIM, "198.18.10.254", 24),
}


def sh(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def need_tools() -> None:
    if shutil.which("nft") is None:
        pytest.skip("nft (nftables) not installed")
    if shutil.which("hping3") is None:
        pytest.skip("hping3 not installed")
    probe = f"cpprobe{uuid.uuid4().hex[:6]}"
    try:
        sh("ip", "netns", "add", probe)
    except (RuntimeError, FileNotFoundError) as exc:
        pytest.skip(f"cannot create network namespaces here (needs root): {exc}")
    sh("ip", "netns", "del", probe)


@dataclass
class Network:
    tag: str

    def ns(self, role: str) -> str:
        return f"cp{self.tag}{role[:3]}"

    def run(self, role: str, *args: str) -> str:
        return sh("ip", "netns", "exec", self.ns(role), *args)

    def build(self) -> None:
        router = self.ns("router")
        sh("ip", "netns", "add", router)
        self.run("router", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for index, (role, (address, gateway, length)) in enumerate(LINKS.items()):
            ns = self.ns(role)
            sh("ip", "netns", "add", ns)
            inside, outside = f"v{self.tag}{index}a", f"v{self.tag}{index}b"
            sh("ip", "link", "add", inside, "type", "veth", "peer", "name", outside)
            sh("ip", "link", "set", inside, "netns", ns)
            sh("ip", "link", "set", outside, "netns", router)
            self.run(role, "ip", "addr", "add", f"{address}/{length}", "dev", inside)
            self.run(role, "ip", "link", "set", inside, "up")
            self.run(role, "ip", "link", "set", "lo", "up")
            self.run(role, "ip", "route", "add", "default", "via", gateway)
            self.run("router", "ip", "addr", "add", f"{gateway}/{length}", "dev", outside)
            self.run("router", "ip", "link", "set", outside, "up")
        self.run("attacker", "ip", "addr", "add", f"{ATTACKER_2}/24", "dev", "v" + self.tag + "0a")
        # The victim counts what reaches it, per source, in its own table.
        rules = "\n".join(
            f"add rule inet count input ip saddr {a} counter" for a in (ATTACKER, ATTACKER_2, LEGIT)
        )
        script = (
            "add table inet count\n"
            "add chain inet count input { type filter hook input priority 0; policy accept; }\n"
            f"{rules}\n"
        )
        subprocess.run(
            ["ip", "netns", "exec", self.ns("victim"), "nft", "-f", "-"],
            input=script,
            text=True,
            check=True,
        )

    def destroy(self) -> None:
        for role in (*LINKS, "router"):
            subprocess.run(["ip", "netns", "del", self.ns(role)], capture_output=True, check=False)

    def send_udp(self, role: str, count: int, *, sport: int, source: str | None = None) -> None:
        """``count`` UDP packets to the victim from a fixed source port (hping3, 1 ms apart)."""
        spoof = ["-a", source] if source else []
        # hping3 exits 1 when nothing answers, which is what a drop looks like: read its report.
        done = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.ns(role),
                "hping3",
                "--udp",
                "-q",
                "-s",
                str(sport),
                "-k",
                "-p",
                "9999",
                "-c",
                str(count),
                "-i",
                "u1000",
                *spoof,
                VICTIM,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        report = done.stdout + done.stderr
        if f"{count} packets transmitted" not in report:
            raise RuntimeError(f"hping3 did not send {count} packets: {report.strip()}")

    def received(self) -> dict[str, int]:
        """Packets the victim received, by source address."""
        import json

        listing = json.loads(
            self.run("victim", "nft", "-j", "list", "chain", "inet", "count", "input")
        )
        found = {}
        for item in listing["nftables"]:
            rule = item.get("rule")
            if not rule:
                continue
            source = next(e["match"]["right"] for e in rule["expr"] if "match" in e)
            found[source] = next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
        return found
