"""Where a collector listens: ``udp://HOST:PORT`` URLs, parsed strictly.

HOST is an IP address literal, IPv6 in brackets (RFC 3986 section 3.2.2: ``udp://[::1]:2055``);
names are refused, so that a sensor never listens somewhere a resolver chose. PORT is required
(0 lets the kernel choose one, as tests do). Only UDP: NetFlow v5/v9 and IPFIX over UDP
(RFC 7011 section 10.3) are what exporters send; IPFIX over TCP or SCTP is not supported.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

SCHEME = "udp://"


class ListenAddressError(ValueError):
    """A listen URL that cannot be used; says what is wrong with it."""


@dataclass(frozen=True)
class ListenAddress:
    host: str  # the address literal, without brackets
    port: int

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.family == socket.AF_INET6 else self.host
        return f"{SCHEME}{host}:{self.port}"


def parse_listen(url: str) -> ListenAddress:
    """``udp://HOST:PORT`` as a ListenAddress; ListenAddressError names what is wrong."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ListenAddressError(f"{url!r}: expected udp://HOST:PORT")
    if scheme.lower() != "udp":
        raise ListenAddressError(f"{url!r}: only udp:// is supported, not {scheme}://")
    if any(mark in rest for mark in "/?#@"):
        raise ListenAddressError(f"{url!r}: expected udp://HOST:PORT and nothing after the port")
    host, port = _split_host_port(url, rest)
    return ListenAddress(_address(url, host), parse_port(url, port))


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` (an API bind address) as (host, port)."""
    host, port = _split_host_port(text, text)
    return _address(text, host), parse_port(text, port)


def _split_host_port(url: str, rest: str) -> tuple[str, str]:
    if rest.startswith("["):
        host, bracket, after = rest[1:].partition("]")
        if not bracket:
            raise ListenAddressError(f"{url!r}: an IPv6 address needs its closing ']'")
        if not after.startswith(":"):
            raise ListenAddressError(f"{url!r}: missing port after [{host}]")
        return host, after[1:]
    host, colon, port = rest.rpartition(":")
    if not colon:
        raise ListenAddressError(f"{url!r}: missing port (HOST:PORT)")
    if ":" in host:
        raise ListenAddressError(f"{url!r}: put an IPv6 address in brackets, e.g. [::1]:2055")
    return host, port


def _address(url: str, host: str) -> str:
    if not host:
        raise ListenAddressError(f"{url!r}: missing host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ListenAddressError(
            f"{url!r}: host {host!r} is not an IP address (names are not resolved)"
        ) from None
    return str(address)


def parse_port(url: str, port: str) -> int:
    if not port:
        raise ListenAddressError(f"{url!r}: missing port")
    if not port.isascii() or not port.isdigit():
        raise ListenAddressError(f"{url!r}: port {port!r} is not a number")
    number = int(port)
    if number > 65535:
        raise ListenAddressError(f"{url!r}: port {number} is above 65535")
    return number
