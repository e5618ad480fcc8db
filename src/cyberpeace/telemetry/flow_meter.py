"""Packets into unidirectional flows, as a NetFlow/IPFIX metering process would (RFC 7011 2).

A flow key is (ip_version, src_addr, dst_addr, src_port, dst_port, protocol, icmp_type,
icmp_code); ICMP fields are zero for other protocols, ports are zero for ICMP and for later
fragments. Packets of one key are cut into flows by two timeouts, the defaults of nfdump's
``nfpcapd -e 300,60``:

- idle: a packet more than ``idle_timeout`` seconds after the previous packet of its key
  starts a new flow;
- active: a packet more than ``active_timeout`` seconds after the first packet of its flow
  starts a new flow.

A flow counts packets and IP bytes (IPv4 total length, IPv6 payload length + 40, as NetFlow
counts octets), ORs the TCP flags, keeps the lowest and highest TTL / hop limit (IPFIX minimumTTL
and maximumTTL, IE 52 and 53), and runs from its first to its last packet. All of it is
one sort of the packets by key and time, then ``np.add.reduceat``, ``bitwise_or.reduceat`` etc.
over the flow boundaries. Only the active timeout needs a loop: flows longer than the timeout
are cut one timeout at a time, each step a vectorised binary search over all such flows at
once, so the loop runs (longest flow / active timeout) times, not once per packet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.telemetry.schema import FLOW_SCHEMA, to_batch

IDLE_TIMEOUT = 60.0  # seconds
ACTIVE_TIMEOUT = 300.0
KEY_LAYOUT = (  # column, bytes: 40 bytes of key per packet, read as five 64-bit words
    ("ip_version", 1),
    ("protocol", 1),
    ("icmp_type", 1),
    ("icmp_code", 1),
    ("src_port", 2),
    ("dst_port", 2),
    ("src_addr", 16),
    ("dst_addr", 16),
)


def meter(
    columns: dict[str, NDArray[Any]],
    time_us: NDArray[np.int64],
    exporter: str,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    active_timeout: float = ACTIVE_TIMEOUT,
) -> pa.Table:
    """Flows (FLOW_SCHEMA) of the packets whose parsed headers are ``columns``."""
    n = len(time_us)
    if n == 0:
        return FLOW_SCHEMA.empty_table()
    words = _key_words(columns)
    order = np.lexsort((time_us, *words[::-1]))
    sorted_words = [w[order] for w in words]
    time = time_us[order]
    new_key = np.zeros(n, dtype=bool)
    new_key[0] = True
    for word in sorted_words:
        new_key[1:] |= word[1:] != word[:-1]
    idle = np.zeros(n, dtype=bool)
    idle[1:] = time[1:] - time[:-1] > round(idle_timeout * 1e6)
    starts = np.flatnonzero(new_key | idle)
    starts = _cut_active(time, starts, round(active_timeout * 1e6))
    packed = {name: column[order] for name, column in columns.items()}
    flows = _flow_columns(packed, time, starts)
    by_start = np.argsort(flows["start"], kind="stable")
    flows = {name: column[by_start] for name, column in flows.items()}
    return pa.Table.from_batches([to_batch(flows, exporter)])


def _key_words(columns: dict[str, NDArray[Any]]) -> list[NDArray[np.uint64]]:
    n = len(columns["src_addr"])
    key = np.zeros((n, 40), dtype=np.uint8)
    at = 0
    for name, size in KEY_LAYOUT:
        column = np.ascontiguousarray(columns[name])
        key[:, at : at + size] = column.view(np.uint8).reshape(n, size)
        at += size
    words = key.view(np.uint64)
    return [words[:, i].copy() for i in range(5)]


def _cut_active(
    time: NDArray[np.int64], starts: NDArray[np.intp], active_us: int
) -> NDArray[np.intp]:
    """Add the flow starts the active timeout makes inside each run of one key."""
    ends = np.append(starts[1:], len(time))
    cuts = [starts]
    current, end = starts, ends
    while True:
        longer = time[end - 1] - time[current] > active_us
        current, end = current[longer], end[longer]
        if not len(current):
            break
        # The first packet more than active_us after the flow's first: a binary search per flow.
        low, high, limit = current + 1, end, time[current] + active_us
        searching = low < high
        while searching.any():
            middle = (low + high) // 2
            within = time[np.minimum(middle, len(time) - 1)] <= limit
            low = np.where(searching & within, middle + 1, low)
            high = np.where(searching & ~within, middle, high)
            searching = low < high
        current = low
        cuts.append(current)
    return np.sort(np.concatenate(cuts))


def _flow_columns(
    packets: dict[str, NDArray[Any]], time: NDArray[np.int64], starts: NDArray[np.intp]
) -> dict[str, NDArray[np.generic]]:
    count = np.diff(np.append(starts, len(time)))
    flows: dict[str, NDArray[np.generic]] = {}
    for name in (
        "ip_version", "src_addr", "dst_addr", "src_port", "dst_port", "protocol", "icmp_type",
        "icmp_code",
    ):  # fmt: skip
        flows[name] = packets[name][starts]
    flows["start"] = time[starts]
    flows["end"] = time[starts + count - 1]
    flows["packets"] = count.astype(np.uint64)
    flows["bytes"] = np.add.reduceat(packets["ip_bytes"].astype(np.uint64), starts)
    flows["tcp_flags"] = np.bitwise_or.reduceat(packets["tcp_flags"], starts)
    flows["min_ttl"] = np.minimum.reduceat(packets["ttl"], starts)
    flows["max_ttl"] = np.maximum.reduceat(packets["ttl"], starts)
    return flows
