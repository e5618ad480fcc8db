"""Hand-built flow records for detector tests: a few lines say exactly what each record is."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np

from cyberpeace.telemetry import FLOW_DTYPE, Flows

T0 = 1_788_000_000.0  # 2026-08-29T10:40:00Z: a whole minute, so scan windows start with it


def ip(address: str) -> int:
    return int(ipaddress.IPv4Address(address))


def records(n: int = 1, **columns: object) -> Flows:
    """``n`` records; addresses may be given as strings, everything else as numbers or arrays.

    Defaults: a one-packet, 100-byte UDP record from 192.0.2.1:40000 to 198.18.1.1:53 at T0.
    """
    flows = np.zeros(n, dtype=FLOW_DTYPE)
    defaults: dict[str, object] = {
        "start": T0,
        "src": "192.0.2.1",
        "dst": "198.18.1.1",
        "sport": 40_000,
        "dport": 53,
        "proto": 17,
        "packets": 1,
        "bytes": 100,
    }
    for name, value in {**defaults, **columns}.items():
        flows[name] = _addresses(value) if name in ("src", "dst") else value
    if "end" not in columns:
        flows["end"] = flows["start"]
    return flows


def _addresses(value: object) -> object:
    if isinstance(value, str):
        return ip(value)
    if isinstance(value, Sequence) and value and isinstance(value[0], str):
        return np.array([ip(a) for a in value], dtype=np.uint32)
    return value


def hosts(network: str, count: int, first: int = 1) -> np.ndarray:
    """``count`` consecutive host addresses of ``network`` from its ``first``-th address on."""
    base = int(ipaddress.IPv4Network(network).network_address)
    return np.arange(base + first, base + first + count, dtype=np.uint32)
