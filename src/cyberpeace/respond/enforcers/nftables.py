"""The nftables enforcer: named sets with per-element timeouts, fed through ``nft -j``.

One table (``inet cyberpeace`` by default) holds one base chain on the configured hook
(``forward`` at a router on the safe area's edge, ``input`` on the host) and these sets, each
matched by one rule that counts and drops:

* ``src_dst4`` / ``src_dst6``: ``saddr . daddr`` with intervals, so a source prefix is dropped
  towards the victim only (edge-filter of sources);
* ``reflect4`` / ``reflect6``: ``daddr . udp sport`` (edge-filter of a reflection).

Each element carries a timeout equal to the action's remaining time, so it lapses in the kernel
even if the hub is gone. Rate limits are rules of their own, named by a comment. Every change is
one JSON batch (libnftables JSON, ``nft -j -f -``), which the kernel applies atomically: either
all of it or none. Apply and remove are idempotent (an element is added, then deleted and added
again with its new timeout, within one batch; removal adds then deletes).
"""

from __future__ import annotations

import ipaddress
import json
import math
import subprocess
from datetime import UTC, datetime
from typing import Any

from cyberpeace.respond.action import Action, Applied
from cyberpeace.respond.registry import EnforcerConfig, register

Json = dict[str, Any]


class NftError(RuntimeError):
    """nft refused a batch or could not run."""


