"""The IPFIX Information Elements the template decoders understand, read from a data file.

The table (``data/information_elements.yaml``) gives each element's number and name from the IANA
registry (RFC 7012 section 4), its abstract data type (RFC 7012 section 3.1) and its ``role``:
the Flow schema column or decoding purpose it serves. NetFlow v9 field types share the numbers
of the common elements (RFC 3954 section 8), so the same table serves both protocols.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

# Abstract data types (RFC 7012 section 3.1) and the field lengths each may be sent with.
# Unsigned integers may use reduced-size encoding (RFC 7011 section 6.2): any length up to 8.
UNSIGNED_TYPES = frozenset({"unsigned8", "unsigned16", "unsigned32", "unsigned64"})
FIXED_LENGTHS: Mapping[str, frozenset[int]] = {
    "ipv4Address": frozenset({4}),
    "ipv6Address": frozenset({16}),
    "dateTimeSeconds": frozenset({4}),
    "dateTimeMilliseconds": frozenset({8}),
    "dateTimeMicroseconds": frozenset({8}),
    "dateTimeNanoseconds": frozenset({8}),
}
UNSIGNED_LENGTHS = frozenset(range(1, 9))

COLUMN_ROLES = frozenset(
    {
        "bytes",
        "packets",
        "protocol",
        "tcp_flags",
        "src_port",
        "dst_port",
        "src_addr",
        "dst_addr",
        "next_hop",
        "input_if",
        "output_if",
        "src_as",
        "dst_as",
        "direction",
        "icmp_type",
        "icmp_code",
        "ip_version",
        "min_ttl",
        "max_ttl",
    }
)
OTHER_ROLES = frozenset(
    {
        "icmp_type_code",
        "start",
        "end",
        "duration_ms",
        "duration_us",
        "sampler_id",
        "sampling_interval",
        "sampling_packet_interval",
        "sampling_packet_space",
        "sampling_size",
        "sampling_population",
        "system_init",
    }
)
TIME_FORMS = frozenset({"uptime_ms", "seconds", "milliseconds", "ntp", "delta_us"})


@dataclass(frozen=True, slots=True)
class InformationElement:
    """One IANA Information Element and what the decoders make of it."""

    number: int
    name: str
    data_type: str
    role: str | None
    rank: int = 1
    time: str | None = None  # for start/end roles: the form of the time value
    lengths: frozenset[int] | None = None  # the only lengths accepted, where the table says

    def accepts_length(self, length: int) -> bool:
        """Whether a template may carry this element with ``length`` octets."""
        if self.lengths is not None:
            return length in self.lengths
        if self.data_type in UNSIGNED_TYPES:
            return length in UNSIGNED_LENGTHS
        allowed = FIXED_LENGTHS.get(self.data_type)
        return allowed is None or length in allowed


@cache
def information_elements() -> Mapping[int, InformationElement]:
    """The elements of ``data/information_elements.yaml`` by number, read and checked once."""
    text = (
        resources.files("cyberpeace.telemetry")
        .joinpath("data/information_elements.yaml")
        .read_text("utf-8")
    )
    elements = [_element(raw) for raw in yaml.safe_load(text)["elements"]]
    return {element.number: element for element in elements}


def _element(raw: dict[str, Any]) -> InformationElement:
    element = InformationElement(
        number=int(raw["number"]),
        name=str(raw["name"]),
        data_type=str(raw["type"]),
        role=raw.get("role"),
        rank=int(raw.get("rank", 1)),
        time=raw.get("time"),
        lengths=frozenset(int(n) for n in raw["lengths"]) if "lengths" in raw else None,
    )
    if element.role is not None and element.role not in COLUMN_ROLES | OTHER_ROLES:
        raise ValueError(f"information element {element.number}: unknown role {element.role!r}")
    if (element.role in ("start", "end")) != (element.time is not None):
        raise ValueError(f"information element {element.number}: start/end roles need a time")
    if element.time is not None and element.time not in TIME_FORMS:
        raise ValueError(f"information element {element.number}: unknown time {element.time!r}")
    return element
