"""Telemetry: the Flow schema, its protocol constants, and the synthetic demo scenario."""

from cyberpeace.telemetry.protocols import ACK, FIN, ICMP, ICMPV6, PSH, RST, SYN, TCP, UDP, URG
from cyberpeace.telemetry.scenario import Attack, Scenario, demo_scenario

__all__ = [
    "ACK",
    "FIN",
    "ICMP",
    "ICMPV6",
    "PSH",
    "RST",
    "SYN",
    "TCP",
    "UDP",
    "URG",
    "Attack",
    "Scenario",
    "demo_scenario",
]
