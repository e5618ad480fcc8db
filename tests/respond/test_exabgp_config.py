"""exabgp.conf generation, checked by ExaBGP's own ``exabgp validate``; the bridge's refusals."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cyberpeace.respond.enforcers.exabgp import (
    EnforcerUnavailable,
    ExaBgpEnforcer,
    parse_sessions,
)
from cyberpeace.respond.exabgp_config import ConfigError, ExaBgpConfig, Neighbor
from cyberpeace.respond.exabgp_speaker import exabgp_program


def neighbor(**changes: object) -> Neighbor:
    fields: dict[str, object] = {
        "peer_address": "192.0.2.1",
        "local_address": "192.0.2.2",
        "local_as": 64512,
        "peer_as": 64500,
        "router_id": "192.0.2.2",
    }
    fields.update(changes)
    return Neighbor(**fields)  # type: ignore[arg-type]


def test_generated_config_passes_exabgp_validate(tmp_path: Path) -> None:
    config = ExaBgpConfig(
        socket_path=tmp_path / "exabgp.sock",
        neighbors=[neighbor(), neighbor(peer_address="2001:db8::1", local_address="2001:db8::2")],
    )
    text = config.render()
    assert "    family {\n        ipv4 flow;\n        ipv6 flow;\n        ipv4 unicast;\n" in text
    assert "processes [ cyberpeace ];" in text
    assert f"--socket {tmp_path / 'exabgp.sock'};" in text
    path = config.write(tmp_path / "exabgp.conf")
    done = subprocess.run(
        [exabgp_program(), "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_config_fails_exabgp_validate(tmp_path: Path) -> None:
    """The validate test above can fail: ExaBGP refuses a neighbour with a bad family."""
    config = ExaBgpConfig(tmp_path / "s", [neighbor()])
    path = tmp_path / "bad.conf"
    path.write_text(config.render().replace("ipv4 flow;", "ipv4 flwo;"), encoding="utf-8")
    done = subprocess.run(
        [exabgp_program(), "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"peer_address": "192.0.2.300"}, "peer address"),
        ({"local_as": 0}, "local-as 0"),
        ({"peer_as": 2**32}, "peer-as"),
        ({"router_id": "2001:db8::1"}, "must be an IPv4 address"),
        ({"port": 70000}, "port 70000"),
        ({"families": ("ipv4 flow", "l2vpn vpls")}, "l2vpn vpls"),
        ({"families": ()}, "families"),
        ({"hold_time": 2}, "hold time 2"),
    ],
)
def test_bad_neighbour_settings_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        neighbor(**changes)


def test_config_refuses_paths_that_break_its_syntax(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not for exabgp\.conf"):
        ExaBgpConfig(tmp_path / "a b;c.sock", [neighbor()])
    with pytest.raises(ConfigError, match="at least one neighbor"):
        ExaBgpConfig(tmp_path / "s", [])


def test_session_list_that_is_not_json_is_an_unavailable_error() -> None:
    with pytest.raises(EnforcerUnavailable, match="not JSON"):
        parse_sessions("[{truncated")
    assert (
        parse_sessions('[{"fsm": "ACTIVE", "peer": {"address": "192.0.2.1"}}]')[0].fsm == "ACTIVE"
    )


def test_bridge_without_exabgp_answer_is_reported(tmp_path: Path) -> None:
    """A bridge whose stdin never answers: the enforcer raises, records nothing.

    The bridge runs for real; only ExaBGP is replaced, by a pipe that never writes back.
    """
    sock = tmp_path / "bridge.sock"
    bridge = subprocess.Popen(
        [sys.executable, "-m", "cyberpeace.respond.exabgp_bridge", "--socket", str(sock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.02)
        enforcer = ExaBgpEnforcer(sock, timeout=0.5, require_session=False)
        with pytest.raises(EnforcerUnavailable, match="no answer"):
            enforcer.sessions()
        assert enforcer.announced() == []
    finally:
        assert bridge.stdin is not None
        bridge.stdin.close()  # ExaBGP "exits": the bridge must go and remove its socket
        bridge.wait(15)
        if bridge.stdout is not None:
            bridge.stdout.close()
    assert not sock.exists()
    with socket.socket(socket.AF_UNIX) as probe, pytest.raises(FileNotFoundError):
        probe.connect(str(sock))
