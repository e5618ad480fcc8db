"""Run ExaBGP as the mission's mitigation speaker, with our generated exabgp.conf and bridge."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from cyberpeace.respond.exabgp_config import ExaBgpConfig, exabgp_environment


class SpeakerError(RuntimeError):
    """ExaBGP would not start, or its API process never came up."""


def exabgp_program() -> str:
    """The ``exabgp`` next to this Python (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("exabgp")
    if beside.exists():
        return str(beside)
    found = shutil.which("exabgp")
    if found is None:
        raise SpeakerError("exabgp is not installed (pip install exabgp)")
    return found


class ExaBgpSpeaker:
    """An ``exabgp server`` process for one ``ExaBgpConfig``, started and stopped by us."""

    def __init__(self, config: ExaBgpConfig, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.conf_path = directory / "exabgp.conf"
        self.log_path = directory / "exabgp.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 15.0) -> None:
        """Start ExaBGP and wait until the bridge answers on its socket."""
        self.config.write(self.conf_path)
        env = dict(os.environ)
        env.update(exabgp_environment())
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [exabgp_program(), "server", str(self.conf_path)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stop() ends the bridge with it
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SpeakerError(
                    f"exabgp exited with {self.process.returncode}: {self.log_tail()}"
                )
            if self._socket_answers():
                return
            time.sleep(0.05)
        self.stop()
        raise SpeakerError(
            f"ExaBGP's API bridge did not come up in {timeout:g} s: {self.log_tail()}"
        )

    def _socket_answers(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.config.socket_path))
            except OSError:
                return False
            return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop ExaBGP (SIGTERM, then SIGKILL to its process group) and close its log."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # a bridge left behind, if any
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(text.splitlines()[-lines:])
