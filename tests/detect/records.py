"""Hand-built flow records (FLOW_SCHEMA) for detector tests: a few lines say what each one is."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from cyberpeace.detect.flows import read_flows
from cyberpeace.detect.intake import Batch
from cyberpeace.telemetry.schema import V4_MAPPED_PREFIX, to_batch, v4_mapped

T0 = 1_788_000_000.0  # 2026-08-29T10:40:00Z: a whole minute, so scan windows start with it
NOW = T0 + 2 * 86_400.0  # when the tests' records are taken in

# Short names the tests use for FLOW_SCHEMA columns.
_ALIASES = {"sport": "src_port", "dport": "dst_port", "proto": "protocol"}


def ip(address: str) -> int:
    return int(ipaddress.IPv4Address(address))


def packed(addresses: object, n: int) -> np.ndarray:
    """Addresses (text, a list of text, or host-order IPv4 integers) as 16-byte ones."""
    if isinstance(addresses, str):
        addresses = [addresses] * n
    if isinstance(addresses, Sequence) and addresses and isinstance(addresses[0], str):
        return np.array([_packed(a) for a in addresses], dtype="S16")
    values = np.broadcast_to(np.asarray(addresses, dtype=np.uint32), (n,))
    return v4_mapped(values)


def _packed(address: str) -> bytes:
    parsed = ipaddress.ip_address(address)
    if parsed.version == 4:
        return v4_mapped(np.array([int(parsed)], dtype=np.uint32))[0]
    return parsed.packed


def records(n: int = 1, **columns: object) -> pa.Table:
    """``n`` records; addresses may be given as text (IPv4 or IPv6), everything else as numbers
    or arrays; ``start``/``end`` in float seconds.

    Defaults: a one-packet, 100-byte UDP record from 192.0.2.1:40000 to 198.18.1.1:53 at T0.
    """
    given = {_ALIASES.get(name, name): value for name, value in columns.items()}
    values: dict[str, object] = {
        "start": T0,
        "src": "192.0.2.1",
        "dst": "198.18.1.1",
        "src_port": 40_000,
        "dst_port": 53,
        "protocol": 17,
        "packets": 1,
        "bytes": 100,
        **given,
    }
    values.setdefault("end", values["start"])
    out: dict[str, np.ndarray] = {}
    for name, value in values.items():
        if name in ("src", "dst"):
            out[f"{name}_addr"] = packed(value, n)
        elif name in ("start", "end"):
            seconds = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
            out[name] = np.round(seconds * 1e6).astype(np.int64)
        else:
            out[name] = np.broadcast_to(np.asarray(value), (n,)).copy()
    mapped = [a.startswith(V4_MAPPED_PREFIX) for a in out["src_addr"].tolist()]
    out["ip_version"] = np.where(np.array(mapped, dtype=np.bool_), 4, 6).astype(np.uint8)
    return pa.Table.from_batches([to_batch(out, "test")])


def join(*parts: pa.Table) -> pa.Table:
    return pa.concat_tables(parts)


def hosts(network: str, count: int, first: int = 1) -> list[str]:
    """``count`` consecutive host addresses of ``network`` from its ``first``-th address on."""
    net = ipaddress.ip_network(network)
    base = net.network_address
    return [str(base + first + i) for i in range(count)]


def batch_of(flows: pa.Table) -> Batch:
    """The batch the detectors would read (no records refused)."""
    return Batch(read_flows(flows)[0])
