"""How much of the target's legitimate traffic an action would catch, from the baseline.

The baseline is the target's flows before the attack began (Flow schema, ``telemetry/schema``);
the estimate is the share of its bytes to the target that the action's match would also match.
Columnar: one pass of Arrow compute kernels over the table, no loop per flow.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cyberpeace.telemetry.schema import V4_MAPPED_PREFIX

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58}


def packed(address: str) -> bytes:
    """An address as the Flow schema stores it: 16 bytes, IPv4 mapped (RFC 4291 2.5.5.2)."""
    parsed = ipaddress.ip_address(address)
    return V4_MAPPED_PREFIX + parsed.packed if parsed.version == 4 else parsed.packed


def legitimate_share(
    baseline: pa.Table | None, destination: str, parameters: Mapping[str, Any], seen: list[str]
) -> float | None:
    """Share of the baseline bytes to ``destination`` that the match would drop (None: unknown).

    ``seen`` are the attack's source addresses; a source match catches the baseline traffic of
    exactly those addresses (prefixes the planner folded hold only seen addresses).
    """
    if baseline is None or baseline.num_rows == 0 or "/" in destination:
        return None
    to_target = pc.equal(baseline["dst_addr"], pa.scalar(packed(destination), pa.binary(16)))
    total = pc.sum(pc.if_else(to_target, baseline["bytes"], 0)).as_py() or 0
    if total == 0:
        return None
    mask = to_target
    if parameters.get("match") == "sources" or parameters.get("sources"):
        values = pa.array([packed(a) for a in seen], pa.binary(16))
        mask = pc.and_(mask, pc.is_in(baseline["src_addr"], value_set=values))
    protocol = parameters.get("protocol")
    if protocol:
        number = PROTOCOL_NUMBERS[str(protocol)]
        mask = pc.and_(mask, pc.equal(baseline["protocol"], pa.scalar(number, pa.uint8())))
    ports = parameters.get("source_ports")
    if ports:
        port_set = pa.array([int(p) for p in ports], pa.uint16())
        mask = pc.and_(mask, pc.is_in(baseline["src_port"], value_set=port_set))
    length = parameters.get("packet_length")
    if length:
        size = pc.divide(
            pc.cast(baseline["bytes"], pa.float64()), pc.max_element_wise(baseline["packets"], 1)
        )
        mask = pc.and_(mask, pc.greater_equal(size, float(length["min"])))
    caught = pc.sum(pc.if_else(mask, baseline["bytes"], 0)).as_py() or 0
    return float(caught) / float(total)
