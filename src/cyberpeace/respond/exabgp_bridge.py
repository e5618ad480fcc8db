"""The ExaBGP API process that carries our commands: a local Unix socket in, ExaBGP's pipe out.

ExaBGP starts this script as an ``api`` process (see ``exabgp_config``): whatever it writes on
stdout is an API command, and with ``exabgp.api.ack`` on (the default) ExaBGP answers each
command on our stdin with its output lines followed by ``done`` or ``error``. The script
listens on a Unix socket (mode 0600) and, for each line a client sends, forwards it to ExaBGP
and returns the answer, ending with the ``done``/``error`` line. One command at a time, so an
answer always belongs to the command before it.

When ExaBGP exits it closes our stdin; the script then removes its socket and exits, so a
client finds no listener and can say that ExaBGP is down. We chose this over ExaBGP's named
pipe CLI (``exabgp cli``) because the CLI has no structured end-of-answer for callers, times
out after five seconds per command and finds its pipes by scanning /run.

Run by ExaBGP as ``python -m cyberpeace.respond.exabgp_bridge --socket PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import signal
import socket
import sys
from pathlib import Path

ANSWER_ENDS = frozenset({"done", "error", "shutdown"})
MAX_LINE = 64 * 1024
ANSWER_TIMEOUT = 10.0


class ExaBgpGone(Exception):
    """ExaBGP closed our stdin: it is stopping."""


class Bridge:
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.pending = b""  # bytes from ExaBGP not yet consumed
        self.listener = self._listen()

    def _listen(self) -> socket.socket:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a stale socket of a previous run
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(str(self.socket_path))
        finally:
            os.umask(old)
        listener.listen(8)
        return listener

    def serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ, "client")
        selector.register(sys.stdin.buffer, selectors.EVENT_READ, "exabgp")
        try:
            while True:
                for key, _ in selector.select():
                    if key.data == "exabgp":
                        self._read_exabgp()  # unsolicited output: dropped, EOF stops us
                        self.pending = b""
                    else:
                        client, _ = self.listener.accept()
                        with client:
                            self._serve_client(client)
        except ExaBgpGone:
            return
        finally:
            self.listener.close()
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()

    def _read_exabgp(self) -> None:
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            raise ExaBgpGone
        self.pending += chunk

    def _serve_client(self, client: socket.socket) -> None:
        client.settimeout(ANSWER_TIMEOUT)
        buffered = b""
        while True:
            try:
                chunk = client.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffered += chunk
            if len(buffered) > MAX_LINE and b"\n" not in buffered:
                client.sendall(b"error: command too long\n")
                return
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                command = line.decode("ascii", "replace").strip()
                if "\n" in command or not command:
                    continue
                answer = self._forward(command)
                try:
                    client.sendall(answer)
                except OSError:
                    return

    def _forward(self, command: str) -> bytes:
        sys.stdout.write(command + "\n")
        sys.stdout.flush()
        lines: list[bytes] = []
        selector = selectors.DefaultSelector()
        selector.register(sys.stdin.buffer, selectors.EVENT_READ)
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                lines.append(line + b"\n")
                if line.strip().decode("ascii", "replace") in ANSWER_ENDS:
                    return b"".join(lines)
            if not selector.select(ANSWER_TIMEOUT):
                return b"".join(lines) + b"timeout\n"
            self._read_exabgp()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, type=Path, help="Unix socket to listen on")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)  # ExaBGP ends its helpers with SIGTERM
    Bridge(args.socket).serve()


def _stop(signum: int, frame: object) -> None:
    raise ExaBgpGone


if __name__ == "__main__":
    main()
