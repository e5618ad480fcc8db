"""A real gobgpd (Debian package gobgpd) on loopback, as the upstream our ExaBGP peers with.

gobgpd listens passively on 127.0.0.2 at a free port; ExaBGP connects from 127.0.0.3. The
RIB is read with the ``gobgp`` CLI in JSON (``gobgp global rib -a ipv4-flowspec -j``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cyberpeace.respond.exabgp_config import ExaBgpConfig, Neighbor
from cyberpeace.respond.exabgp_speaker import ExaBgpSpeaker

PEER_ADDRESS = "127.0.0.2"
SPEAKER_ADDRESS = "127.0.0.3"
PEER_AS = 64512
SPEAKER_AS = 64513
FAMILIES = ("ipv4-flowspec", "ipv6-flowspec", "ipv4-unicast", "ipv6-unicast")

T = TypeVar("T")


def gobgp_installed() -> bool:
    return shutil.which("gobgpd") is not None and shutil.which("gobgp") is not None


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], T], timeout: float = 15.0, every: float = 0.02) -> T:
    """Poll ``check`` until it returns something truthy; its last value otherwise fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {timeout} s"
            return value
        time.sleep(every)


@dataclass
class GoBgpPeer:
    directory: Path
    bgp_port: int
    api_port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = self.directory / "gobgpd.toml"
        conf.write_text(self._config(), encoding="utf-8")
        log = (self.directory / "gobgpd.log").open("ab")
        self.process = subprocess.Popen(
            ["gobgpd", "-f", str(conf), "-p", "--api-hosts", f"127.0.0.1:{self.api_port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self._api_answers)

    def _config(self) -> str:
        safis = "".join(
            f"  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n"
            f'      afi-safi-name = "{family}"\n'
            for family in FAMILIES
        )
        return (
            "[global.config]\n"
            f"  as = {PEER_AS}\n"
            f'  router-id = "{PEER_ADDRESS}"\n'
            f"  port = {self.bgp_port}\n"
            f'  local-address-list = ["{PEER_ADDRESS}"]\n\n'
            "[[neighbors]]\n"
            "  [neighbors.config]\n"
            f'    neighbor-address = "{SPEAKER_ADDRESS}"\n'
            f"    peer-as = {SPEAKER_AS}\n"
            "  [neighbors.transport.config]\n"
            "    passive-mode = true\n"
            f'    local-address = "{PEER_ADDRESS}"\n' + safis
        )

    def _api_answers(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, "gobgpd exited"
        done = self._gobgp("neighbor", check=False)
        return done.returncode == 0

    def _gobgp(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["gobgp", "-u", "127.0.0.1", "-p", str(self.api_port), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=10,
        )

    def rib(self, family: str) -> dict[str, list[dict[str, Any]]]:
        """gobgpd's global RIB for ``family`` (``ipv4-flowspec``, ``ipv4`` ...), as JSON."""
        out = self._gobgp("global", "rib", "-a", family, "-j").stdout.strip()
        if not out or out == "null":
            return {}
        data = json.loads(out)
        assert isinstance(data, dict)
        return data

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def speaker_config(directory: Path, bgp_port: int) -> ExaBgpConfig:
    return ExaBgpConfig(
        socket_path=directory / "exabgp.sock",
        neighbors=[
            Neighbor(
                peer_address=PEER_ADDRESS,
                local_address=SPEAKER_ADDRESS,
                local_as=SPEAKER_AS,
                peer_as=PEER_AS,
                router_id=SPEAKER_ADDRESS,
                port=bgp_port,
                families=("ipv4 flow", "ipv6 flow", "ipv4 unicast", "ipv6 unicast"),
            )
        ],
    )


@contextlib.contextmanager
def bgp_lab(directory: Path) -> Any:
    """gobgpd and ExaBGP peering on loopback; yields (peer, speaker); stops both after."""
    port = free_port(PEER_ADDRESS)
    peer = GoBgpPeer(directory, port, free_port("127.0.0.1"))
    speaker = ExaBgpSpeaker(speaker_config(directory, port), directory)
    try:
        peer.start()
        speaker.start()
        yield peer, speaker
    finally:
        speaker.stop()
        peer.stop()


def flow_components(path: dict[str, Any]) -> dict[int, Any]:
    """A gobgp flowspec path's NLRI components by RFC 8955 type number."""
    return {c["type"]: c["value"] for c in path["nlri"]["value"]}


def attribute(path: dict[str, Any], type_code: int) -> dict[str, Any]:
    for attr in path["attrs"]:
        if attr["type"] == type_code:
            assert isinstance(attr, dict)
            return attr
    raise AssertionError(f"path has no attribute type {type_code}: {path['attrs']}")
