"""exabgp.conf for the mission's mitigation speaker: its neighbours and our API process.

The generated file declares one ``process`` (``exabgp_bridge``, reached on a Unix socket) and
one ``neighbor`` block per upstream peer with the address families the mitigations need:
``ipv4 flow`` / ``ipv6 flow`` (FlowSpec, RFC 8955 / RFC 8956) and ``ipv4 unicast`` /
``ipv6 unicast`` (RTBH routes, RFC 7999). ``exabgp_environment`` gives the settings ExaBGP
must run with for the bridge to work (API acknowledgements on, no named-pipe CLI).
"""

from __future__ import annotations

import getpass
import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

FAMILIES = frozenset({"ipv4 flow", "ipv6 flow", "ipv4 unicast", "ipv6 unicast"})
DEFAULT_FAMILIES = ("ipv4 flow", "ipv6 flow", "ipv4 unicast")
PROCESS_NAME = "cyberpeace"
MAX_ASN = 4_294_967_295  # RFC 6793 four-octet AS numbers
UNSAFE = frozenset(" \t\n;{}[]\"'#")


class ConfigError(ValueError):
    """A neighbour or process setting ExaBGP could not use; the message names it."""


def _asn(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ASN:
        raise ConfigError(f"{what} {value!r} is not an AS number in 1..{MAX_ASN}")
    return value


def _address(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not an IP address") from None


@dataclass(frozen=True)
class Neighbor:
    """One BGP peer of the mitigation speaker (an upstream's route server or edge router)."""

    peer_address: str
    local_address: str
    local_as: int
    peer_as: int
    router_id: str
    port: int = 179
    families: tuple[str, ...] = DEFAULT_FAMILIES
    hold_time: int = 90

    def __post_init__(self) -> None:
        _address(self.peer_address, "peer address")
        _address(self.local_address, "local address")
        router_id = _address(self.router_id, "router id")
        if ipaddress.ip_address(router_id).version != 4:
            raise ConfigError(f"router id {router_id} must be an IPv4 address (RFC 6286)")
        _asn(self.local_as, "local-as")
        _asn(self.peer_as, "peer-as")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigError(f"port {self.port!r} is not an integer")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not in 1..65535")
        unknown = sorted(set(self.families) - FAMILIES)
        if unknown or not self.families:
            raise ConfigError(f"families {unknown or '()'} not among {sorted(FAMILIES)}")
        if self.hold_time != 0 and not 3 <= self.hold_time <= 65535:
            raise ConfigError(f"hold time {self.hold_time} is neither 0 nor in 3..65535 (RFC 4271)")

    def render(self, process: str) -> str:
        families = "".join(f"        {family};\n" for family in self.families)
        return (
            f"neighbor {self.peer_address} {{\n"
            f"    router-id {self.router_id};\n"
            f"    local-address {self.local_address};\n"
            f"    local-as {self.local_as};\n"
            f"    peer-as {self.peer_as};\n"
            f"    connect {self.port};\n"
            f"    hold-time {self.hold_time};\n"
            f"    family {{\n{families}    }}\n"
            f"    api {{\n        processes [ {process} ];\n    }}\n"
            "}\n"
        )


def bridge_command(socket_path: Path) -> tuple[str, ...]:
    """How ExaBGP starts our API process: this Python, the bridge module, its socket."""
    return (sys.executable, "-m", "cyberpeace.respond.exabgp_bridge", "--socket", str(socket_path))


@dataclass(frozen=True)
class ExaBgpConfig:
    """The whole exabgp.conf: the bridge process and the neighbours it may announce to."""

    socket_path: Path
    neighbors: Sequence[Neighbor]
    command: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.neighbors:
            raise ConfigError("at least one neighbor is needed")
        for word in self.run_command():
            bad = sorted(set(word) & UNSAFE)
            if bad:
                raise ConfigError(f"process argument {word!r} contains {bad}: not for exabgp.conf")

    def run_command(self) -> tuple[str, ...]:
        return self.command or bridge_command(self.socket_path)

    def render(self) -> str:
        process = (
            f"process {PROCESS_NAME} {{\n"
            f"    run {' '.join(self.run_command())};\n"
            "    encoder text;\n"
            "}\n"
        )
        return "\n".join([process, *(n.render(PROCESS_NAME) for n in self.neighbors)])

    def write(self, path: Path) -> Path:
        path.write_text(self.render(), encoding="utf-8")
        return path


def exabgp_environment(user: str | None = None) -> dict[str, str]:
    """ExaBGP settings the bridge relies on, as environment variables for ``exabgp server``.

    Acknowledgements on (each command answered ``done``/``error``), no named-pipe CLI, no
    daemonising, and the current user (ExaBGP otherwise drops to ``nobody``, which cannot
    reach the bridge's socket directory).
    """
    return {
        "exabgp.api.ack": "true",
        "exabgp.api.cli": "false",
        "exabgp.api.encoder": "text",
        "exabgp.daemon.daemonize": "false",
        "exabgp.daemon.drop": "false",
        "exabgp.daemon.user": user or getpass.getuser(),
        "exabgp.log.destination": "stdout",
    }
