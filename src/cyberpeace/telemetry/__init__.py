"""Telemetry: the flow batch and the synthetic demo scenario."""

from cyberpeace.telemetry.flows import (
    ACK,
    FIN,
    FLOW_DTYPE,
    ICMP,
    PSH,
    RST,
    SYN,
    TCP,
    UDP,
    URG,
    Flows,
    concat_flows,
    empty_flows,
    require_flows,
)
from cyberpeace.telemetry.scenario import Attack, Scenario, demo_scenario

__all__ = [
    "ACK",
    "FIN",
    "FLOW_DTYPE",
    "ICMP",
    "PSH",
    "RST",
    "SYN",
    "TCP",
    "UDP",
    "URG",
    "Attack",
    "Flows",
    "Scenario",
    "concat_flows",
    "demo_scenario",
    "empty_flows",
    "require_flows",
]
