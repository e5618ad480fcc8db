"""One UDP listener: a thread that only reads datagrams and hands them on in bursts.

The loop does nothing but ``recvfrom`` on a non-blocking socket and append to a list, so that
the kernel's socket buffer (made large: SO_RCVBUFFORCE, else SO_RCVBUF up to net.core.rmem_max)
is emptied as fast as Python can. A burst is handed to the decoder when it holds
``max_datagrams``, when ``interval`` has passed since its first datagram, or when a flush asks;
if the decoder's channel is full the whole burst is dropped and counted, never waited for.

Datagrams the kernel itself dropped (buffer full) are read from SO_MEMINFO (Linux 4.6,
``sk_drops``, for the whole socket at once and at no cost per datagram), else from the
``drops`` column of /proc/net/udp and udp6 for the socket's inode.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberpeace.telemetry.channel import Channel
from cyberpeace.telemetry.listen import ListenAddress

log = logging.getLogger(__name__)

MAX_DATAGRAM = 65535
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux, needs CAP_NET_ADMIN
SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)  # Linux 4.6: struct of SK_MEMINFO_VARS u32
SK_MEMINFO_DROPS = 8
SK_MEMINFO_VARS = 9


@dataclass
class Burst:
    """Datagrams as ``recvfrom`` returned them: (payload, source address tuple)."""

    datagrams: list[tuple[bytes, Any]]
    received_us: int  # UNIX microseconds when the burst was handed on


class Receiver:
    """Reads one socket in its own thread; see the module docstring."""

    def __init__(
        self,
        address: ListenAddress,
        out: Channel[Burst],
        *,
        interval: float,
        max_datagrams: int,
        receive_buffer: int,
        on_drop: Callable[[Burst], None],
    ) -> None:
        self.listen = address
        self.socket = open_socket(address, receive_buffer)
        self.address: tuple[str, int] = self.socket.getsockname()[:2]
        self.receive_buffer = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self._out = out
        self._interval = interval
        self._max = max_datagrams
        self._on_drop = on_drop
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._markers: deque[object] = deque()
        self._pending = False  # a flush or stop asked for; looked at once per datagram
        self._stopping = False
        self._drops_at_close = 0
        self.thread = threading.Thread(target=self._run, name=f"receive {address}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def request_flush(self, marker: object) -> None:
        """Hand on everything received (and waiting in the socket), then ``marker``."""
        self._markers.append(marker)
        self._pending = True
        self._wake()

    def request_stop(self) -> None:
        self._stopping = True
        self._pending = True
        self._wake()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def close(self) -> None:
        if self.socket.fileno() < 0:  # closed already (its pipe too: never close an fd twice)
            return
        self._drops_at_close = self.kernel_drops()
        self.socket.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def kernel_drops(self) -> int:
        """Datagrams the kernel dropped on this socket since it was opened."""
        if self.socket.fileno() < 0:
            return self._drops_at_close
        try:
            info = self.socket.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * SK_MEMINFO_VARS)
            return int(struct.unpack(f"{SK_MEMINFO_VARS}I", info)[SK_MEMINFO_DROPS])
        except OSError:
            return proc_net_udp_drops(os.fstat(self.socket.fileno()).st_ino)

    def _wake(self) -> None:
        if self.socket.fileno() < 0:  # closed: the pipe's numbers may belong to others now
            return
        with contextlib.suppress(OSError):  # the pipe is full: woken already
            os.write(self._wake_write, b"!")

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # a bug must be seen, and must not hang flush() forever
            log.exception("receiver on %s stopped by an internal error", self.listen)
            while self._markers:
                self._out.control(self._markers.popleft())

    def _loop(self) -> None:
        recv = self.socket.recvfrom
        clock = time.monotonic
        poller = select.poll()
        poller.register(self.socket, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        burst: list[tuple[bytes, Any]] = []
        deadline = math.inf
        while True:
            try:
                item = recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                if self._pending:
                    burst = self._serve_requests(burst)
                    if self._stopping:
                        return
                    continue
                wait = deadline - clock()
                if burst and wait <= 0:
                    burst, deadline = self._hand_off(burst), math.inf
                    continue
                poller.poll(None if not burst else math.ceil(wait * 1000))
                continue
            if not burst:
                deadline = clock() + self._interval
            burst.append(item)
            if self._pending:
                burst = self._serve_requests(burst)
                deadline = math.inf
                if self._stopping:
                    return
            elif len(burst) >= self._max or clock() >= deadline:
                burst, deadline = self._hand_off(burst), math.inf

    def _serve_requests(self, burst: list[tuple[bytes, Any]]) -> list[tuple[bytes, Any]]:
        """Read what the socket holds, hand it all on, then the flush markers."""
        self._pending = False
        asked = len(self._markers)  # markers added from here on wait for the next round
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass
        if len(burst) >= self._max:  # bursts never exceed max_datagrams
            burst = self._hand_off(burst)
        while True:
            try:
                burst.append(self.socket.recvfrom(MAX_DATAGRAM))
            except (BlockingIOError, InterruptedError):
                break
            if len(burst) >= self._max:
                burst = self._hand_off(burst)
        if burst:
            burst = self._hand_off(burst)
        for _ in range(asked):
            self._out.control(self._markers.popleft())
        return burst

    def _hand_off(self, datagrams: list[tuple[bytes, Any]]) -> list[tuple[bytes, Any]]:
        burst = Burst(datagrams, time.time_ns() // 1000)
        if not self._out.offer(burst):
            self._on_drop(burst)
        return []


def open_socket(address: ListenAddress, receive_buffer: int) -> socket.socket:
    """A bound, non-blocking UDP socket with a receive buffer as large as allowed."""
    sock = socket.socket(address.family, socket.SOCK_DGRAM)
    try:
        if address.family == socket.AF_INET6:  # [::] means IPv6 only; listen on 0.0.0.0 too
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        set_receive_buffer(sock, receive_buffer)
        sock.bind((address.host, address.port))
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise OSError(error.errno, f"cannot listen on {address}: {error.strerror}") from None
    return sock


def set_receive_buffer(sock: socket.socket, size: int) -> int:
    """Ask for ``size`` octets (beyond rmem_max when privileged); return what was granted."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    granted = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    if granted < size:  # Linux reports twice the size set; less than asked means capped
        log.warning(
            "receive buffer is %d octets, not %d: raise net.core.rmem_max or run as root",
            granted,
            size,
        )
    return granted


def proc_net_udp_drops(inode: int) -> int:
    """The ``drops`` column of the socket with this inode in /proc/net/udp or udp6."""
    for table in (Path("/proc/net/udp"), Path("/proc/net/udp6")):
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) >= 13 and fields[9] == str(inode):
                return int(fields[12])
    return 0
