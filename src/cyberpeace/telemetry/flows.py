"""The flow batch: IPv4 flow records as one numpy structured array, one column per field.

A first, simple form of the Flow schema of DESIGN.md; the NetFlow/IPFIX decoders will bring the
full Arrow schema. Field meanings follow the IPFIX information elements of RFC 7012 / the IANA
IPFIX registry: ``start``/``end`` are flowStartSeconds/flowEndSeconds with sub-second precision,
``src``/``dst`` sourceIPv4Address/destinationIPv4Address (as host-order integers),
``sport``/``dport`` source/destinationTransportPort, ``proto`` protocolIdentifier,
``tcp_flags`` tcpControlBits (the OR of the flags of every packet, as NetFlow v5 and IPFIX
exporters report them), ``packets``/``bytes`` packetDeltaCount/octetDeltaCount (IP bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

FLOW_DTYPE: Final = np.dtype(
    [
        ("start", "<f8"),  # seconds since the epoch, UTC
        ("end", "<f8"),
        ("src", "<u4"),  # IPv4 address, host order
        ("dst", "<u4"),
        ("sport", "<u2"),
        ("dport", "<u2"),
        ("proto", "u1"),
        ("tcp_flags", "u1"),
        ("packets", "<u8"),
        ("bytes", "<u8"),
    ]
)

Flows = NDArray[np.void]
"""A one-dimensional array of FLOW_DTYPE records."""

# IANA protocol numbers (https://www.iana.org/assignments/protocol-numbers).
ICMP: Final = 1
TCP: Final = 6
UDP: Final = 17

# TCP control bits, RFC 9293 section 3.1.
FIN: Final = 0x01
SYN: Final = 0x02
RST: Final = 0x04
PSH: Final = 0x08
ACK: Final = 0x10
URG: Final = 0x20


def empty_flows(n: int = 0) -> Flows:
    """``n`` zeroed flow records."""
    return np.zeros(n, dtype=FLOW_DTYPE)


def concat_flows(parts: Sequence[Flows]) -> Flows:
    """One batch holding every record of ``parts``, in order; an empty batch for no parts."""
    if not parts:
        return empty_flows()
    for part in parts:
        require_flows(part)
    return np.concatenate(parts)


def require_flows(flows: Flows) -> Flows:
    """``flows`` itself, or a TypeError saying why it is not a one-dimensional flow batch."""
    if not isinstance(flows, np.ndarray) or flows.dtype != FLOW_DTYPE:
        found = getattr(flows, "dtype", type(flows).__name__)
        raise TypeError(f"expected a numpy array of FLOW_DTYPE records, got {found}")
    if flows.ndim != 1:
        raise TypeError(f"expected a one-dimensional flow batch, got {flows.ndim} dimensions")
    return flows