@register
class NftablesEnforcer:
    name = "nftables"
    kinds = frozenset({"edge-filter", "edge-rate-limit"})

    def __init__(
        self,
        table: str = "cyberpeace",
        chain: str = "mitigate",
        hook: str = "forward",
        netns: str | None = None,
        command: str = "nft",
        timeout_s: float = 10.0,
    ) -> None:
        self.table, self.chain, self.hook = table, chain, hook
        self.netns, self.command, self.timeout_s = netns, command, timeout_s

    @classmethod
    def from_config(cls, config: EnforcerConfig) -> NftablesEnforcer:
        return cls(
            config.nft_table,
            config.nft_chain,
            config.nft_hook,
            config.nft_netns,
            config.nft_command,
        )

    # -- the operations -------------------------------------------------------------------

    def apply(self, action: Action) -> Applied:
        batch = self._skeleton()
        if action.kind == "edge-rate-limit":
            if not self._has_rule(_comment(action)):
                batch.append({"add": {"rule": self._rate_rule(action)}})
            detail: Json = {"rule": _comment(action)}
        else:
            timeout = max(1, math.ceil(action.remaining(datetime.now(UTC)).total_seconds()))
            elements = self._elements(action)
            for set_name, values in elements.items():
                stale = self._inside_new_prefixes(set_name, values)
                if stale:  # a renewal folded them into a prefix: overlapping intervals clash
                    batch.append({"delete": {"element": self._set_ref(set_name, stale)}})
                with_timeout = [{"elem": {"val": v, "timeout": timeout}} for v in values]
                batch.append({"add": {"element": self._set_ref(set_name, with_timeout)}})
                batch.append({"delete": {"element": self._set_ref(set_name, values)}})
                batch.append({"add": {"element": self._set_ref(set_name, with_timeout)}})
            detail = {
                "table": f"inet {self.table}",
                "sets": {k: len(v) for k, v in elements.items()},
                "timeout_s": timeout,
            }
        self.run(batch)
        return Applied(self.name, detail | ({"netns": self.netns} if self.netns else {}))

    def remove(self, action: Action) -> None:
        if not self._table_exists():
            return
        batch: list[Json] = []
        if action.kind == "edge-rate-limit":
            for handle in self._rule_handles(_comment(action)):
                batch.append(
                    {
                        "delete": {
                            "rule": {
                                "family": "inet",
                                "table": self.table,
                                "chain": self.chain,
                                "handle": handle,
                            }
                        }
                    }
                )
        else:
            batch = self._skeleton()
            for set_name, values in self._elements(action).items():
                batch.append({"add": {"element": self._set_ref(set_name, values)}})
                batch.append({"delete": {"element": self._set_ref(set_name, values)}})
        if batch:
            self.run(batch)

    def counters(self) -> dict[str, int]:
        """Packets each of the table's rules has dropped, by rule comment."""
        found: dict[str, int] = {}
        for item in self._list(["list", "chain", "inet", self.table, self.chain]):
            rule = item.get("rule")
            if rule:
                packets = next((e["counter"]["packets"] for e in rule["expr"] if "counter" in e), 0)
                found[rule.get("comment", str(rule["handle"]))] = int(packets)
        return found

    def elements(self, set_name: str) -> list[Any]:
        for item in self._list(["list", "set", "inet", self.table, set_name]):
            if "set" in item:
                return list(item["set"].get("elem", []))
        return []

    # -- building the batch ---------------------------------------------------------------

    def _skeleton(self) -> list[Json]:
        """Table, chain, sets and their rules; ``add`` of what exists already is a no-op."""
        t = {"family": "inet", "table": self.table}
        batch: list[Json] = [
            {"add": {"table": {"family": "inet", "name": self.table}}},
            {
                "add": {
                    "chain": {
                        **t,
                        "name": self.chain,
                        "type": "filter",
                        "hook": self.hook,
                        "prio": -10,
                        "policy": "accept",
                    }
                }
            },
        ]
        sets = {
            "src_dst4": (["ipv4_addr", "ipv4_addr"], ["interval", "timeout"]),
            "src_dst6": (["ipv6_addr", "ipv6_addr"], ["interval", "timeout"]),
            "reflect4": (["ipv4_addr", "inet_service"], ["timeout"]),
            "reflect6": (["ipv6_addr", "inet_service"], ["timeout"]),
        }
        for name, (kind, flags) in sets.items():
            batch.append({"add": {"set": {**t, "name": name, "type": kind, "flags": flags}}})
        present = self._comments()
        for name in sets:
            if f"cyberpeace:{name}" not in present:
                batch.append({"add": {"rule": self._set_rule(name)}})
        return batch

    def _set_rule(self, name: str) -> Json:
        family = "ip" if name.endswith("4") else "ip6"
        if name.startswith("src_dst"):
            key: Json = {"concat": [_payload(family, "saddr"), _payload(family, "daddr")]}
            head: list[Json] = []
        else:
            key = {"concat": [_payload(family, "daddr"), _payload("udp", "sport")]}
            head = [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}}]
        expr = [
            *head,
            {"match": {"op": "==", "left": key, "right": f"@{name}"}},
            {"counter": None},
            {"drop": None},
        ]
        return {
            "family": "inet",
            "table": self.table,
            "chain": self.chain,
            "comment": f"cyberpeace:{name}",
            "expr": expr,
        }

    def _rate_rule(self, action: Action) -> Json:
        p = action.parameters
        destination = ipaddress.ip_address(p["destination"])
        family = "ip" if destination.version == 4 else "ip6"
        expr: list[Json] = [
            {"match": {"op": "==", "left": _payload(family, "daddr"), "right": str(destination)}}
        ]
        protocol = p.get("protocol")
        if protocol:
            expr.append(
                {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": protocol}}
            )
        if p.get("source_ports") and protocol in ("udp", "tcp"):
            expr.append(
                {
                    "match": {
                        "op": "==",
                        "left": _payload(protocol, "sport"),
                        "right": {"set": [int(x) for x in p["source_ports"]]},
                    }
                }
            )
        if p.get("tcp_flags"):
            expr.append(
                {
                    "match": {
                        "op": "==",
                        "left": {
                            "&": [_payload("tcp", "flags"), {"|": ["syn", "ack", "rst", "fin"]}]
                        },
                        "right": "syn",
                    }
                }
            )
        expr += [
            {"limit": {"rate": int(p["rate_pps"]), "per": "second", "inv": True}},
            {"counter": None},
            {"drop": None},
        ]
        return {
            "family": "inet",
            "table": self.table,
            "chain": self.chain,
            "comment": _comment(action),
            "expr": expr,
        }

    def _elements(self, action: Action) -> dict[str, list[Any]]:
        p = action.parameters
        destination = ipaddress.ip_address(p["destination"])
        v = destination.version
        if p.get("match") == "reflection":
            return {
                f"reflect{v}": [
                    {"concat": [str(destination), int(port)]} for port in p["source_ports"]
                ]
            }
        values = []
        for source in p["sources"]:
            net = ipaddress.ip_network(source, strict=False)
            if net.version != v:
                continue
            left: Any = (
                str(net.network_address)
                if net.num_addresses == 1
                else {"prefix": {"addr": str(net.network_address), "len": net.prefixlen}}
            )
            values.append({"concat": [left, str(destination)]})
        return {f"src_dst{v}": values} if values else {}

    def _inside_new_prefixes(self, set_name: str, values: list[Any]) -> list[Any]:
        """Elements in force whose source lies strictly inside a source prefix of ``values``
        towards the same destination (one lookup per prefix length, not per pair)."""
        if not set_name.startswith("src_dst"):
            return []
        wanted = {_source_net(v["concat"][0]): v["concat"][1] for v in values}
        prefixes = {n for n in wanted if n.num_addresses > 1}
        if not prefixes:
            return []
        lengths = sorted({n.prefixlen for n in prefixes})
        stale = []
        for item in self.elements(set_name):
            val = item["elem"]["val"] if isinstance(item, dict) and "elem" in item else item
            if not isinstance(val, dict) or "concat" not in val:
                continue
            left, destination = val["concat"]
            net = _source_net(left)
            for length in lengths:
                if length >= net.prefixlen:
                    break
                holder = net.supernet(new_prefix=length)
                if holder in prefixes and wanted[holder] == destination:
                    stale.append(val)
                    break
        return stale

    def _set_ref(self, name: str, elements: list[Any]) -> Json:
        return {"family": "inet", "table": self.table, "name": name, "elem": elements}

    # -- talking to nft -------------------------------------------------------------------

    def _prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def run(self, batch: list[Json]) -> None:
        """One atomic batch through ``nft -j -f -``."""
        text = json.dumps({"nftables": batch})
        try:
            done = subprocess.run(
                [*self._prefix(), self.command, "-j", "-f", "-"],
                input=text,
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NftError(f"could not run nft: {exc}") from exc
        if done.returncode != 0:
            raise NftError(f"nft refused the batch: {done.stderr.strip()[:500]}")

    def _list(self, what: list[str]) -> list[Json]:
        try:
            done = subprocess.run(
                [*self._prefix(), self.command, "-j", *what],
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NftError(f"could not run nft: {exc}") from exc
        if done.returncode != 0:
            if "No such file or directory" in done.stderr:
                return []
            raise NftError(f"nft could not list {' '.join(what)}: {done.stderr.strip()[:500]}")
        return list(json.loads(done.stdout).get("nftables", []))

    def _table_exists(self) -> bool:
        return bool(self._list(["list", "table", "inet", self.table]))

    def _comments(self) -> set[str]:
        rules = self._list(["list", "chain", "inet", self.table, self.chain])
        return {str(i["rule"].get("comment", "")) for i in rules if "rule" in i}

    def _has_rule(self, comment: str) -> bool:
        return comment in self._comments()

    def _rule_handles(self, comment: str) -> list[int]:
        rules = self._list(["list", "chain", "inet", self.table, self.chain])
        return [
            int(i["rule"]["handle"])
            for i in rules
            if "rule" in i and i["rule"].get("comment") == comment
        ]


def _source_net(left: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The source of a ``saddr . daddr`` element as nft lists it: an address or a prefix."""
    if isinstance(left, dict) and "prefix" in left:
        return ipaddress.ip_network(f"{left['prefix']['addr']}/{left['prefix']['len']}")
    return ipaddress.ip_network(str(left))


def _payload(protocol: str, field: str) -> Json:
    return {"payload": {"protocol": protocol, "field": field}}


def _comment(action: Action) -> str:
    return f"cyberpeace:action:{action.id}"
